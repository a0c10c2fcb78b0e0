"""Relay connection arguments over one upstream sequence: which window to fetch, and what
the page then knows about its neighbours."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.client import UpstreamSession
from resolvers.domain import Job
from resolvers.errors import BadUserInput
from resolvers.paging import PageWindow, WindowOutOfReach
from resolvers.providers.base import ListQuery, ProviderAdapter


@dataclass(frozen=True, slots=True)
class ConnectionArgs:
    """Decoded Relay arguments: `after`/`before` are sequence positions (after may be -1,
    meaning "before the first item")."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    def check(self, max_page_size: int) -> None:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= max_page_size:
                raise BadUserInput(f"`{name}` must be between 0 and {max_page_size}, got {value}")
        if self.after is not None and self.before is not None and self.before <= self.after:
            raise BadUserInput("`before` must come after `after`")


@dataclass(frozen=True, slots=True)
class ConnectionPage:
    """A page of jobs starting at position `start`."""

    start: int
    jobs: list[Job]
    has_next: bool
    has_previous: bool
    total: int | None


async def load_page(
    adapter: ProviderAdapter,
    http: UpstreamSession,
    query: ListQuery,
    args: ConnectionArgs,
    max_page_size: int,
) -> ConnectionPage:
    """The jobs the Relay arguments select, with as few upstream requests as the scheme allows."""
    args.check(max_page_size)
    low = 0 if args.after is None else args.after + 1
    high: int | None = args.before
    first = args.first
    if first is None and args.last is None:
        first = max_page_size
    if first is not None:
        high = low + first if high is None else min(high, low + first)
    if args.last is not None:
        if high is None:
            high = await adapter.length(http, query)
        low = max(low, high - args.last)
    assert high is not None
    high = max(high, low)
    trusted = adapter.trusts_total(query)
    # Without a total to believe, one extra item tells whether a next page exists.
    lookahead = 0 if trusted or high == args.before else 1
    try:
        result = await adapter.fetch_window(http, query, PageWindow(low, high + lookahead))
    except WindowOutOfReach as exc:
        raise BadUserInput(
            f"cursor position is beyond what the upstream can page to: {exc}"
        ) from None
    jobs = result.items[: high - low]
    total = result.trusted_total if trusted else None
    if args.before is not None and high == args.before:
        has_next = True
    elif total is not None:
        has_next = high < total
    elif result.end is not None:
        has_next = high < result.end
    else:
        has_next = len(result.items) > high - low
    return ConnectionPage(low, jobs, has_next, low > 0, total)


async def load_total(
    adapter: ProviderAdapter, http: UpstreamSession, query: ListQuery
) -> int | None:
    """The sequence's length where the upstream reports one that holds; None where only a
    scan would tell."""
    return await adapter.verified_total(http, query)
