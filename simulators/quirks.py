"""Behaviour switches: what the platforms' docs and SDKs leave legal, off by default.

Tests turn them on per simulator (`sim.quirks.date_format = "rfc1123"`, or over HTTP
`POST {base}/_control/quirks {"date_format": "rfc1123"}`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

DATE_FORMATS = ("iso", "rfc1123", "epoch_ms", "iso_naive")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


@dataclass(slots=True)
class Quirks:
    """One simulator's switches: these, shared by every simulator, and those a simulator's
    own subclass adds (its `quirks_class`), each a bool unless handled here."""

    # How date strings go on the wire: ISO 8601 as stored, RFC 1123 (what some SDKs say an
    # API sends), epoch milliseconds, or ISO without an offset.
    date_format: str = "iso"
    # Leave out the keys the provider's SDK treats as optional (the simulator's
    # `optional_keys`).
    omit_optional: bool = False
    # A server cap on page size below the documented one (None: only the documented cap).
    cap: int | None = None
    # Busy mode: this many new jobs arrive in a project just before each list of it.
    busy: int = 0
    # Jobs with equal creation times come back in a different order on each request.
    shuffle_ties: bool = False
    # Every credential is refused as expired (each simulator answers in its platform's words).
    expired_token: bool = False

    @property
    def reshapes_payloads(self) -> bool:
        """Whether any switch changes a job payload on the wire."""
        return self.date_format != "iso" or self.omit_optional

    def update(self, values: dict[str, Any]) -> None:
        """Set switches from JSON; an unknown switch or a bad value is a ValueError."""
        known = {f.name: f for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown quirk {name!r}; expected one of {', '.join(known)}")
            if name == "date_format" and value not in DATE_FORMATS:
                raise ValueError(f"date_format must be one of {', '.join(DATE_FORMATS)}")
            if name == "cap":
                if value is not None and (type(value) is not int or value < 1):
                    raise ValueError("cap must be a positive integer or null")
            elif name == "busy":
                if type(value) is not int or not 0 <= value <= 100:
                    raise ValueError("busy must be a count of jobs from 0 to 100")
            elif name != "date_format" and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            setattr(self, name, value)

    def page_size(self, asked: int) -> int:
        """How many items a page asked for `asked` may hold under the cap switch."""
        return asked if self.cap is None else min(asked, self.cap)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def changed(self) -> dict[str, Any]:
        """The switches that differ from their defaults."""
        default = type(self)().to_json()
        return {k: v for k, v in self.to_json().items() if default[k] != v}


def render_date(value: str, date_format: str) -> Any:
    """An ISO 8601 date string in `date_format`; other strings unchanged."""
    if date_format == "iso" or not _ISO.match(value):
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if date_format == "rfc1123":
        # strftime's %a/%b follow the locale; RFC 1123 names are fixed English.
        day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[moment.weekday()]
        month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")[moment.month - 1]  # fmt: skip
        return f"{day}, {moment.day:02d} {month} {moment.year:04d} {moment:%H:%M:%S} GMT"
    if date_format == "epoch_ms":
        return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")


def render_payload(payload: Any, quirks: Quirks, optional_keys: frozenset[str]) -> Any:
    """A job payload as the switches put it on the wire (a copy; the stored one is kept)."""
    if isinstance(payload, dict):
        return {
            key: render_payload(value, quirks, frozenset())
            for key, value in payload.items()
            if not (quirks.omit_optional and key in optional_keys)
        }
    if isinstance(payload, list):
        return [render_payload(item, quirks, frozenset()) for item in payload]
    if isinstance(payload, str):
        return render_date(payload, quirks.date_format)
    return payload
