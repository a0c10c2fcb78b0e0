"""The federated `jobs` field: every readable (source, project) merged by creation time.

The merge itself lives in `resolvers.merge`; this module only turns GraphQL arguments into a
plan and marks, and a merged page into a `JobConnection` with signed cursors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info

from graph.context import RequestContext
from graph.cursors import binding_of
from graph.schema.connections import PAGE_FIELDS, page_cursors, run_once
from graph.schema.inputs import JobFilter
from graph.schema.relay import RelayArgs
from graph.schema.selection import selected_names
from graph.schema.types import (
    Connection,
    Edge,
    Job,
    JobOrder,
    PageCursors,
    PageInfo,
    SourceFailure,
    to_graphql,
)
from resolvers.config import SourceConfig
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.loaders import JobRef, operation_loader
from resolvers.merge import (
    Boundary,
    JobMerge,
    Mark,
    MergeArgs,
    MergedPage,
    OffsetMark,
    StreamFailure,
    mark_from_position,
    mark_position,
    plan_streams,
)


def selected_sources(ctx: RequestContext, names: Sequence[str] | None) -> list[SourceConfig]:
    """The readable sources in config order, narrowed to `names` (each checked for access)."""
    if names is None:
        return ctx.readable_sources()
    wanted = {ctx.check_source(name).name for name in names}
    return [source for source in ctx.readable_sources() if source.name in wanted]


class _FailureReport:
    """Failures of one `jobs` field: listed in `failures` and reported once in `errors`."""

    def __init__(self, ctx: RequestContext, path: tuple[str | int, ...]) -> None:
        self.ctx = ctx
        self.path = path
        self.listed: list[SourceFailure] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, failures: Iterable[StreamFailure]) -> None:
        for failure in failures:
            error = failure.error
            key = (failure.source, error.code.value, error.message)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.listed.append(
                SourceFailure(
                    source=failure.source,
                    provider=failure.provider,
                    code=error.code.value,
                    message=error.message,
                )
            )
            self.ctx.report(error, self.path)


@dataclass(frozen=True, slots=True)
class FederatedListing:
    """What `Query.jobs` lists: the readable sources (or those named), filtered and ordered."""

    sources: list[str] | None
    filter: JobFilter | None
    order_by: JobOrder | None

    def resolve(self, info: Info[RequestContext, None], relay: RelayArgs) -> Awaitable[Any]:
        return federated_jobs(
            info, sources=self.sources, filter=self.filter, order_by=self.order_by, relay=relay
        )


async def federated_jobs(
    info: Info[RequestContext, None],
    *,
    sources: list[str] | None,
    filter: JobFilter | None,
    order_by: JobOrder | None,
    relay: RelayArgs,
) -> Connection[Job]:
    """Resolve `Query.jobs`."""
    first, after, last, before = relay.first, relay.after, relay.last, relay.before
    ctx = info.context
    spec = JobFilterSpec() if filter is None else filter.to_spec()
    order = CreatedOrder.ASC if order_by is JobOrder.CREATED_AT_ASC else CreatedOrder.DESC
    plan = plan_streams(selected_sources(ctx, sources), ctx.services.adapters, order, spec)
    binding = binding_of(info.field_name, *plan.binding_parts())
    codec = ctx.services.cursors

    def decode(cursor: str | None, argument: str) -> Mark | None:
        if cursor is None:
            return None
        position = codec.decode(cursor, binding, argument)
        return mark_from_position(position, len(plan.streams), argument)

    def encode(mark: Mark) -> str:
        return codec.encode(binding, mark_position(mark))

    def encode_outer(mark: Mark | None) -> str | None:
        return None if mark is None else encode(mark)

    args = MergeArgs(first, decode(after, "after"), last, decode(before, "before"))
    merge = JobMerge(
        plan,
        ctx.http,
        ctx.cache,
        scan_ceiling=ctx.services.config.server.scan_ceiling,
        max_page_size=ctx.max_page_size,
    )
    report = _FailureReport(ctx, tuple(info.path.as_list()))
    report.add(plan.failures)

    page: MergedPage | None = None
    if selected_names(info.selected_fields[0].selections) & PAGE_FIELDS:
        page = await merge.page(args)
        report.add(page.failures)

    async def total() -> int | None:
        count = await merge.total()
        report.add(merge.late_failures)
        return count

    count_total = run_once(total)

    async def page_start() -> Boundary:
        if page is not None:
            return page.start
        if args.first is None and args.last is not None:
            return (await merge.page(args)).start
        if args.after is None:
            return Boundary((0,) * len(plan.streams))
        return await merge.resolve(args.after, "after")

    async def cursors_for(page_size: int) -> PageCursors | None:
        count = await count_total()
        if count is None:
            return None
        start = args.after.offset if isinstance(args.after, OffsetMark) and page is None else None
        if start is None:
            start = await merge.offset_of(await page_start())
        return page_cursors(
            lambda position: encode(OffsetMark(position + 1)),
            start,
            count,
            page_size,
            ctx.max_page_size,
        )

    edges: list[Edge[Job]] = []
    if page is not None:
        loader = operation_loader(ctx.cache, ctx.services.adapters, ctx.http)
        for edge in page.edges:
            job = edge.job
            loader.prime(JobRef(job.source, job.project_id, job.native_id), job)
            edges.append(Edge(cursor=encode(edge.mark), node=to_graphql(job)))
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next if page else False,
            has_previous_page=page.has_previous if page else False,
            start_cursor=encode_outer(page.start_mark if page else None),
            end_cursor=encode_outer(page.end_mark if page else None),
        ),
        failures=report.listed,
        count_total=count_total,
        page_cursors_for=cursors_for,
    )
