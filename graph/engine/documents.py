"""Each distinct query text is parsed and validated once per process, not once per request.

Strawberry's own `ParserCache` and `ValidationCache` would do the parsing and validating, but
`ValidationCache` overwrites errors set by an earlier extension (our query limits) and, set
first, makes later `on_validate` hooks believe validation already ran; this one fills in only
what no earlier extension decided, and hands each request its own copy of the error list.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from graph.strawberry_private import core_schema, provided_operation_name

DEFAULT_MAX_DOCUMENTS = 128
# A parsed document takes about 100 bytes per character of its text: this bounds the cache
# near 7 MB whatever clients send. Kept small on purpose: every cached tree is traversed by
# the garbage collector, and 512 of them cost a tenth more CPU per request than 128.
DEFAULT_MAX_TEXT = 64 * 1024


# Per text, how many (operation name, variables) pairs known to pass are remembered.
MAX_READY_PER_TEXT = 16


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    rules: tuple[type[ASTValidationRule], ...] | None = None
    errors: list[GraphQLError] | None = None
    # (operation name, variables key) -> the operation, for pairs known to pass every check.
    ready: dict[tuple[str | None, bytes], OperationDefinitionNode] = field(default_factory=dict)


class DocumentCache:
    """Parsed documents and their validation errors by query text; least recently used
    texts leave first, so arbitrary clients cannot grow it without bound. A text longer than
    a sixteenth of `max_text` is parsed every time, never cached."""

    def __init__(
        self, max_documents: int = DEFAULT_MAX_DOCUMENTS, max_text: int = DEFAULT_MAX_TEXT
    ) -> None:
        self.max_documents = max_documents
        self.max_text = max_text
        self._text = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def parse(self, query: str, options: Mapping[str, Any]) -> DocumentNode:
        """The document of `query`; raises GraphQLError for a syntax error (never cached)."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry.document
        document = parse(query, **options)
        if len(query) <= self.max_text // 16:
            self._entries[query] = _Entry(document)
            self._text += len(query)
            while len(self._entries) > self.max_documents or self._text > self.max_text:
                evicted, _ = self._entries.popitem(last=False)
                self._text -= len(evicted)
        return document

    def validation_errors(
        self,
        query: str,
        document: DocumentNode,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]],
    ) -> list[GraphQLError] | None:
        """Validation errors of a document this cache parsed (a fresh list each call);
        None for any other document, which the caller validates itself."""
        entry = self._entries.get(query)
        if entry is None or entry.document is not document:
            return None
        rule_set = tuple(rules)
        if entry.errors is None or entry.rules != rule_set:
            entry.errors = validate_document(schema, document, rule_set)
            entry.rules = rule_set
        return list(entry.errors)

    def ready(
        self, query: str, key: tuple[str | None, bytes]
    ) -> tuple[DocumentNode, OperationDefinitionNode] | None:
        """The document and operation of a (text, operation, variables) remembered as passing
        every check; counts as a use of the text."""
        entry = self._entries.get(query)
        if entry is None:
            return None
        operation = entry.ready.get(key)
        if operation is None:
            return None
        self._entries.move_to_end(query)
        return entry.document, operation

    def remember_ready(
        self, query: str, key: tuple[str | None, bytes], operation: OperationDefinitionNode
    ) -> None:
        """Remember that `key` passes for a cached text validated without errors (kept as long
        as the text is, and at most `MAX_READY_PER_TEXT` keys per text)."""
        entry = self._validated(query)
        if entry is None:
            return
        if len(entry.ready) >= MAX_READY_PER_TEXT:
            entry.ready.pop(next(iter(entry.ready)))
        entry.ready[key] = operation

    def validated_document(self, query: str) -> DocumentNode | None:
        """The cached document of `query` if it was validated without errors."""
        entry = self._validated(query)
        return None if entry is None else entry.document

    def _validated(self, query: str) -> _Entry | None:
        entry = self._entries.get(query)
        return entry if entry is not None and entry.errors == [] else None


class OperationNameRequired(SchemaExtension):
    """A document of several operations needs the caller to name one (Strawberry would run
    the first); list it after extensions that must see every operation first (query limits)."""

    def on_validate(self) -> Iterator[None]:
        self.require_operation_name()
        yield

    def require_operation_name(self) -> None:
        context = self.execution_context
        document = context.graphql_document
        if (
            context.pre_execution_errors is None
            and document is not None
            and provided_operation_name(context) is None
            and sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
        ):
            context.pre_execution_errors = [
                GraphQLError("Must provide operation name if query contains multiple operations.")
            ]


class CachedDocuments(OperationNameRequired):
    """Parse and validate through a shared `DocumentCache` (and require an operation name
    like `OperationNameRequired`); list it after extensions that must see every operation
    first (query limits)."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # On a syntax error Strawberry parses again and reports it its own way.
            with suppress(GraphQLError):
                context.graphql_document = self.cache.parse(context.query, context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        self.require_operation_name()
        context = self.execution_context
        document = context.graphql_document
        if (
            context.pre_execution_errors is None
            and document is not None
            and context.query
            and context.validation_rules
        ):
            errors = self.cache.validation_errors(
                context.query, document, core_schema(context.schema), context.validation_rules
            )
            if errors is not None:
                context.pre_execution_errors = errors
        yield
