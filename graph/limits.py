"""Demand control: depth, alias, token and cost limits, checked before anything executes.

Cost counts one per selected field; below a field that takes `first`/`last` the cost of its
selection is multiplied by that page size (the server's `max_page_size` when neither is given,
since that is what the connection returns), and below `nodes(ids:)` and federation's
`_entities(representations:)` by the number of items asked for.
Multipliers compound down nested connections. Introspection fields (`__schema`, `__type`,
`__typename`) are not counted: their size is bounded by the schema, and `introspection =
false` turns them off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.language import Lexer, Source, TokenKind, Visitor, visit
from strawberry.extensions import SchemaExtension

from graph.http.responses import error_response
from graph.strawberry_private import core_schema
from resolvers.config import ServerConfig
from resolvers.errors import ErrorCode

PAGE_ARGUMENTS = ("first", "last")
# List arguments whose length is how many objects the field resolves.
ID_LIST_ARGUMENTS = ("ids", "representations")


@dataclass(frozen=True, slots=True)
class QueryLimitSettings:
    """The configured ceilings (see `[server]` in the README)."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    max_page_size: int

    @classmethod
    def from_server(cls, server: ServerConfig) -> QueryLimitSettings:
        return cls(
            max_depth=server.max_depth,
            max_aliases=server.max_aliases,
            max_tokens=server.max_tokens,
            max_cost=server.max_cost,
            max_page_size=server.max_page_size,
        )


@dataclass(frozen=True, slots=True)
class QueryMeasure:
    """What an operation would demand: deepest field nesting and estimated cost."""

    depth: int
    cost: int


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def count_tokens(query: str, stop_after: int) -> int:
    """Lexical tokens in `query` (comments excluded), counting no further than `stop_after + 1`.

    Raises GraphQLSyntaxError for text the lexer cannot read."""
    lexer = Lexer(Source(query))
    count = 0
    while count <= stop_after and lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@lru_cache(maxsize=512)
def _cached_token_count(query: str, stop_after: int) -> int:
    return count_tokens(query, stop_after)


def remembered_token_count(query: str, stop_after: int) -> int:
    """`count_tokens`, remembered for the few hundred most recent texts of up to 16 KB (the
    same texts arrive again and again; re-lexing each was a twentieth of a page's CPU)."""
    if len(query) > 16 * 1024:
        return count_tokens(query, stop_after)
    return _cached_token_count(query, stop_after)


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is not None:
            self.aliases += 1


def count_aliases(document: DocumentNode) -> int:
    """Every aliased field in the document, fragments included once each."""
    counter = _AliasCounter()
    visit(document, counter)
    return counter.aliases


class _CostWalker:
    """Depth and cost of selection sets, expanding fragments (each measured once)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page_size = max_page_size
        self._fragment_measures: dict[str, QueryMeasure] = {}
        self._expanding: set[str] = set()

    def selection_set(
        self, node: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> QueryMeasure:
        if node is None:
            return QueryMeasure(0, 0)
        depth = cost = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                measure = self.selection_set(selection.selection_set, scope)
            elif isinstance(selection, FragmentSpreadNode):
                measure = self.fragment(selection.name.value)
            else:  # pragma: no cover - the AST has no other selection kinds
                continue
            depth = max(depth, measure.depth)
            cost += measure.cost
        return QueryMeasure(depth, cost)

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> QueryMeasure:
        if node.name.value.startswith("__"):
            return QueryMeasure(0, 0)
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        child_type = get_named_type(definition.type) if definition is not None else None
        below = self.selection_set(node.selection_set, child_type)
        return QueryMeasure(1 + below.depth, 1 + self.multiplier(node, definition) * below.cost)

    def fragment(self, name: str) -> QueryMeasure:
        known = self._fragment_measures.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._expanding:
            # Unknown or cyclic fragments are validation errors, reported after this check.
            return QueryMeasure(0, 0)
        self._expanding.add(name)
        scope = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selection_set(definition.selection_set, scope)
        self._expanding.discard(name)
        self._fragment_measures[name] = measure
        return measure

    def multiplier(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many items the field's selection may be resolved for."""
        if definition is None:
            return 1
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            sizes = [self.page_size(arguments.get(name)) for name in PAGE_ARGUMENTS]
            given = [size for size in sizes if size is not None]
            return max(given) if given else self.max_page_size
        for name in ID_LIST_ARGUMENTS:
            if name in definition.args:
                items = self.value(arguments.get(name))
                return len(items) if isinstance(items, list) else 1
        return 1

    def page_size(self, node: ValueNode | None) -> int | None:
        value = self.value(node)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            # Not an Int: argument coercion rejects it later; price it as a full page.
            return self.max_page_size
        # Above the maximum is BAD_USER_INPUT when resolved; it never fetches more.
        return min(max(value, 0), self.max_page_size)

    def value(self, node: ValueNode | None) -> Any:
        if node is None:
            return None
        value = value_from_ast_untyped(node, self.variables)
        return None if value is Undefined else value


