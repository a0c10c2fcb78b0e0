"""Which fields a query selects below the current one (fragments flattened)."""

from __future__ import annotations

from collections.abc import Iterable

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


def child_selections(selections: Iterable[Selection], name: str) -> list[Selection]:
    """The selections under every occurrence of field `name` at this level."""
    found: list[Selection] = []
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            found.extend(selection.selections)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            found.extend(child_selections(selection.selections, name))
    return found
