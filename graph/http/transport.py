"""GraphQL over HTTP: a request's parameters read and checked, and the response's media type.

The GraphQL-over-HTTP spec calls a request "well-formed" when its parameters have the right
types (`query` a string; `operationName` a string or null; `variables` and `extensions` maps
or null). A request that is not is refused here with a 400, whatever the client accepts,
before anything of it reaches the schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
# Accept ranges that application/json satisfies (a bare `*/*` gets the legacy type, as the
# spec asks for clients that name neither).
_JSON_RANGES = frozenset({APPLICATION_JSON, "application/*", "*/*"})


class RequestRefused(ValueError):
    """A GraphQL-over-HTTP request that is not well-formed; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The four parameters of a well-formed request."""

    query: str
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client's Accept prefers it (the highest
    q-value, ties going to it), else application/json (also with no Accept at all)."""
    graphql_q = json_q = 0.0
    for part in (accept or "").split(","):
        media, *options = part.split(";")
        media = media.strip().lower()
        q = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media == GRAPHQL_RESPONSE_JSON:
            graphql_q = max(graphql_q, q)
        elif media in _JSON_RANGES:
            json_q = max(json_q, q)
    return GRAPHQL_RESPONSE_JSON if graphql_q > 0 and graphql_q >= json_q else APPLICATION_JSON


def _type_name(value: object) -> str:
    """The JSON type of a decoded value, for messages (never Python's own spelling of it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _map_or_null(name: str, value: object) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise RequestRefused(f"`{name}` must be an object or null, not {_type_name(value)}")


def params_from_body(body: object) -> GraphQLParams:
    """The parameters of a decoded JSON POST body."""
    if not isinstance(body, dict):
        raise RequestRefused("the request body must be a JSON object")
    query = body.get("query")
    extensions = _map_or_null("extensions", body.get("extensions"))
    if (query is None or query == "") and not _persisted(extensions):
        raise RequestRefused("No GraphQL query found in the request")
    if not isinstance(query, str | None):
        raise RequestRefused(f"`query` must be a string, not {_type_name(query)}")
    name = body.get("operationName")
    if not isinstance(name, str | None):
        raise RequestRefused(f"`operationName` must be a string or null, not {_type_name(name)}")
    return GraphQLParams(
        query or "", name, _map_or_null("variables", body.get("variables")), extensions
    )


def _persisted(extensions: Mapping[str, Any] | None) -> bool:
    """Whether the request names its operation by a persisted query's hash instead of a text
    (graph.http.persisted then finds the text, or answers PersistedQueryNotFound)."""
    return extensions is not None and extensions.get("persistedQuery") is not None


def params_from_query_string(
    params: Mapping[str, str],
    repeated: Callable[[str], bool],
    decode_json: Callable[[str], object],
) -> GraphQLParams:
    """The parameters of a GET request's query string: `variables` and `extensions` are JSON
    texts; an empty value counts as absent; a parameter given twice is refused (which one
    would be meant?)."""
    for name in ("query", "operationName", "variables", "extensions"):
        if repeated(name):
            raise RequestRefused(f"`{name}` is given more than once")
    query = params.get("query") or ""

    def json_member(name: str) -> dict[str, Any] | None:
        text = params.get(name)
        if not text:
            return None
        try:
            value = decode_json(text)
        except json.JSONDecodeError:
            raise RequestRefused(f"`{name}` is not valid JSON") from None
        return _map_or_null(name, value)

    extensions = json_member("extensions")
    if not query and not _persisted(extensions):
        raise RequestRefused("No GraphQL query found in the request")
    return GraphQLParams(
        query, params.get("operationName") or None, json_member("variables"), extensions
    )
