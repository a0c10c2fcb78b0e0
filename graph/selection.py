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
    """Names of the fields selected directly under the current field, fragments flattened.

    The same answer as `selected_names(info.selected_fields[0].selections)`, read from the
    query's syntax tree without converting the whole subtree (and its arguments) first.
    """
    raw = info._raw_info
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
