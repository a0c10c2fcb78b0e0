"""Which fields a query selects below the current one (fragments flattened)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from graph.strawberry_private import core_resolve_info


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
    `info.selected_fields`; on the fast path from the query's syntax tree, some ten times
    quicker, since it does not convert the whole subtree (and its arguments) first.
    """
    if getattr(info.schema, "fast_path", False):
        return names_from_syntax(info)
    names: set[str] = set()
    for field in info.selected_fields:
        names |= selected_names(field.selections)
    return names


def names_from_syntax(info: Any) -> set[str]:
    """`field_names_below`, read from graphql-core's resolve info (private to Strawberry)."""
    raw = core_resolve_info(info)
    names: set[str] = set()
    for node in raw.field_nodes:
        if node.selection_set is not None:
            _collect_names(node.selection_set, raw.fragments, names)
    return names


def _collect_names(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    names: set[str],
) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _collect_names(selection.selection_set, fragments, names)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                _collect_names(fragment.selection_set, fragments, names)
