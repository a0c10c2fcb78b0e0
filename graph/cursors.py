"""Opaque, self-contained, tamper-evident cursors bound to the query that produced them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import orjson

from resolvers.connection import Anchor
from resolvers.errors import BadUserInput

CURSOR_VERSION = 1
_MAC_BYTES = 12
_BINDING_BYTES = 8
_MAX_CURSOR_CHARS = 4096


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def binding_of(*parts: Any) -> bytes:
    """A short digest of the arguments a cursor is valid for (field, source, filters, order)."""
    return hashlib.blake2b(orjson.dumps(parts, default=str), digest_size=_BINDING_BYTES).digest()


class CursorCodec:
    """Signs positions into cursors and checks them back: a cursor from another query, a
    tampered one or an unknown format is BAD_USER_INPUT, never a wrong page."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, binding: bytes, position: int | Sequence[Any]) -> str:
        body = orjson.dumps([CURSOR_VERSION, _b64(binding), position])
        return _b64(body + self._mac(body))

    def decode(self, cursor: str, binding: bytes, argument: str) -> Any:
        """The position inside `cursor`, checked against `binding`."""
        if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_CHARS:
            raise BadUserInput(f"`{argument}` is not a valid cursor")
        try:
            raw = _unb64(cursor)
        except (binascii.Error, ValueError):
            raise BadUserInput(f"`{argument}` is not a valid cursor") from None
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._mac(body)):
            raise BadUserInput(f"`{argument}` is not a valid cursor")
        try:
            version, cursor_binding, position = orjson.loads(body)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            raise BadUserInput(f"`{argument}` is not a valid cursor") from None
        if version != CURSOR_VERSION:
            raise BadUserInput(f"`{argument}` is a cursor of an older format; start again")
        if cursor_binding != _b64(binding):
            raise BadUserInput(f"`{argument}` belongs to a query with other arguments")
        return position

    def decode_anchor(
        self, cursor: str | None, binding: bytes, argument: str
    ) -> tuple[int | None, Anchor | None]:
        """A single-sequence position and, for an edge cursor, the job it stands on."""
        if cursor is None:
            return None, None
        raw = self.decode(cursor, binding, argument)
        if type(raw) is int and raw >= -1:
            return raw, None
        if (
            isinstance(raw, list)
            and len(raw) == 3
            and type(raw[0]) is int
            and raw[0] >= 0
            and isinstance(raw[1], str)
            and (raw[2] is None or type(raw[2]) is int)
        ):
            return raw[0], Anchor(raw[0], raw[1], raw[2])
        raise BadUserInput(f"`{argument}` is not a valid cursor")

    def encode_anchor(self, binding: bytes, anchor: Anchor) -> str:
        return self.encode(binding, [anchor.position, anchor.native_id, anchor.created_us])

    def decode_position(self, cursor: str | None, binding: bytes, argument: str) -> int | None:
        """A single-sequence position (an int >= -1), or None when no cursor was given."""
        if cursor is None:
            return None
        position = self.decode(cursor, binding, argument)
        if type(position) is not int or position < -1:
            raise BadUserInput(f"`{argument}` is not a valid cursor")
        return position
