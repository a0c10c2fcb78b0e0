"""The provider-neutral GraphQL types: Node, Job, connections, failures, sources."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import strawberry
from strawberry.types import get_object_definition

from graph.ids import JobKey, decode_global_id, encode_global_id
from resolvers.domain import Job as DomainJob
from resolvers.domain import JobStatus, Provider
from resolvers.loaders import JobRef, operation_loader
from resolvers.providers import registry

if TYPE_CHECKING:
    from graph.context import RequestContext

# The domain enums are the GraphQL enums: their member names are the GraphQL values.
for _enum in (Provider, JobStatus):
    strawberry.enum(_enum)


@strawberry.enum
class JobOrder(StrEnum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


_UNPROJECTED = ", ".join(row.key for row in registry.PROVIDERS if not row.has_projects)
_PROJECT_ID_DOC = "Null where the provider has no projects" + (
    f" ({_UNPROJECTED})." if _UNPROJECTED else "."
)
_STATUSLESS = ", ".join(row.key for row in registry.PROVIDERS if not row.reports_status)
_RAW_STATUS_DOC = "The provider's own status value, as a string" + (
    f" (null for {_STATUSLESS})." if _STATUSLESS else "."
)


@strawberry.federation.interface(
    keys=["id"], description="A job on any platform; each provider has its own type."
)
class Job(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque global id; `node(id:)` and `job(id:)` resolve it."
    )
    provider: Provider
    source: str = strawberry.field(description="Name of the configured source it came from.")
    project_id: str | None = strawberry.field(description=_PROJECT_ID_DOC)
    native_id: str = strawberry.field(description="The provider's own id, as a string.")
    name: str | None
    status: JobStatus = strawberry.field(description="Normalized status.")
    raw_status: str | None = strawberry.field(description=_RAW_STATUS_DOC)
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None = strawberry.field(
        description="Finished minus started, or the provider's own figure."
    )
    error_message: str | None

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[RequestContext, None], id: strawberry.ID
    ) -> Job | None:
        """A federation entity (`Job` or a provider type) by key: the same DataLoader and
        access check as `node`; null when the id is a job of another type."""
        job = await load_job(info.context, id)
        return job if isinstance(job, cls) else None


JobTypeT = TypeVar("JobTypeT", bound=type[Job])
JobT = TypeVar("JobT", bound=Job)

# Each provider's GraphQL type, by provider: filled by `job_type` as those types are defined.
_JOB_TYPES: dict[Provider, type[Job]] = {}


def job_type(provider: Provider) -> Callable[[JobTypeT], JobTypeT]:
    """Registers a provider's GraphQL type as the one its jobs become."""

    def register(cls: JobTypeT) -> JobTypeT:
        _JOB_TYPES[provider] = cls
        return cls

    return register


def job_type_of(provider: Provider) -> type[Job]:
    """The GraphQL type a provider's jobs become (its graph module registered it)."""
    return _JOB_TYPES[provider]


def to_graphql(job: DomainJob) -> Job:
    """The provider's GraphQL type for a domain job."""
    return _JOB_TYPES[job.provider].from_job(job)  # type: ignore[attr-defined, no-any-return]


# The `Job` interface's fields, shared by every provider type, as the domain job names them.
_COMMON = (
    "id",
    "provider",
    "source",
    "project_id",
    "native_id",
    "name",
    "status",
    "raw_status",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "error_message",
)


def global_id(job: DomainJob) -> strawberry.ID:
    return strawberry.ID(encode_global_id(JobKey(job.source, job.project_id, job.native_id)))


@functools.cache
def _copied_fields(cls: type) -> frozenset[str]:
    """A Strawberry type's data fields (no resolvers), less the `Job` interface's on a job
    type."""
    definition = get_object_definition(cls, strict=True)
    own = {f.python_name for f in definition.fields if f.base_resolver is None}
    if cls is not Job and issubclass(cls, Job):
        own -= _copied_fields(Job)
    return frozenset(own)


