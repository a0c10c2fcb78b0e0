"""Small pure pieces the HTTP client composes: deadlines, the retry policy, a circuit breaker
per source and a short-TTL response cache. None of them does I/O; each takes its clock (and
randomness) as a parameter so tests can drive it without HTTP or real time.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Generic, TypeVar

Clock = Callable[[], float]
T = TypeVar("T")

# Statuses a GET may be repeated after: the upstream (or a proxy) says "not now".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class Deadline:
    """A monotonic point in time by which a whole logical request, retries included, ends."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.seconds = seconds
        self.at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date); None when
    absent or unreadable. Dates in the past and negative values mean "now" (0)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed GET.

    Backoff is exponential with "equal jitter" (half fixed, half random) so that callers who
    failed together do not retry together. A retry is only planned when its wait plus a
    minimal attempt still fits in what is left of the request's deadline.
    """

    max_retries: int
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    max_retry_after_s: float = 10.0
    min_attempt_s: float = 0.05

    def backoff_s(self, retry: int, rng: random.Random) -> float:
        """The jittered wait before retry number `retry` (0-based)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**retry)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def delay_before_retry(
        self,
        retry: int,
        remaining_s: float,
        rng: random.Random,
        retry_after_s: float | None = None,
    ) -> float | None:
        """Seconds to sleep before retry number `retry`, or None when it must not happen:
        retries used up, a `Retry-After` above the cap, or no time left before the deadline."""
        if retry >= self.max_retries:
            return None
        if retry_after_s is not None:
            if retry_after_s > self.max_retry_after_s:
                return None
            delay = retry_after_s
        else:
            delay = self.backoff_s(retry, rng)
        if delay + self.min_attempt_s > remaining_s:
            return None
        return delay


class Throttle:
    """A source that answered 429 cools down: until then every caller is told to come back
    (with how long), rather than each retrying into the same limit.

    The cool-down is the upstream's `Retry-After` where it sends one, else `base_s`,
    doubling with each throttled answer in a row up to `max_s` (some upstreams' quotas are
    per minute and say nothing of when to return)."""

    def __init__(self, base_s: float, max_s: float, clock: Clock = time.monotonic) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self._clock = clock
        self._until = 0.0
        self._strikes = 0

    def remaining(self) -> float:
        """Seconds of cool-down left (0 when the source may be asked)."""
        return max(0.0, self._until - self._clock())

    def throttled(self, retry_after_s: float | None) -> float:
        """Record a 429; returns the cool-down it starts."""
        if retry_after_s is not None:
            cool = min(max(retry_after_s, 0.0), self.max_s)
        else:
            cool = min(self.base_s * 2.0**self._strikes, self.max_s)
        self._strikes += 1
        self._until = max(self._until, self._clock() + cool)
        return cool

    def hold(self, seconds: float) -> None:
        """Cool down for `seconds` more (another replica met the 429), without a strike."""
        self._until = max(self._until, self._clock() + seconds)

    def answered(self) -> None:
        """A request got through: the next 429 starts from the base cool-down again."""
        self._strikes = 0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Fails fast after `failure_threshold` consecutive upstream faults, for `cooldown_s`;
    then lets one probe through (half-open) and closes again when it succeeds."""

    def __init__(self, failure_threshold: int, cooldown_s: float, clock: Clock = time.monotonic):
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.on_change: Callable[[BreakerState], None] | None = None

    @property
    def state(self) -> BreakerState:
        """The state as a caller would meet it now (open turns half-open once cooled down)."""
        if self._state is BreakerState.OPEN and self.cooldown_left() == 0.0:
            return BreakerState.HALF_OPEN
        return self._state

    def cooldown_left(self) -> float:
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown_s - self._clock())

    def allow(self) -> bool:
        """Whether a request may go upstream now; in half-open state only one probe at a time."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if self.cooldown_left() > 0.0:
                return False
            self._set(BreakerState.HALF_OPEN)
        if self._probing:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        """The upstream answered (any answer that is not an upstream fault)."""
        self._failures = 0
        self._probing = False
        if self._state is not BreakerState.CLOSED:
            self._set(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """An upstream fault: 5xx, timeout, dropped or refused connection."""
        self._failures += 1
        self._probing = False
        if self._state is BreakerState.HALF_OPEN or (
            self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self._set(BreakerState.OPEN)

    def record_abandoned(self) -> None:
        """A request ended without a verdict (cancelled): free the probe slot it may hold."""
        self._probing = False

    def _set(self, state: BreakerState) -> None:
        self._state = state
        if self.on_change is not None:
            self.on_change(state)


def credential_identity(headers: Mapping[str, str]) -> str:
    """A short digest naming the credentials in `headers` without revealing them."""
    material = "\0".join(f"{k.lower()}\0{v}" for k, v in sorted(headers.items()))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What a cached response answers: this source, this exact URL, asked with these
    credentials on behalf of this caller."""

    source: str
    url: str
    credentials: str
    caller: str | None


class ResponseCache(Generic[T]):
    """A bounded LRU of successful responses, each valid for `ttl_s` seconds."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 256,
        max_bytes: int = 32 * 1024 * 1024,
        size_of: Callable[[T], int] = lambda _: 0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, int, T]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, size, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            self.bytes -= size
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: CacheKey, value: T) -> None:
        size = self._size_of(value)
        # One response may use at most a quarter of the budget, so a few large ones fit.
        if size > self.max_bytes // 4:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._entries[key] = (self._clock() + self.ttl_s, size, value)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, evicted, _) = self._entries.popitem(last=False)
            self.bytes -= evicted
