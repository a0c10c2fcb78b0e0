"""The fast path's reading of the fields selected under the current one: straight from the
query's syntax tree (graphql-core's field nodes and fragments), not through Strawberry's
converted `info.selected_fields`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from graph.strawberry_private import core_resolve_info


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
