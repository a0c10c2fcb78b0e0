"""The client's resilience pieces on their own: deadlines, retry policy, breaker, cache."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from resolvers.resilience import (
    BreakerState,
    CacheKey,
    CircuitBreaker,
    Deadline,
    ResponseCache,
    RetryPolicy,
    credential_identity,
    parse_retry_after,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def key(url: str = "http://up/jobs", credentials: str = "c1", caller: str | None = "a") -> CacheKey:
    return CacheKey("mf", url, credentials, caller)


# --- deadline -------------------------------------------------------------------------


def test_deadline_counts_down_with_its_clock_and_never_goes_negative() -> None:
    clock = FakeClock()
    deadline = Deadline(2.0, clock)
    clock.advance(0.5)
    assert deadline.remaining() == pytest.approx(1.5)
    clock.advance(5)
    assert deadline.remaining() == 0.0
    assert deadline.expired


# --- Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), (" 0.25 ", 0.25), ("-4", 0.0), ("0", 0.0), ("inf", float("inf"))],
)
def test_retry_after_delta_seconds_are_read_as_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date_is_seconds_from_now() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0


def test_retry_after_date_in_the_past_means_now() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "Thu, 99 Foo 2026"])
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


# --- retry policy ---------------------------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_and_stays_capped() -> None:
    policy = RetryPolicy(max_retries=10, base_delay_s=0.1, max_delay_s=1.0)
    rng = random.Random(7)
    for retry, ceiling in enumerate([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]):
        delays = {policy.backoff_s(retry, rng) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


def test_no_retry_once_retries_are_used_up() -> None:
    policy = RetryPolicy(max_retries=2)
    rng = random.Random(1)
    assert policy.delay_before_retry(1, 10.0, rng) is not None
    assert policy.delay_before_retry(2, 10.0, rng) is None


def test_no_retry_when_max_retries_is_zero() -> None:
    assert RetryPolicy(max_retries=0).delay_before_retry(0, 10.0, random.Random(1)) is None


def test_retry_after_within_the_cap_and_budget_is_the_wait() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after_s=5)
    assert policy.delay_before_retry(0, 10.0, random.Random(1), retry_after_s=0.1) == 0.1


def test_retry_after_above_the_cap_is_not_retried() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after_s=5)
    assert policy.delay_before_retry(0, 100.0, random.Random(1), retry_after_s=6) is None


def test_retry_after_beyond_the_deadline_is_not_retried() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after_s=60)
    assert policy.delay_before_retry(0, 2.0, random.Random(1), retry_after_s=3) is None


def test_backoff_never_sleeps_past_the_deadline() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=1.0, max_delay_s=1.0, min_attempt_s=0.05)
    rng = random.Random(3)
    for _ in range(50):
        delay = policy.delay_before_retry(0, 0.6, rng)
        assert delay is None or delay + policy.min_attempt_s <= 0.6
    assert policy.delay_before_retry(0, 0.4, rng) is None


# --- circuit breaker ------------------------------------------------------------------


def opened(clock: FakeClock, threshold: int = 3, cooldown: float = 30) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold, cooldown, clock)
    for _ in range(threshold):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_breaker_stays_closed_below_the_failure_threshold() -> None:
    breaker = CircuitBreaker(3, 30, FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    breaker = opened(FakeClock())
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_consecutive_failure_count() -> None:
    breaker = CircuitBreaker(3, 30, FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_lets_one_probe_through_after_the_cooldown() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.advance(30)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()


def test_successful_probe_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.advance(31)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(29)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_abandoned_probe_frees_the_probe_slot() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_abandoned()
    assert breaker.allow()


def test_breaker_reports_each_state_change() -> None:
    clock = FakeClock()
    seen: list[BreakerState] = []
    breaker = CircuitBreaker(1, 5, clock)
    breaker.on_change = seen.append
    breaker.record_failure()
    clock.advance(5)
    breaker.allow()
    breaker.record_success()
    assert seen == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


# --- response cache -------------------------------------------------------------------


def test_cached_value_is_served_until_its_ttl_passes() -> None:
    clock = FakeClock()
    cache: ResponseCache[str] = ResponseCache(2.0, clock=clock)
    cache.put(key(), "page")
    clock.advance(1.9)
    assert cache.get(key()) == "page"
    clock.advance(0.1)
    assert cache.get(key()) is None


def test_cache_never_serves_another_callers_entry() -> None:
    cache: ResponseCache[str] = ResponseCache(60.0, clock=FakeClock())
    cache.put(key(caller="alice"), "alice's page")
    assert cache.get(key(caller="bob")) is None


def test_cache_never_serves_an_entry_fetched_with_other_credentials() -> None:
    cache: ResponseCache[str] = ResponseCache(60.0, clock=FakeClock())
    cache.put(key(credentials=credential_identity({"Authorization": "Bearer a"})), "a")
    assert cache.get(key(credentials=credential_identity({"Authorization": "Bearer b"}))) is None


def test_cache_evicts_the_least_recently_used_entry_beyond_its_size() -> None:
    cache: ResponseCache[str] = ResponseCache(60.0, max_entries=2, clock=FakeClock())
    cache.put(key("u1"), "1")
    cache.put(key("u2"), "2")
    assert cache.get(key("u1")) == "1"
    cache.put(key("u3"), "3")
    assert cache.get(key("u2")) is None
    assert cache.get(key("u1")) == "1"
    assert len(cache) == 2


def test_cache_keeps_its_bytes_within_budget() -> None:
    cache: ResponseCache[str] = ResponseCache(60.0, max_bytes=1000, size_of=len, clock=FakeClock())
    for n in range(20):
        cache.put(key(f"u{n}"), "x" * 200)
    assert cache.bytes <= 1000
    assert len(cache) == 5


def test_cache_skips_a_value_too_large_for_its_budget() -> None:
    cache: ResponseCache[str] = ResponseCache(60.0, max_bytes=1000, size_of=len, clock=FakeClock())
    cache.put(key(), "x" * 300)
    assert cache.get(key()) is None


def test_credential_identity_does_not_contain_the_credential() -> None:
    identity = credential_identity({"X-Auth-Token": "s3cret-token"})
    assert "s3cret" not in identity
    assert identity != credential_identity({"X-Auth-Token": "other"})
