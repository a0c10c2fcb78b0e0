"""Stable multi-key sorting with the simulators' shared null rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
SortKey = tuple[Callable[[T], Any], bool]  # (value of an item, descending?)


def sort_by(items: Iterable[T], keys: Sequence[SortKey[T]]) -> list[T]:
    """Sort by several keys, each ascending or descending; items equal on every key keep their
    incoming order. A missing (None) value sorts after every value ascending, first descending.
    """
    result = list(items)
    for key, descending in reversed(keys):
        result.sort(key=lambda item, key=key: _nulls_last(key(item)), reverse=descending)  # type: ignore[misc]
    return result


def _nulls_last(value: Any) -> tuple[bool, Any]:
    return (value is None, 0 if value is None else value)
