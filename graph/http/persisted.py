"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without `query`;
a hash this gateway knows runs its text, an unknown one is answered `PersistedQueryNotFound`
(HTTP 200, as Apollo Server does, so Apollo Client's and urql's links retry with the text),
and the retry (hash and text) is checked, run and remembered. Known texts live in a bounded
least-recently-used map in this process.

Trusted documents: `[server] persisted_documents` names a JSON manifest of the operations a
front end ships; with `only_persisted = true` nothing else runs.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.http.transport import GraphQLParams
from resolvers.config import ConfigError, ServerConfig
from resolvers.errors import ErrorCode

NOT_PERSISTED_MESSAGE = (
    "this gateway runs only its persisted documents, and this operation is not one of them"
)
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"  # the exact text Apollo's links look for
# Apollo Server's header on persisted-query errors: the retry must not meet a cached miss.
NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"

DEFAULT_MAX_QUERIES = 1024
DEFAULT_MAX_TEXT = 4 * 1024 * 1024  # characters over all remembered texts


class PersistedQueryRefused(Exception):
    """A persisted-query request answered before GraphQL runs: HTTP status, coded message."""

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def query_hash(query: str) -> str:
    """The APQ hash of a query text: SHA-256 of its UTF-8 bytes, lowercase hex."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedQueryStore:
    """Query texts by hash, least recently used leaving first; bounded in count and in text."""

    def __init__(
        self, max_queries: int = DEFAULT_MAX_QUERIES, max_text: int = DEFAULT_MAX_TEXT
    ) -> None:
        self.max_queries = max_queries
        self.max_text = max_text
        self._text = 0
        self._queries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, sha256_hash: str) -> str | None:
        query = self._queries.get(sha256_hash)
        if query is not None:
            self._queries.move_to_end(sha256_hash)
        return query

    def put(self, sha256_hash: str, query: str) -> None:
        if len(query) > self.max_text or sha256_hash in self._queries:
            return
        self._queries[sha256_hash] = query
        self._text += len(query)
        while len(self._queries) > self.max_queries or self._text > self.max_text:
            _, evicted = self._queries.popitem(last=False)
            self._text -= len(evicted)


@dataclass(frozen=True, slots=True)
class TrustedDocuments:
    """The operations of a manifest: by the id clients send, and by the SHA-256 of each text
    (so a full query counts as trusted when its text is in the manifest)."""

    by_id: Mapping[str, str]
    hashes: frozenset[str]

    @classmethod
    def from_mapping(cls, by_id: Mapping[str, str]) -> TrustedDocuments:
        by_id = dict(by_id)
        hashes = {query_hash(body) for body in by_id.values()}
        return cls(by_id, frozenset(hashes | {i.lower() for i in by_id if SHA256_HEX.match(i)}))

    def get(self, document_id: str) -> str | None:
        return self.by_id.get(document_id) or self.by_id.get(document_id.lower())

    def trusts(self, query: str) -> bool:
        return query_hash(query) in self.hashes


def load_trusted_documents(path: str) -> TrustedDocuments:
    """A manifest file: Apollo's persisted-query manifest (`{"format":
    "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", ...}]}`) or
    a plain `{"<sha256>": "<query>"}` map; raises ConfigError saying what is wrong."""
    where = f"server.persisted_documents ({path})"
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file: {exc.strerror}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{where}: not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    if "format" in data or "operations" in data:
        return TrustedDocuments.from_mapping(_apollo_manifest(data, where))
    by_id: dict[str, str] = {}
    for key, body in data.items():
        if not isinstance(body, str) or not body.strip():
            raise ConfigError(f"{where}: the document {key!r} must be a non-empty string")
        if SHA256_HEX.match(key) and key.lower() != query_hash(body):
            raise ConfigError(f"{where}: {key!r} is not the SHA-256 of its document")
        by_id[key] = body
    return TrustedDocuments.from_mapping(by_id)


def _apollo_manifest(data: dict[str, Any], where: str) -> dict[str, str]:
    if data.get("format") != APOLLO_MANIFEST_FORMAT or data.get("version") != 1:
        raise ConfigError(f'{where}: expected "format": "{APOLLO_MANIFEST_FORMAT}", "version": 1')
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ConfigError(f"{where}: `operations` must be a list")
    by_id: dict[str, str] = {}
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ConfigError(f"{where}: operations[{index}] must be an object")
        document_id, body = operation.get("id"), operation.get("body")
        if not isinstance(document_id, str) or not document_id:
            raise ConfigError(f"{where}: operations[{index}].id must be a non-empty string")
        if not isinstance(body, str) or not body.strip():
            raise ConfigError(f"{where}: operations[{index}].body must be a non-empty string")
        if document_id in by_id:
            raise ConfigError(f"{where}: the id {document_id!r} is used twice")
        by_id[document_id] = body
    return by_id


@dataclass(frozen=True, slots=True)
class PersistedRequest:
    """A request's parameters with its query text resolved, and whether to remember it."""

    params: GraphQLParams
    register: str | None = None  # the hash to remember the text under once it has run


class PersistedQueries:
    """Resolves each request's persisted-query extension to a query text, or refuses it."""

    def __init__(
        self,
        trusted: TrustedDocuments | None = None,
        *,
        only_persisted: bool = False,
        store: PersistedQueryStore | None = None,
    ) -> None:
        if only_persisted and trusted is None:
            raise ConfigError("server.only_persisted needs server.persisted_documents")
        self.trusted = trusted
        self.only_persisted = only_persisted
        self.store = store if store is not None else PersistedQueryStore()

    @classmethod
    def from_server(cls, server: ServerConfig) -> PersistedQueries:
        trusted = (
            load_trusted_documents(server.persisted_documents)
            if server.persisted_documents
            else None
        )
        return cls(trusted, only_persisted=server.only_persisted)

    def resolve(self, params: GraphQLParams) -> PersistedRequest:
        """The parameters to execute; raises PersistedQueryRefused."""
        extension = (params.extensions or {}).get("persistedQuery")
        if extension is None:
            if not params.query:
                raise PersistedQueryRefused(
                    400, "No GraphQL query found in the request", ErrorCode.BAD_USER_INPUT
                )
            self._check_trusted(params.query)
            return PersistedRequest(params)
        sha256_hash = _checked_hash(extension)
        if not params.query:
            query = self._known(sha256_hash)
            if query is None:
                if self.only_persisted:
                    raise PersistedQueryRefused(
                        403,
                        f"no trusted document has the id {sha256_hash[:80]!r}; this gateway "
                        "runs only its persisted documents",
                        ErrorCode.PERSISTED_QUERY_REQUIRED,
                    )
                raise PersistedQueryRefused(
                    200, NOT_FOUND_MESSAGE, ErrorCode.PERSISTED_QUERY_NOT_FOUND, NO_CACHE
                )
            return PersistedRequest(replace(params, query=query))
        if query_hash(params.query) != sha256_hash.lower():
            raise PersistedQueryRefused(
                400,
                "provided sha does not match query: persistedQuery.sha256Hash must be the "
                "SHA-256 (hex) of the query text",
                ErrorCode.BAD_USER_INPUT,
                NO_CACHE,
            )
        self._check_trusted(params.query)
        return PersistedRequest(params, None if self.only_persisted else sha256_hash.lower())

    def remember(self, request: PersistedRequest) -> None:
        """After a registering request ran (its text parsed and validated): keep its text."""
        if request.register is not None:
            self.store.put(request.register, request.params.query)

    def _known(self, sha256_hash: str) -> str | None:
        if self.trusted is not None:
            query = self.trusted.get(sha256_hash)
            if query is not None or self.only_persisted:
                return query
        return self.store.get(sha256_hash.lower())

    def _check_trusted(self, query: str) -> None:
        if self.only_persisted and (self.trusted is None or not self.trusted.trusts(query)):
            raise PersistedQueryRefused(
                403, NOT_PERSISTED_MESSAGE, ErrorCode.PERSISTED_QUERY_REQUIRED
            )


class TrustedOnly(SchemaExtension):
    """With `only_persisted`: refuses any operation whose text is not a trusted document, on
    every transport (HTTP is checked earlier, in `PersistedQueries`; this covers operations
    over WebSocket). Set as the operation's error before validation, so that nothing of it
    executes (an exception raised here would end a WebSocket operation's task instead)."""

    def __init__(self, trusted: TrustedDocuments) -> None:
        self.trusted = trusted

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.pre_execution_errors is None and query and not self.trusted.trusts(query):
            context.pre_execution_errors = [
                GraphQLError(
                    NOT_PERSISTED_MESSAGE,
                    extensions={"code": ErrorCode.PERSISTED_QUERY_REQUIRED.value},
                )
            ]
        yield


def _checked_hash(extension: object) -> str:
    """The hash of a well-formed `persistedQuery` extension; refuses any other shape."""
    if not isinstance(extension, dict):
        raise PersistedQueryRefused(
            400, "`extensions.persistedQuery` must be an object", ErrorCode.BAD_USER_INPUT
        )
    if extension.get("version") != 1:
        raise PersistedQueryRefused(
            400, "Unsupported persisted query version (only version 1)", ErrorCode.BAD_USER_INPUT
        )
    sha256_hash = extension.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not sha256_hash:
        raise PersistedQueryRefused(
            400,
            "`extensions.persistedQuery.sha256Hash` must be a non-empty string",
            ErrorCode.BAD_USER_INPUT,
        )
    if len(sha256_hash) > 256:
        raise PersistedQueryRefused(
            400, "`extensions.persistedQuery.sha256Hash` is too long", ErrorCode.BAD_USER_INPUT
        )
    return sha256_hash
