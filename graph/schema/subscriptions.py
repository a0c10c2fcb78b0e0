"""The Subscription type: live job events from the shared pollers (resolvers.watch)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime

import strawberry
from strawberry.types import Info

from graph.context import RequestContext
from graph.errors import INTERNAL_MESSAGE
from graph.ids import decode_global_id
from graph.schema.federated import selected_sources
from graph.schema.inputs import JobFilter
from graph.schema.types import Job, to_graphql
from resolvers.domain import JobFilterSpec, JobStatus
from resolvers.errors import JobgraphError
from resolvers.watch import JobChange, JobEventKind, JobWatch, SubscriptionLimit, WatchFailure

Ctx = Info[RequestContext, None]
log = logging.getLogger("jobgraph.subscriptions")

strawberry.enum(JobEventKind)


@strawberry.type(description="A change seen between two polls of a source.")
class JobEvent:
    kind: JobEventKind
    job: Job
    previous_status: JobStatus | None = strawberry.field(
        description="The status before an UPDATED or REMOVED; null for CREATED."
    )
    at: datetime = strawberry.field(description="When the gateway saw the change.")


async def _events(
    ctx: RequestContext, sources: list[str] | None, spec: JobFilterSpec, job_id: str | None
) -> AsyncGenerator[JobEvent | Exception, None]:
    watch: JobWatch = ctx.services.watch
    chosen = selected_sources(ctx, sources)
    per_connection = ctx.services.config.server.max_subscriptions_per_connection
    if ctx.subscriptions >= per_connection:
        raise SubscriptionLimit(
            f"at most {per_connection} subscriptions per connection; complete one first"
        )
    try:
        with watch.admit():
            ctx.subscriptions += 1
            try:
                # Closed here, not whenever it is collected: its pollers stop with it.
                async with contextlib.aclosing(
                    watch.events(chosen, ctx.services.adapters, spec)
                ) as changes:
                    async for event in _changes(changes, job_id):
                        yield event
            finally:
                ctx.subscriptions -= 1
    except JobgraphError:
        raise
    except Exception:
        # Subscriptions bypass the query path's error coding: nothing internal goes out.
        log.exception("subscription failed")
        raise JobgraphError(INTERNAL_MESSAGE) from None


async def _changes(
    items: AsyncIterator[JobChange | WatchFailure], job_id: str | None
) -> AsyncGenerator[JobEvent | Exception, None]:
    async for item in items:
        if isinstance(item, WatchFailure):
            # A failed poll is one error event; the subscription stays open.
            yield item.error
            continue
        if job_id is not None and to_graphql(item.job).id != job_id:
            continue
        yield JobEvent(
            kind=item.kind,
            job=to_graphql(item.job),
            previous_status=item.previous_status,
            at=item.at,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Changes of the readable sources' jobs, as polled.")
    async def job_events(
        self, info: Ctx, sources: list[str] | None = None, filter: JobFilter | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        spec = JobFilterSpec() if filter is None else filter.to_spec()
        async for event in _events(info.context, sources, spec, None):
            yield event  # type: ignore[misc]

    @strawberry.subscription(description="Changes of one job, by global id.")
    async def job_changed(self, info: Ctx, id: strawberry.ID) -> AsyncGenerator[JobEvent, None]:
        key = decode_global_id(id)
        info.context.check_source(key.source)
        async for event in _events(info.context, [key.source], JobFilterSpec(), str(id)):
            yield event  # type: ignore[misc]