def _compiled(names: tuple[str, ...], head: str, call: str, first: str = "", **scope: Any) -> Any:
    """`def read(<head>): return <call>(<first>, name=p.name, ..., **given)`: the payload's
    fields read as plain attribute loads, the way `dataclasses` writes `__init__` (the hot path
    builds every job through one of these)."""
    assert all(name.isidentifier() for name in names)
    arguments = [*([first] if first else []), *(f"{n}=p.{n}" for n in names), "**given"]
    source = f"def read({head}):\n    return {call}({', '.join(arguments)})\n"
    exec(compile(source, f"<copied fields {call}>", "exec"), scope)
    return scope["read"]


def _read_names(cls: type, given: tuple[str, ...]) -> tuple[str, ...]:
    """`cls`'s own fields that are read from the payload: all but `given` (each of which
    must be one of them)."""
    unknown = set(given) - _copied_fields(cls)
    assert not unknown, f"{cls.__name__} has no field {', '.join(sorted(unknown))}"
    return tuple(sorted(_copied_fields(cls) - set(given)))


@functools.cache
def _reader(cls: type, given: tuple[str, ...]) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    """Reads `cls`'s own fields but `given` from a payload, and adds `given`."""
    names = _read_names(cls, given)
    read: Callable[[Any, dict[str, Any]], dict[str, Any]] = _compiled(names, "p, given", "dict")
    return read


@functools.cache
def _builder(cls: type, given: tuple[str, ...]) -> Callable[..., Any]:
    """Builds a `cls` from the `Job` fields, a payload's own fields and `given`."""
    names = _read_names(cls, given)
    common = ", ".join(
        "id=_global_id(job)" if name == "id" else f"{name}=job.{name}" for name in _COMMON
    )
    build: Callable[..., Any] = _compiled(
        names, "cls, job, p, given", "cls", first=common, _global_id=global_id
    )
    return build


def copied(cls: type, payload: Any, **given: Any) -> dict[str, Any]:
    """`cls`'s own fields, each read from the payload attribute of the same name unless
    `given`: a provider's field list is written once, on its Strawberry type."""
    return _reader(cls, tuple(given))(payload, given)


def from_payload(cls: type[JobT], job: DomainJob, **given: Any) -> JobT:
    """A provider's GraphQL job: the `Job` fields from the domain job, its own fields copied
    from the job's payload (`given` ones converted by the caller)."""
    built: JobT = _builder(cast(type, cls), tuple(given))(cls, job, job.payload, given)
    return built


async def load_job(ctx: RequestContext, global_id: str) -> Job | None:
    """A job by global id, through the operation's DataLoader; access is checked first."""
    key = decode_global_id(global_id)
    adapter = ctx.services.adapters.get(key.source) if ctx.principal.may_read(key.source) else None
    ctx.check_source(key.source)
    assert adapter is not None
    project = adapter.check_project(key.project)
    loader = operation_loader(ctx.cache, ctx.services.adapters, ctx.http)
    job = await loader.load(JobRef(key.source, project, key.native_id))
    return None if job is None else to_graphql(job)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A source that could not answer; also reported in `errors`.")
class SourceFailure:
    source: str
    provider: Provider
    code: str
    message: str


@strawberry.type(description="A page cursor for numbered-page navigation.")
class PageCursor:
    cursor: str = strawberry.field(description="Pass as `after` to land on this page.")
    page: int
    is_current: bool


@strawberry.type(description="Cursors to jump straight to numbered pages.")
class PageCursors:
    first: PageCursor | None
    around: list[PageCursor]
    last: PageCursor | None
    previous: PageCursor | None


@strawberry.type(description="A configured source.")
class SourceInfo:
    name: str
    provider: Provider
    projects: list[str]
    healthy: bool


N = TypeVar("N")


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    """A Relay page. `totalCount` and `pageCursors` are computed only when selected."""

    edges: list[Edge[N]]
    page_info: PageInfo
    failures: list[SourceFailure]
    count_total: strawberry.Private[Callable[[], Awaitable[int | None]]]
    page_cursors_for: strawberry.Private[Callable[[int], Awaitable[PageCursors | None]]]

    @strawberry.field
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Null where it cannot be known without a full scan.")
    async def total_count(self) -> int | None:
        return await self.count_total()

    @strawberry.field(description="Cursors for the first, last and nearby numbered pages.")
    async def page_cursors(self, page_size: int) -> PageCursors | None:
        return await self.page_cursors_for(page_size)
