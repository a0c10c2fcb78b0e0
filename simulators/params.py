"""Strict query-parameter parsing shared by the simulators; failures raise `BadRequest`."""

from __future__ import annotations

import re
from collections.abc import Collection

from multidict import MultiMapping

from simulators.errors import BadRequest

INT32_MAX = 2**31 - 1
_INTEGER = re.compile(r"-?[0-9]+")


def single(query: MultiMapping[str], name: str) -> str | None:
    """The one value of a single-valued parameter; given twice is a client error."""
    values = query.getall(name, [])
    if len(values) > 1:
        raise BadRequest(f"parameter '{name}' must be given at most once")
    return values[0] if values else None


def parse_int(
    raw: str, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A base-10 integer within [minimum, maximum]."""
    if not _INTEGER.fullmatch(raw):
        raise BadRequest(f"parameter '{name}' must be an integer, got {raw!r}")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise BadRequest(f"parameter '{name}' must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise BadRequest(f"parameter '{name}' must be <= {maximum}, got {value}")
    return value


def int_param(
    query: MultiMapping[str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """An optional integer parameter with a default and inclusive bounds."""
    raw = single(query, name)
    if raw is None:
        return default
    return parse_int(raw, name, minimum=minimum, maximum=maximum)


def choice_param(
    query: MultiMapping[str], name: str, default: str, choices: Collection[str]
) -> str:
    """An optional parameter that must be one of `choices`."""
    raw = single(query, name)
    if raw is None:
        return default
    if raw not in choices:
        allowed = ", ".join(sorted(choices))
        raise BadRequest(f"parameter '{name}' must be one of {allowed}, got {raw!r}")
    return raw
