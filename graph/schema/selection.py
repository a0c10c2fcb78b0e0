"""Which fields a query selects below the current one (fragments flattened)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selected_names(selections: Iterable[Selection]) -> set[str]:
    """Names of the fields selected at this level, looking through fragments."""
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names |= selected_names(selection.selections)
    return names


def field_names_below(info: Any) -> set[str]:
    """Names of the fields selected directly under the current field, fragments flattened
    (every occurrence of the field merged, as graphql-core merges them).

    On the general path (`[server] fast_path = false`) from Strawberry's public
    `info.selected_fields`; on the fast path from the query's syntax tree (the schema's
    `names_below`, `graph.engine.selection`), some ten times quicker, since it does not convert
    the whole subtree (and its arguments) first.
    """
    names_below = getattr(info.schema, "names_below", None)
    fast: set[str] | None = None if names_below is None else names_below(info)
    if fast is not None:
        return fast
    names: set[str] = set()
    for field in info.selected_fields:
        names |= selected_names(field.selections)
    return names
