"""Each layer of the upstream stack on its own, over a scripted inner layer of the same
interface (the HTTP-level proof stays with the simulator tests in tests/resilience/)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from opentelemetry.sdk.trace import TracerProvider

from resolvers.config import SourceConfig
from resolvers.errors import ErrorCode, UpstreamError
from resolvers.resilience import BreakerState, Deadline
from resolvers.upstream.base import (
    AttemptFailed,
    SourceRuntime,
    UpstreamRequest,
    UpstreamResponse,
)
from resolvers.upstream.breaker import Breaker
from resolvers.upstream.cache import Cached, CacheHits
from resolvers.upstream.deadline import AttemptDeadline
from resolvers.upstream.limit import ConcurrencyLimit
from resolvers.upstream.observe import Measured
from resolvers.upstream.retry import CoolDown, Retry
from resolvers.upstream.send import AiohttpSend, HttpErrors
from resolvers.upstream.stack import build_upstream
from resolvers.upstream.traced import Traced

SECRET = "s3cret-token"
MF = {
    "name": "mf",
    "provider": "metafold",
    "base_url": "http://127.0.0.1:1",
    "projects": ["p1"],
    "token_env": "MF_TOKEN",
}


def runtime(**settings: Any) -> SourceRuntime:
    config = SourceConfig.model_validate({**MF, **settings})
    return SourceRuntime.for_source(config, {"MF_TOKEN": SECRET})


def request(
    source: SourceRuntime, *, caller: str | None = "a", fresh: bool = False, seconds: float = 5.0
) -> UpstreamRequest:
    return UpstreamRequest(
        source,
        "/projects/{project}/jobs",
        {"project": "p1"},
        [("limit", "10")],
        describe,
        Deadline(seconds),
        caller=caller,
        fresh=fresh,
    )


def describe(status: int, body: bytes) -> tuple[str, str | None]:
    return body.decode(), "E42"


def answer(status: int, body: bytes = b"{}", **headers: str) -> UpstreamResponse:
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(headers)), body)


class Scripted:
    """An inner layer that answers from a script, one entry per send, and counts sends."""

    def __init__(self, *script: UpstreamResponse | Exception, delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.sends = 0
        self.closed = False

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.sends += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    async def aclose(self) -> None:
        self.closed = True


def fault(source: SourceRuntime, *, retryable: bool = True, is_fault: bool = True) -> Exception:
    error = source.error("HTTP 503", ErrorCode.UPSTREAM_UNAVAILABLE, status=503)
    return AttemptFailed(error, retryable=retryable, fault=is_fault)


async def test_retry_repeats_a_503_until_the_upstream_answers() -> None:
    source = runtime(max_retries=2)
    inner = Scripted(answer(503), answer(200))
    response = await Retry(HttpErrors(inner), random.Random(1)).send(request(source))
    assert response.status == 200
    assert inner.sends == 2


async def test_retry_never_repeats_a_400() -> None:
    source = runtime(max_retries=2)
    inner = Scripted(answer(400, b"bad filter"), answer(200))
    with pytest.raises(AttemptFailed) as failed:
        await Retry(HttpErrors(inner), random.Random(1)).send(request(source))
    assert failed.value.error.code is ErrorCode.UPSTREAM_BAD_REQUEST
    assert inner.sends == 1


async def test_retry_gives_up_when_its_retries_are_used() -> None:
    source = runtime(max_retries=1)
    inner = Scripted(answer(503))
    with pytest.raises(AttemptFailed):
        await Retry(HttpErrors(inner), random.Random(1)).send(request(source))
    assert inner.sends == 2


async def test_retry_waits_out_a_429_that_says_when_to_return() -> None:
    source = runtime(max_retries=1)
    inner = Scripted(answer(429, **{"Retry-After": "0"}), answer(200))
    response = await Retry(HttpErrors(inner), random.Random(1)).send(request(source))
    assert response.status == 200
    assert inner.sends == 2


async def test_a_429_without_retry_after_is_not_retried_and_says_how_long_to_cool_down() -> None:
    source = runtime(max_retries=3, throttle_cooldown_s=2.0)
    inner = Scripted(answer(429), answer(200))
    with pytest.raises(AttemptFailed) as failed:
        await Retry(HttpErrors(inner), random.Random(1)).send(request(source))
    assert inner.sends == 1
    assert failed.value.error.retry_after_s == 2.0
    assert failed.value.error.extra["retryAfter"] == 2.0
    assert source.throttle.remaining() > 1.5


async def test_cool_down_answers_rate_limited_without_asking_the_upstream() -> None:
    source = runtime()
    source.throttle.throttled(5.0)
    inner = Scripted(answer(200))
    with pytest.raises(UpstreamError) as raised:
        await CoolDown(inner).send(request(source))
    assert raised.value.code is ErrorCode.UPSTREAM_RATE_LIMITED
    assert raised.value.upstream_status == 429
    assert inner.sends == 0


async def test_breaker_opens_after_its_threshold_of_faults_and_then_fails_fast() -> None:
    source = runtime(breaker_failures=3)
    inner = Scripted(fault(source))
    breaker = Breaker(inner)
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await breaker.send(request(source))
    assert source.breaker.state is BreakerState.OPEN
    with pytest.raises(UpstreamError) as raised:
        await breaker.send(request(source))
    assert "circuit open" in raised.value.message
    assert inner.sends == 3


async def test_breaker_does_not_count_a_failure_that_is_not_the_upstreams_fault() -> None:
    source = runtime(breaker_failures=1)
    inner = Scripted(fault(source, is_fault=False))
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await Breaker(inner).send(request(source))
    assert source.breaker.state is BreakerState.CLOSED
    assert inner.sends == 3


async def test_attempt_deadline_turns_a_slow_attempt_into_a_timeout_fault() -> None:
    source = runtime(timeout_s=1)
    inner = Scripted(answer(200), delay=1.0)
    with pytest.raises(AttemptFailed) as failed:
        await AttemptDeadline(inner).send(request(source, seconds=0.05))
    assert failed.value.error.code is ErrorCode.UPSTREAM_TIMEOUT
    assert failed.value.fault and not failed.value.retryable


async def test_concurrency_limit_keeps_requests_of_one_source_under_max_concurrency() -> None:
    source = runtime(max_concurrency=1)
    in_flight = peak = 0

    class Counting(Scripted):
        async def send(self, request: UpstreamRequest) -> UpstreamResponse:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await super().send(request)
            finally:
                in_flight -= 1

    limited = ConcurrencyLimit(Counting(answer(200), delay=0.01))
    await asyncio.gather(*(limited.send(request(source)) for _ in range(4)))
    assert peak == 1


async def test_http_errors_describe_the_failure_with_secrets_redacted() -> None:
    source = runtime()
    inner = Scripted(answer(404, f"no such project (token {SECRET})".encode()))
    with pytest.raises(AttemptFailed) as failed:
        await HttpErrors(inner).send(request(source))
    error = failed.value.error
    assert error.code is ErrorCode.UPSTREAM_NOT_FOUND
    assert error.upstream_code == "E42"
    assert SECRET not in error.message
    assert "[redacted]" in error.message
    assert not failed.value.retryable and not failed.value.fault


class Outcomes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.hits: list[str] = []

    def upstream_request(self, source: str, outcome: str, seconds: float) -> None:
        self.seen.append((source, outcome))

    def cache_hit(self, source: str) -> None:
        self.hits.append(source)

    def breaker_state(self, source: str, state: str) -> None:
        pass


async def test_measured_reports_the_status_or_the_error_code_of_each_attempt() -> None:
    source = runtime()
    outcomes = Outcomes()
    await Measured(Scripted(answer(503)), outcomes).send(request(source))
    timeout = source.error("slow", ErrorCode.UPSTREAM_TIMEOUT)
    failing = Scripted(AttemptFailed(timeout, retryable=False, fault=True))
    with pytest.raises(AttemptFailed):
        await Measured(failing, outcomes).send(request(source))
    assert outcomes.seen == [("mf", "503"), ("mf", "upstream_timeout")]


def cached(inner: Scripted, outcomes: Outcomes | None = None) -> Cached:
    return Cached(inner, CacheHits(outcomes, traced=False))


async def test_cache_answers_a_repeated_request_without_the_upstream() -> None:
    source = runtime(cache_ttl_s=30)
    outcomes = Outcomes()
    inner = Scripted(answer(200, b"[1]"))
    layer = cached(inner, outcomes)
    first = await layer.send(request(source))
    again = await layer.send(request(source))
    assert again is first
    assert inner.sends == 1
    assert outcomes.hits == ["mf"]


async def test_cache_never_serves_one_callers_answer_to_another() -> None:
    source = runtime(cache_ttl_s=30)
    inner = Scripted(answer(200))
    layer = cached(inner)
    await layer.send(request(source, caller="a"))
    await layer.send(request(source, caller="b"))
    assert inner.sends == 2


async def test_a_fresh_read_passes_the_cache_by() -> None:
    source = runtime(cache_ttl_s=30)
    inner = Scripted(answer(200))
    layer = cached(inner)
    await layer.send(request(source))
    await layer.send(request(source, fresh=True))
    assert inner.sends == 2


async def test_cache_keeps_no_error_answer() -> None:
    source = runtime(cache_ttl_s=30)
    inner = Scripted(answer(500), answer(200))
    layer = cached(inner)
    await layer.send(request(source))
    assert (await layer.send(request(source))).status == 200
    assert inner.sends == 2


async def test_requests_asking_at_once_share_one_fetch() -> None:
    source = runtime(cache_ttl_s=30)
    inner = Scripted(answer(200), delay=0.02)
    layer = cached(inner)
    answers = await asyncio.gather(*(layer.send(request(source)) for _ in range(5)))
    assert inner.sends == 1
    assert all(each is answers[0] for each in answers)


async def test_an_uncached_source_asks_the_upstream_every_time() -> None:
    source = runtime()
    inner = Scripted(answer(200), delay=0.01)
    layer = cached(inner)
    await asyncio.gather(*(layer.send(request(source)) for _ in range(3)))
    assert inner.sends == 3


def layer_types(stack: object) -> list[type]:
    types: list[type] = []
    while stack is not None:
        types.append(type(stack))
        stack = getattr(stack, "inner", None)
    return types


async def test_the_stack_orders_its_layers_in_one_place_and_closes_from_the_outside() -> None:
    stack = build_upstream(rng=random.Random(), observer=Outcomes())
    assert layer_types(stack) == [
        Cached,
        CoolDown,
        Breaker,
        Retry,
        HttpErrors,
        Measured,
        AttemptDeadline,
        ConcurrencyLimit,
        AiohttpSend,
    ]
    await stack.aclose()


async def test_tracing_adds_the_span_layer_outermost() -> None:
    tracer = TracerProvider().get_tracer("test")
    stack = build_upstream(rng=random.Random(), tracer=tracer)
    assert layer_types(stack)[0] is Traced
    assert Measured not in layer_types(stack)
    await stack.aclose()
