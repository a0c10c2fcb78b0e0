"""Provider-neutral job records: what every adapter produces and the graph layer consumes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from resolvers.providers.registry import PROVIDERS

_PROVIDER_DOC = (
    f'The upstream platforms; values are the config spelling (`provider = "{PROVIDERS[0].name}"`).'
)

if TYPE_CHECKING:
    # Its members come from the registry: code reaches them by value, `Provider("<name>")`.
    class Provider(StrEnum):
        """The upstream platforms; values are the config spelling."""

else:
    Provider = StrEnum("Provider", [(row.key, row.name) for row in PROVIDERS], module=__name__)
    Provider.__doc__ = _PROVIDER_DOC


class JobStatus(StrEnum):
    """The normalized job status shared by every provider."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"


# A job's payload model: `Job[<its payload model>]` where the provider is known, `Job` elsewhere.
P = TypeVar("P", default=Any, covariant=True)


@dataclass(frozen=True, slots=True)
class Job(Generic[P]):
    """One upstream job, normalized; `payload` is the provider's parsed pydantic model."""

    provider: Provider
    source: str
    project_id: str | None
    native_id: str
    name: str | None
    status: JobStatus
    raw_status: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error_message: str | None
    payload: P


def duration_between(started: datetime | None, finished: datetime | None) -> float | None:
    """Seconds from start to finish, or None when either end is unknown."""
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


class CreatedOrder(StrEnum):
    """Order of a federated listing by creation time."""

    DESC = "desc"
    ASC = "asc"


@dataclass(frozen=True, slots=True)
class JobFilterSpec:
    """The provider-neutral `JobFilter`; `matches` is the local reference semantics."""

    statuses: frozenset[JobStatus] | None = None
    providers: frozenset[Provider] | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def matches(self, job: Job) -> bool:
        if self.statuses is not None and job.status not in self.statuses:
            return False
        if self.providers is not None and job.provider not in self.providers:
            return False
        if self.search is not None and self.search.casefold() not in (job.name or "").casefold():
            return False
        if self.created_after is not None and (
            job.created_at is None or job.created_at <= self.created_after
        ):
            return False
        return not (
            self.created_before is not None
            and (job.created_at is None or job.created_at >= self.created_before)
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(moment: datetime | None) -> int | None:
    """Microseconds since the epoch (None stays None)."""
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


def micros_key(micros: int | None, order: CreatedOrder) -> tuple[int, int]:
    """A creation time (epoch microseconds) as a key ascending in `order`, missing last."""
    if micros is None:
        return (1, 0)
    return (0, -micros if order is CreatedOrder.DESC else micros)


def time_key(created: datetime | None, order: CreatedOrder) -> tuple[int, int]:
    """The creation-time part of every sort key: ascending in the listing's order, None last."""
    return micros_key(epoch_micros(created), order)
