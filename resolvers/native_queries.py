"""Provider-native list arguments (the per-provider GraphQL fields' filters and sorts),
validated and turned into the exact upstream query parameters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from resolvers.errors import BadUserInput
from resolvers.providers.base import ListQuery

ORANGE_SORT = re.compile(r"^-?[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*$")
METAFOLD_SORT = re.compile(r"^(id|name|created|started|finished):(1|-1)$")
MODELARTS_SEARCH_MAX = 64
MAX_QUERY_CHARS = 1000


class OrangeJobState(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


class ModelArtsSortField(StrEnum):
    JOB_NAME = "job_name"
    JOB_DESC = "job_desc"
    STATUS = "status"
    DURATION = "duration"
    VERSION_COUNT = "version_count"
    CREATE_TIME = "create_time"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


def orange_query(
    project: str, states: Sequence[OrangeJobState] | None, sort: str | None
) -> ListQuery:
    params: list[tuple[str, str]] = [("state", s.value) for s in sorted(set(states or ()))]
    if sort is not None:
        if len(sort) > 100 or not ORANGE_SORT.match(sort):
            raise BadUserInput(
                "`sort` must be a comma list of field names, `-` for descending, "
                "at most 100 characters (e.g. -createdDate)"
            )
        params.append(("sort", sort))
    return ListQuery(project, tuple(params))


def metafold_query(project: str, q: str | None, sort: str | None) -> ListQuery:
    params: list[tuple[str, str]] = []
    if q is not None:
        if len(q) > MAX_QUERY_CHARS:
            raise BadUserInput(f"`q` is longer than {MAX_QUERY_CHARS} characters")
        params.append(("q", q))
    if sort is not None:
        if not METAFOLD_SORT.match(sort):
            raise BadUserInput(
                "`sort` must be field:order with field one of id, name, created, started, "
                "finished and order 1 or -1"
            )
        params.append(("sort", sort))
    return ListQuery(project, tuple(params))


def modelarts_query(
    project: str,
    *,
    status: int | None,
    search: str | None,
    sort_by: ModelArtsSortField | None,
    order: SortOrder | None,
    workspace_id: str | None,
) -> ListQuery:
    params: list[tuple[str, str]] = []
    if status is not None:
        if not 0 <= status <= 1000:
            raise BadUserInput("`status` must be a ModelArts job status code")
        params.append(("status", str(status)))
    if search is not None:
        if len(search) > MODELARTS_SEARCH_MAX:
            raise BadUserInput(f"`search` must be at most {MODELARTS_SEARCH_MAX} characters")
        params.append(("search_content", search))
    if sort_by is not None:
        params.append(("sortBy", sort_by.value))
    if order is not None:
        params.append(("order", order.value))
    if workspace_id is not None:
        if not workspace_id or len(workspace_id) > 64:
            raise BadUserInput("`workspaceId` must be 1 to 64 characters")
        params.append(("workspace_id", workspace_id))
    return ListQuery(project, tuple(params))
