"""The Relay arguments, added once: every connection field gets `first`, `after`, `last` and
`before` from `RelayConnection`, as `strawberry.relay`'s `ConnectionExtension` adds them.

A connection field's resolver takes only its own arguments and returns what to list (a
`ConnectionRequest`); the extension takes the Relay arguments off the call and resolves the
request's page with them."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField

from graph.context import RequestContext

Ctx = strawberry.Info[RequestContext, None]


@dataclass(frozen=True, slots=True)
class RelayArgs:
    """A connection's window as the client asked for it (cursors still encoded)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


class ConnectionRequest(Protocol):
    """What a connection field lists, resolved into a page once the window is known."""

    def resolve(self, info: Ctx, relay: RelayArgs) -> Awaitable[Any]: ...


# In the order they stand in the SDL, after each field's own arguments.
_ARGUMENTS: tuple[tuple[str, object], ...] = (
    ("first", int | None),
    ("after", str | None),
    ("last", int | None),
    ("before", str | None),
)


class RelayConnection(FieldExtension):
    """Adds the Relay arguments to a connection field and resolves its page with them."""

    def apply(self, field: StrawberryField) -> None:
        # Strawberry applies a field's extensions each time a schema is built of it: once.
        present = {argument.python_name for argument in field.arguments}
        field.arguments = [
            *field.arguments,
            *(
                StrawberryArgument(
                    python_name=name,
                    graphql_name=None,
                    type_annotation=StrawberryAnnotation(annotation),
                    default=None,
                )
                for name, annotation in _ARGUMENTS
                if name not in present
            ),
        ]

    # Positional only: a field's own argument may be called `source`.
    async def resolve_async(  # type: ignore[override]
        self, next_: AsyncExtensionResolver, root: Any, info: Ctx, /, **kwargs: Any
    ) -> Any:
        relay = RelayArgs(**{name: kwargs.pop(name, None) for name, _ in _ARGUMENTS})
        request: ConnectionRequest = await next_(root, info, **kwargs)
        return await request.resolve(info, relay)


def connection_field(description: str, graphql_type: Any) -> Any:
    """A connection field of `graphql_type` (its resolver returns a `ConnectionRequest`)."""
    return strawberry.field(
        description=description, graphql_type=graphql_type, extensions=[RelayConnection()]
    )
