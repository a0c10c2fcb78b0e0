"""Every error in a response carries a code; nothing internal ever reaches a caller."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from graphql import GraphQLError

from graph.context import RequestContext
from resolvers.errors import ErrorCode, JobgraphError

log = logging.getLogger("jobgraph.errors")

INTERNAL_MESSAGE = "internal error"


def coded(error: GraphQLError) -> GraphQLError:
    """The error as callers see it: its message if ours, a code always, no internals."""
    original = error.original_error
    if isinstance(original, JobgraphError):
        message, extensions = original.message, original.extensions
    elif original is None or isinstance(original, GraphQLError):
        # Parse and validation errors, and argument or variable coercion (which wraps the
        # GraphQLError of the value at fault): the caller's query is at fault.
        message = error.message
        extensions = {"code": (error.extensions or {}).get("code", ErrorCode.BAD_USER_INPUT.value)}
    else:
        log.error("unexpected error at %s", error.path, exc_info=original)
        message, extensions = INTERNAL_MESSAGE, {"code": ErrorCode.INTERNAL.value}
    return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=extensions)


def with_reported(
    errors: Sequence[GraphQLError] | None, context: object
) -> list[GraphQLError] | None:
    """Code every error and add the ones resolvers reported alongside partial data."""
    result = [coded(e) for e in errors or ()]
    if isinstance(context, RequestContext):
        for item in context.reported:
            result.append(
                GraphQLError(
                    item.error.message, path=list(item.path), extensions=item.error.extensions
                )
            )
    return result or None
