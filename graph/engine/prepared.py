"""Operations already known to pass every check run without Strawberry's per-operation hooks.

Strawberry takes each operation through its extension runner: for every hook (operation,
parse, validate, execute) and every extension, a context manager is built, entered and left,
and the limits' cost walk runs again; for a 20-job page that was a sixth of the gateway's
CPU. What those hooks decide is a pure function of (query text, operation name, variables)
for the gateway's own fixed set of extensions (operation recording, query limits, the
document cache, optionally no introspection): the first time a triple passes them all, the
document cache remembers it, and later the operation goes straight to graphql-core's
`execute` with the same execution context class, context and root value. Anything else (a
new text, other variables, a validation or limit error, a syntax error) takes the full path,
which answers it exactly as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from inspect import isawaitable
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, execute, get_operation_ast
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.engine.documents import DocumentCache
from graph.http.logs import record_operation
from graph.limits import (
    QueryLimitSettings,
    check_document,
    measure_operations,
    remembered_token_count,
)

# Variables are part of the key; larger ones are not worth remembering. With at most 16 keys
# per cached text (graph.engine.documents) the keys take at most 8 MB.
MAX_VARIABLES_BYTES = 4096

Prepared = tuple[DocumentNode, OperationDefinitionNode]

# Cost estimates remembered: at most this many, of texts up to this long (at most some 4 MB).
MAX_COSTS = 512
MAX_COSTED_TEXT = 4096


def _variables_key(variables: Mapping[str, Any] | None) -> bytes | None:
    if not variables:
        return b""
    try:
        key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return key if len(key) <= MAX_VARIABLES_BYTES else None


class FastLane:
    """Remembers passing operations in `documents` and executes them directly."""

    def __init__(self, documents: DocumentCache, limits: QueryLimitSettings | None) -> None:
        self.documents = documents
        self.limits = limits
        # (text, operation name, variables key) -> cost: the walk takes some 30 us a page.
        self._costs: OrderedDict[tuple[str, str | None, bytes], int | None] = OrderedDict()

    def prepared(
        self,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        allowed: Iterable[OperationType],
    ) -> Prepared | None:
        """The document and operation to run, if this exact operation passed before."""
        if not query:
            return None
        variables_key = _variables_key(variables)
        if variables_key is None:
            return None
        prepared = self.documents.ready(query, (operation_name, variables_key))
        if prepared is None or OperationType(prepared[1].operation.value) not in allowed:
            return None
        return prepared

    def learn(
        self,
        schema: Any,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> None:
        """After the full path: remember the operation if its text validated cleanly and
        these variables keep it within every limit."""
        if not query:
            return
        variables_key = _variables_key(variables)
        document = self.documents.validated_document(query)
        if variables_key is None or document is None:
            return
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return
        limits = self.limits
        if limits is not None:
            try:
                if remembered_token_count(query, limits.max_tokens) > limits.max_tokens:
                    return
            except GraphQLError:
                return
            if check_document(limits, schema, document, operation_name, variables) is not None:
                return
        self.documents.remember_ready(query, (operation_name, variables_key), operation)

    def cost(
        self,
        schema: Any,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        """The operation's cost estimate (graph.limits), parsed through the shared document
        cache; None when the text is refused before it runs anyway (more tokens than the
        limit, which is checked first so that no huge text is parsed here, or a syntax error)
        or no limits are set."""
        if self.limits is None:
            return None
        variables_key = _variables_key(variables)
        if variables_key is None or len(query) > MAX_COSTED_TEXT:
            return self._cost(schema, query, operation_name, variables)
        key = (query, operation_name, variables_key)
        if key in self._costs:
            self._costs.move_to_end(key)
            return self._costs[key]
        cost = self._costs[key] = self._cost(schema, query, operation_name, variables)
        if len(self._costs) > MAX_COSTS:
            self._costs.popitem(last=False)
        return cost

    def _cost(
        self,
        schema: Any,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        limits = self.limits
        assert limits is not None
        try:
            if remembered_token_count(query, limits.max_tokens) > limits.max_tokens:
                return None
            document = self.documents.parse(query, {})
            measure = measure_operations(
                schema, document, operation_name, variables, limits.max_page_size
            )
        except GraphQLError:
            return None
        return measure.cost

    async def execute(
        self,
        schema: Any,
        prepared: Prepared,
        *,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
        execution_context_class: Any,
    ) -> ExecutionResult:
        document, operation = prepared
        result: Any = execute(
            schema,
            document,
            root_value=root_value,
            variable_values=variable_values,
            operation_name=operation_name,
            context_value=context_value,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            executor_class=execution_context_class,
            operation_extensions=operation_extensions,
        )
        if isawaitable(result):
            result = await result
        if operation_name is None and operation.name is not None:
            operation_name = operation.name.value
        record_operation(context_value, operation_name)
        return ExecutionResult(data=result.data, errors=result.errors)
