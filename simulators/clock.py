"""The simulated "now" shared by every simulator of a suite."""

from __future__ import annotations

from datetime import datetime, timedelta


class ClockDisabled(RuntimeError):
    """Raised when something tries to move a suite that was built with `clock=False`."""


class SimClock:
    """A manual clock: starts at the datasets' fixed "now" and only moves when told to."""

    def __init__(self, start: datetime, *, enabled: bool) -> None:
        self.start = start
        self.enabled = enabled
        self._elapsed = timedelta(0)

    @property
    def now(self) -> datetime:
        return self.start + self._elapsed

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds` (>= 0) and return the new time."""
        if not self.enabled:
            raise ClockDisabled("this simulator suite was built with clock=False")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._elapsed += timedelta(seconds=seconds)
        return self.now
