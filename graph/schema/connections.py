"""Per-provider connection fields: Relay arguments in, a lazily computed page out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strawberry.types import Info

from graph.context import RequestContext
from graph.cursors import binding_of
from graph.schema.relay import RelayArgs
from graph.schema.selection import field_names_below
from graph.schema.types import Connection, Edge, PageCursor, PageCursors, PageInfo
from resolvers.connection import Anchor, ConnectionArgs, ConnectionPage, load_page, load_total
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from resolvers.errors import BadUserInput
from resolvers.providers.base import ListQuery, ProviderAdapter

N = TypeVar("N")

# Fields of a connection that need the page itself (totalCount and failures do not).
PAGE_FIELDS = frozenset({"edges", "nodes", "pageInfo"})
AROUND_PAGES = 2


def run_once(factory: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """Run `factory` at most once, on first await."""
    task: asyncio.Future[Any] | None = None

    def get() -> Awaitable[Any]:
        nonlocal task
        if task is None:
            task = asyncio.ensure_future(factory())
        return task

    return get


def page_cursors(
    encode: Callable[[int], str], start: int, total: int | None, page_size: int, max_page: int
) -> PageCursors | None:
    """Artsy-style numbered-page cursors: each is the `after` cursor that lands on its page."""
    if total is None:
        return None
    if not 1 <= page_size <= max_page:
        raise BadUserInput(f"`pageSize` must be between 1 and {max_page}")
    pages = max(1, -(-total // page_size))
    current = start // page_size + 1

    def cursor(page: int) -> PageCursor:
        return PageCursor(
            cursor=encode((page - 1) * page_size - 1), page=page, is_current=page == current
        )

    low = max(1, min(current - AROUND_PAGES, pages - 2 * AROUND_PAGES))
    high = min(pages, low + 2 * AROUND_PAGES)
    return PageCursors(
        first=cursor(1),
        around=[cursor(p) for p in range(low, high + 1)],
        last=cursor(pages),
        previous=cursor(current - 1) if current > 1 else None,
    )


@dataclass(frozen=True, slots=True)
class ProviderListing(Generic[N]):
    """What a per-provider connection field lists: a provider's (or one source's) jobs, by the
    query its own arguments build, each job becoming the provider's GraphQL type."""

    provider: Provider
    source: str | None
    build_query: Callable[[ProviderAdapter], ListQuery]
    to_node: Callable[[DomainJob], N]

    def resolve(self, info: Info[RequestContext, None], relay: RelayArgs) -> Awaitable[Any]:
        return provider_connection(
            info, self.provider, self.source, self.build_query, self.to_node, relay
        )


async def provider_connection(
    info: Info[RequestContext, None],
    provider: Provider,
    source: str | None,
    build_query: Callable[[ProviderAdapter], ListQuery],
    to_node: Callable[[DomainJob], N],
    relay: RelayArgs,
) -> Connection[N]:
    """Resolve one of the per-provider connection fields."""
    first, after, last, before = relay.first, relay.after, relay.last, relay.before
    ctx = info.context
    adapter = ctx.adapter_for(provider, source)
    query = build_query(adapter)
    binding = binding_of(info.field_name, adapter.source.name, query.project, query.params)
    codec = ctx.services.cursors
    after_position, after_anchor = codec.decode_anchor(after, binding, "after")
    before_position, before_anchor = codec.decode_anchor(before, binding, "before")
    args = ConnectionArgs(
        first=first,
        after=after_position,
        last=last,
        before=before_position,
        after_anchor=after_anchor,
        before_anchor=before_anchor,
    )
    args.check(ctx.max_page_size)
    wanted = field_names_below(info)

    page: ConnectionPage | None = None
    if wanted & PAGE_FIELDS:
        page = await load_page(adapter, ctx.http, query, args, ctx.max_page_size)

    async def total() -> int | None:
        if page is not None and page.total is not None:
            return page.total
        return await load_total(adapter, ctx.http, query)

    count_total = run_once(total)

    async def cursors_for(page_size: int) -> PageCursors | None:
        start = page.start if page is not None else (args.after or -1) + 1
        return page_cursors(
            lambda position: codec.encode(binding, position),
            start,
            await count_total(),
            page_size,
            ctx.max_page_size,
        )

    edges: list[Edge[N]] = []
    start_cursor = end_cursor = None
    if page is not None and page.jobs:
        first_position = page.start

        def cursor_at(offset: int) -> str:
            anchor = Anchor.of(first_position + offset, page.jobs[offset])
            return codec.encode_anchor(binding, anchor)

        # A cursor is an HMAC: every edge's is signed only when `edges` is selected (else
        # only `nodes` reads these edges, and never their cursors).
        signed = "edges" in wanted
        edges = [
            Edge(cursor=cursor_at(offset) if signed else "", node=to_node(job))
            for offset, job in enumerate(page.jobs)
        ]
        start_cursor, end_cursor = cursor_at(0), cursor_at(len(edges) - 1)
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next if page else False,
            has_previous_page=page.has_previous if page else False,
            start_cursor=start_cursor,
            end_cursor=end_cursor,
        ),
        failures=[],
        count_total=count_total,
        page_cursors_for=cursors_for,
    )
