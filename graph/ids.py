"""Global ids: an opaque encoding of (source, project, native id)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from resolvers.errors import BadUserInput

_PREFIX = "job:"
_MAX_ID_CHARS = 1024


@dataclass(frozen=True, slots=True)
class JobKey:
    """What a global id stands for."""

    source: str
    project: str | None
    native_id: str


def encode_global_id(key: JobKey) -> str:
    body = orjson.dumps([key.source, key.project, key.native_id])
    return base64.urlsafe_b64encode(_PREFIX.encode() + body).rstrip(b"=").decode("ascii")


def decode_global_id(value: str) -> JobKey:
    """The key inside a global id; anything malformed is BAD_USER_INPUT."""
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_CHARS:
        raise BadUserInput("not a valid job id")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        if not raw.startswith(_PREFIX.encode()):
            raise ValueError
        source, project, native_id = orjson.loads(raw[len(_PREFIX) :])
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise BadUserInput(f"{value[:64]!r} is not a valid job id") from None
    if not isinstance(source, str) or not isinstance(native_id, str):
        raise BadUserInput(f"{value[:64]!r} is not a valid job id")
    if project is not None and not isinstance(project, str):
        raise BadUserInput(f"{value[:64]!r} is not a valid job id")
    return JobKey(source, project, native_id)