def _operations(document: DocumentNode, name: str | None) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            yield definition


def measure_operations(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_page_size: int,
) -> QueryMeasure:
    """The largest depth and cost among the operations that may run."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    depth = cost = 0
    for operation in _operations(document, operation_name):
        values: dict[str, Any] = {}
        for definition in operation.variable_definitions or ():
            if definition.default_value is not None:
                values[definition.variable.name.value] = value_from_ast_untyped(
                    definition.default_value
                )
        values.update(variables or {})
        root = schema.get_root_type(operation.operation)
        walker = _CostWalker(schema, fragments, values, max_page_size)
        measure = walker.selection_set(operation.selection_set, root)
        depth, cost = max(depth, measure.depth), max(cost, measure.cost)
    return QueryMeasure(depth, cost)


def check_document(
    settings: QueryLimitSettings,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> GraphQLError | None:
    """The first limit the document exceeds, as a QUERY_TOO_COMPLEX error; None if within."""
    aliases = count_aliases(document)
    if aliases > settings.max_aliases:
        return too_complex(f"the query uses {aliases} aliases; the limit is {settings.max_aliases}")
    measure = measure_operations(
        schema, document, operation_name, variables, settings.max_page_size
    )
    if measure.depth > settings.max_depth:
        return too_complex(
            f"the query is {measure.depth} fields deep; the limit is {settings.max_depth}"
        )
    if measure.cost > settings.max_cost:
        return too_complex(
            f"the query may cost {measure.cost}; the limit is {settings.max_cost} "
            "(each field costs 1, multiplied by the `first`/`last` of every connection above it)"
        )
    return None


class QueryLimits(SchemaExtension):
    """Rejects over-limit operations with QUERY_TOO_COMPLEX before validation and execution."""

    def __init__(self, settings: QueryLimitSettings) -> None:
        self.settings = settings

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query:
            try:
                tokens = remembered_token_count(query, self.settings.max_tokens)
            except GraphQLError:
                tokens = 0  # unreadable text: the parser reports the syntax error
            if tokens > self.settings.max_tokens:
                raise too_complex(
                    f"the query has more than {self.settings.max_tokens} tokens; "
                    f"the limit is {self.settings.max_tokens}"
                )
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = check_document(
                self.settings,
                core_schema(context.schema),
                document,
                context.operation_name,
                context.variables,
            )
            if error is not None:
                # Set before validation runs, so Strawberry skips it and executes nothing.
                context.pre_execution_errors = [error]
        yield


def body_limit_middleware(max_bytes: int) -> Middleware:
    """Refuses request bodies over `server.max_body_bytes` with a coded JSON 413.

    aiohttp enforces the same size (`client_max_size`) while reading; this answers the
    declared-too-large case before reading, and words both like every other error."""

    def too_large() -> web.Response:
        return error_response(
            413,
            f"the request body exceeds the {max_bytes}-byte limit",
            ErrorCode.QUERY_TOO_COMPLEX,
        )

    @web.middleware
    async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > max_bytes:
            return too_large()
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return too_large()

    return limit_body
