"""GraphQL input types, each turned into its provider-neutral spec."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from resolvers.domain import JobFilterSpec, JobStatus, Provider
from resolvers.errors import BadUserInput

MAX_SEARCH_CHARS = 200


def _aware(value: datetime | None) -> datetime | None:
    # A time without an offset means UTC, as it does for the upstreams.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@strawberry.input(description="Which jobs a federated listing keeps; every part must hold.")
class JobFilter:
    status: list[JobStatus] | None = strawberry.field(
        default=None, description="Any of these normalized statuses."
    )
    providers: list[Provider] | None = strawberry.field(
        default=None, description="Only sources of these providers."
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the job's name."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created strictly after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created strictly before this time."
    )

    def to_spec(self) -> JobFilterSpec:
        if self.search is not None and len(self.search) > MAX_SEARCH_CHARS:
            raise BadUserInput(f"`search` must be at most {MAX_SEARCH_CHARS} characters")
        return JobFilterSpec(
            statuses=None if self.status is None else frozenset(self.status),
            providers=None if self.providers is None else frozenset(self.providers),
            search=self.search or None,
            created_after=_aware(self.created_after),
            created_before=_aware(self.created_before),
        )
