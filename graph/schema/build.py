"""Schema assembly: the Query type, its thin resolvers, and error coding."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from functools import partial
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult, Info
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from graph.context import RequestContext
from graph.engine.documents import CachedDocuments, DocumentCache, OperationNameRequired
from graph.engine.execution import (
    CachedNameConverter,
    JobgraphExecutionContext,
    MarkedExecutionContext,
)
from graph.engine.prepared import FastLane
from graph.engine.selection import names_from_syntax
from graph.errors import coded, with_reported
from graph.http.logs import RecordOperation
from graph.http.persisted import TrustedDocuments, TrustedOnly
from graph.http.ratelimit import RateLimiter, WebSocketLimits
from graph.limits import QueryLimits, QueryLimitSettings
from graph.schema.federated import FederatedListing
from graph.schema.federation import print_public_sdl
from graph.schema.inputs import JobFilter
from graph.schema.relay import connection_field
from graph.schema.scalars import SCALAR_MAP
from graph.schema.subscriptions import Subscription
from graph.schema.types import Connection, Job, JobOrder, Node, SourceInfo, job_type_of, load_job
from graph.strawberry_private import core_schema
from resolvers.domain import Provider
from resolvers.errors import BadUserInput, JobgraphError
from resolvers.providers.registry import PROVIDERS, load

Ctx = Info[RequestContext, None]
MAX_NODE_IDS = 100


@strawberry.type
class CoreQuery:
    """The provider-neutral fields; each provider's own field comes from its graph module."""

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        return await load_job(info.context, id)

    @strawberry.field(description="Objects by global id, in order; null where not found.")
    async def nodes(self, info: Ctx, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODE_IDS:
            raise BadUserInput(f"at most {MAX_NODE_IDS} ids at once")
        return await _load_many(info, ids)

    @strawberry.field(description="A job by its global id.")
    async def job(self, info: Ctx, id: strawberry.ID) -> Job | None:
        return await load_job(info.context, id)

    @strawberry.field(description="The configured sources the caller may read.")
    def sources(self, info: Ctx) -> list[SourceInfo]:
        # Healthy unless its circuit breaker is open (failing fast after repeated faults).
        breakers = info.context.services.client.breaker_states()
        return [
            SourceInfo(
                name=s.name,
                provider=s.provider,
                projects=list(s.projects),
                healthy=breakers.get(s.name) != "open",
            )
            for s in info.context.readable_sources()
        ]

    @connection_field(
        "Jobs of every readable source and project, merged by creation time.", Connection[Job]
    )
    async def jobs(
        self,
        sources: list[str] | None = None,
        filter: JobFilter | None = None,
        order_by: JobOrder | None = JobOrder.CREATED_AT_DESC,
    ) -> FederatedListing:
        return FederatedListing(sources, filter, order_by)


async def _load_many(info: Ctx, ids: Iterable[str]) -> list[Node | None]:
    async def one(index: int, global_id: str) -> Node | None:
        try:
            return await load_job(info.context, global_id)
        except JobgraphError as exc:
            info.context.report(exc, (*info.path.as_list(), index))
            return None

    return list(await asyncio.gather(*(one(i, g) for i, g in enumerate(ids))))


def _no_operation(exc: CannotGetOperationTypeError) -> str:
    if exc.operation_name is None:
        return "Must provide an operation."
    return f"Unknown operation named {json.dumps(exc.operation_name)}."


class JobgraphSchema(strawberry.Schema):
    """Strawberry's schema whose every response error is coded (see graph.errors)."""

    # Set by build_schema for the served extension set: the operations' cost estimates and,
    # with `fast_path`, the operations it has seen pass run directly; None: neither.
    fast_lane: FastLane | None = None
    fast_path: bool = True

    def names_below(self, info: Any) -> set[str] | None:
        """With the fast path, the names of the fields selected under the current one, read
        from the syntax tree (`graph.engine.selection`); None without it."""
        return names_from_syntax(info) if self.fast_path else None

    async def execute(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = (
            DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types
        )
        lane = self.fast_lane if self.fast_path else None
        prepared = (
            None if lane is None else lane.prepared(query, operation_name, variable_values, allowed)
        )
        if lane is not None and prepared is not None:
            result = await lane.execute(
                core_schema(self),
                prepared,
                variable_values=variable_values,
                context_value=context_value,
                root_value=root_value,
                operation_name=operation_name,
                operation_extensions=operation_extensions,
                execution_context_class=self.execution_context_class,
            )
        else:
            try:
                result = await super().execute(
                    query,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    allowed,
                    operation_extensions,
                )
            except CannotGetOperationTypeError as exc:
                # No operation of that name (or none at all): a GraphQL request error like
                # any other, not Strawberry's HTTP 400.
                result = ExecutionResult(data=None, errors=[GraphQLError(_no_operation(exc))])
            if lane is not None:
                lane.learn(core_schema(self), query, operation_name, variable_values)
        result.errors = with_reported(result.errors, context_value)
        return result

    async def stream(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Strawberry's `stream` (operations over WebSocket), whose errors before execution are
        coded like any other (a syntax or validation error had no code), and where an error
        an extension raises before the operation runs (a limit) is the operation's coded
        error: Strawberry lets it end the operation's task, logged with a traceback, the
        client told nothing."""
        return _refusal_as_error(await super().stream(*args, **kwargs))

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        # Unexpected errors are logged once, in graph.errors.coded; caller errors are not logged.
        return None


async def _refusal_as_error(results: AsyncGenerator[Any, None]) -> AsyncIterator[Any]:
    try:
        try:
            first = await anext(results)
        except StopAsyncIteration:
            return
        except GraphQLError as error:
            yield PreExecutionError(data=None, errors=[coded(error)])
            return
        if isinstance(first, PreExecutionError) and first.errors:
            first.errors = [coded(error) for error in first.errors]
        yield first
        async for result in results:
            yield result
    finally:
        await results.aclose()


class JobgraphSubgraphSchema(JobgraphSchema, strawberry.federation.Schema):
    """The served schema: the same, as an Apollo Federation v2 subgraph (`_service`,
    `_entities`), its errors coded the same way."""

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Strawberry assumes well-formed representations (a crash, so INTERNAL, otherwise):
        # each one is checked first, and a malformed one is a BAD_USER_INPUT at its index
        # while the others still resolve.
        results: list[Any] = []
        for index, representation in enumerate(representations):
            problem = self._representation_problem(representation)
            if problem is not None:
                results.append(BadUserInput(f"representation {index}: {problem}"))
            else:
                # Strawberry pops `__typename`: it gets a copy.
                copy = FederationAny(dict(cast("dict[str, Any]", representation)))
                results.extend(super().entities_resolver(info, [copy]))
        return results

    def _representation_problem(self, representation: object) -> str | None:
        if not isinstance(representation, dict):
            return "must be an object with `__typename` and `id`"
        type_name = representation.get("__typename")
        graphql_type = (
            self.schema_converter.type_map.get(type_name) if isinstance(type_name, str) else None
        )
        origin = getattr(getattr(graphql_type, "definition", None), "origin", None)
        if not hasattr(origin, "resolve_reference"):
            return f"`__typename` must name an entity type ({', '.join(ENTITY_TYPE_NAMES)})"
        if set(representation) != {"__typename", "id"} or not isinstance(representation["id"], str):
            return "an entity's key is its `id` (a string), and nothing else"
        return None


# Each provider's graph module (its registry row's `graph`), in registry order: its Query
# field, and the job type it registered with `job_type`.
PROVIDER_MODULES = tuple(load(row.graph) for row in PROVIDERS)
PROVIDER_TYPES = tuple(job_type_of(Provider(row.name)) for row in PROVIDERS)
Query = merge_types("Query", (CoreQuery, *(module.Query for module in PROVIDER_MODULES)))
ENTITY_TYPE_NAMES = ("Job", *(t.__name__ for t in PROVIDER_TYPES))


def build_schema(
    *,
    limits: QueryLimitSettings | None = None,
    introspection: bool = True,
    subgraph: bool = True,
    trusted: TrustedDocuments | None = None,
    limiter: RateLimiter | None = None,
    fast_path: bool = True,
) -> JobgraphSchema:
    """The schema, with its per-operation extensions: the operation's name recorded for the
    access log, `limits` (if any) enforced, introspection refused unless `introspection`,
    and, given `trusted`, only those documents run; given `limiter`, operations over a
    WebSocket are charged to the caller's rate limits. `fast_path=False` leaves out every
    short cut (graph/engine/): Strawberry's general path.
    The served schema is a federation subgraph; `subgraph=False` builds the plain one (for
    the public SDL)."""
    documents = DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [RecordOperation]
    if trusted is not None:
        extensions.append(partial(TrustedOnly, trusted))
    if limits is not None:
        extensions.append(partial(QueryLimits, limits))
    if limiter is not None and (limiter.enabled or limiter.charges_cost):
        extensions.append(partial(WebSocketLimits, limiter))
    if not introspection:
        extensions.append(DisableIntrospection)
    # The document cache last: every other extension sees each operation first.
    extensions.append(partial(CachedDocuments, documents) if fast_path else OperationNameRequired)
    schema_class = JobgraphSubgraphSchema if subgraph else JobgraphSchema
    schema = schema_class(
        query=Query,
        subscription=Subscription,
        types=PROVIDER_TYPES,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP,
            name_converter=CachedNameConverter() if fast_path else NameConverter(),
        ),
        extensions=extensions,
        execution_context_class=JobgraphExecutionContext if fast_path else MarkedExecutionContext,
    )
    # Knows what each of the extensions above decides (see graph.prepared).
    schema.fast_lane = FastLane(documents, limits)
    schema.fast_path = fast_path
    return schema


def export_sdl(*, subgraph: bool = False) -> str:
    """The public SDL that `schema.graphql` must equal; with `subgraph`, the federation SDL
    a supergraph composes (what `_service { sdl }` answers)."""
    if subgraph:
        return build_schema().as_str() + "\n"
    with warnings.catch_warnings():
        # Strawberry warns of the entity keys on a plain schema; they are not printed.
        warnings.filterwarnings("ignore", "Federation directive found", UserWarning)
        public = build_schema(subgraph=False)
    return print_public_sdl(public) + "\n"
