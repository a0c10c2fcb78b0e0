"""What every adapter promises, checked against each provider's simulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from resolvers.client import UpstreamSession
from resolvers.domain import Provider
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers import registry
from resolvers.providers.base import ListQuery
from resolvers.providers.registry import build_adapters
from simulators import PROVIDERS
from tests.adapters.conftest import Upstreams
from tests.providers import oracle

HOSTILE_IDS = ("a/b", "..", "x?y", "x#y")


def test_registry_has_one_adapter_per_provider_and_builds_one_per_source(
    upstreams: Upstreams,
) -> None:
    adapters = {Provider(row.name): row.adapter_class() for row in registry.PROVIDERS}
    assert set(adapters) == set(Provider)
    assert all(cls.provider is provider for provider, cls in adapters.items())
    built = build_adapters(list(upstreams.sources.values()))
    assert {name: a.provider for name, a in built.items()} == {
        s.name: s.provider for s in upstreams.sources.values()
    }


@pytest.mark.parametrize("page_size", [1, 7, 10, 100])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_forward_walk_visits_every_job_of_every_project_once_in_order(
    upstreams: Upstreams, provider: str, page_size: int
) -> None:
    adapter = upstreams.adapter(provider)
    for project in upstreams.projects(provider):
        seen: list[str] = []
        start = 0
        while True:
            # Each page is its own operation, as a client walking a connection makes it.
            result = await adapter.fetch_window(
                upstreams.session(), ListQuery(project), PageWindow(start, start + page_size)
            )
            seen.extend(job.native_id for job in result.items)
            if len(result.items) < page_size:
                break
            start += page_size
        assert seen == upstreams.raw_ids(provider, project), (provider, project)


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_hostile_project_ids_are_rejected_before_any_request(
    upstreams: Upstreams, provider: str, bad_id: str
) -> None:
    adapter = upstreams.adapter(provider)
    with pytest.raises(BadUserInput):
        adapter.check_project(bad_id)
    with pytest.raises(BadUserInput):
        await adapter.fetch_window(upstreams.session(), ListQuery(bad_id), PageWindow(0, 10))
    with pytest.raises(BadUserInput):
        await adapter.fetch_by_ids(upstreams.session(), bad_id, ["1"])
    assert upstreams.log(provider).entries == []


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_hostile_job_ids_are_rejected_before_any_request(
    upstreams: Upstreams, provider: str, bad_id: str
) -> None:
    adapter = upstreams.adapter(provider)
    project = upstreams.biggest_project(provider)
    with pytest.raises(BadUserInput):
        await adapter.fetch_by_ids(upstreams.session(), project, ["1", bad_id])
    assert upstreams.log(provider).entries == []


@pytest.mark.parametrize("fault", ["wrong_schema", "malformed_json"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_body_of_the_wrong_shape_or_not_json_is_an_invalid_response(
    upstreams: Upstreams, provider: str, fault: str
) -> None:
    upstreams.suite.sim(provider).faults.add(fault)
    adapter = upstreams.adapter(provider)
    query = ListQuery(upstreams.biggest_project(provider))
    with pytest.raises(UpstreamError) as caught:
        await adapter.fetch_window(upstreams.session(), query, PageWindow(0, 5))
    assert caught.value.code is ErrorCode.UPSTREAM_INVALID_RESPONSE
    assert caught.value.source == adapter.source.name
    assert caught.value.upstream_status == 200


# Those with a single-job endpoint whose body is the job object: where the docs show an array
# of one (the workflow API), the fault's `[object]` is a legal shape
# (tests/graph/test_upstream_payload_shapes.py).
SINGLE_JOB_OBJECT = [
    p for p in PROVIDERS if oracle(p).job_path is not None and not oracle(p).single_job_as_array
]


@pytest.mark.parametrize("provider", SINGLE_JOB_OBJECT)
async def test_a_single_job_body_of_the_wrong_shape_is_an_invalid_response(
    upstreams: Upstreams, provider: str
) -> None:
    project = upstreams.biggest_project(provider)
    job_id = upstreams.raw_ids(provider, project)[0]
    upstreams.suite.sim(provider).faults.add("wrong_schema")
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(provider).fetch_by_ids(upstreams.session(), project, [job_id])
    assert caught.value.code is ErrorCode.UPSTREAM_INVALID_RESPONSE
    assert upstreams.log(provider).count("get") == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_required_field_missing_from_a_job_is_an_invalid_response(
    upstreams: Upstreams, provider: str
) -> None:
    project = upstreams.biggest_project(provider)
    stored = upstreams.suite.sim(provider).project_jobs(project)[0].payload
    del stored[oracle(provider).required_field]
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(provider).fetch_window(
            upstreams.session(), ListQuery(project), PageWindow(0, 3)
        )
    assert caught.value.code is ErrorCode.UPSTREAM_INVALID_RESPONSE
    assert oracle(provider).required_field in caught.value.message


def _keys(value: Any) -> Any:
    """The nested key structure of a JSON value (lists by their elements' union)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            shape = _keys(item)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


def _missing(raw: Any, parsed: Any, path: str = "") -> list[str]:
    if isinstance(raw, dict) and isinstance(parsed, dict):
        missing = [f"{path}.{k}" for k in raw if k not in parsed]
        for k in raw:
            if k in parsed:
                missing += _missing(raw[k], parsed[k], f"{path}.{k}")
        return missing
    if isinstance(raw, list) and isinstance(parsed, list) and raw and parsed:
        return _missing(raw[0], parsed[0], f"{path}[]")
    return []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_payload_keeps_every_field_of_the_upstream_job(
    upstreams: Upstreams, provider: str
) -> None:
    for project in upstreams.projects(provider):
        jobs = await upstreams.all_jobs(provider, ListQuery(project))
        for raw, job in zip(upstreams.raw(provider, project), jobs, strict=True):
            assert isinstance(job.payload, BaseModel)
            dumped = job.payload.model_dump(by_alias=True)
            assert _missing(_keys(raw), _keys(dumped)) == [], (provider, raw)


CODES = {
    403: ErrorCode.UPSTREAM_FORBIDDEN,
    429: ErrorCode.UPSTREAM_RATE_LIMITED,
    503: ErrorCode.UPSTREAM_UNAVAILABLE,
}


@pytest.mark.parametrize("status", sorted(CODES))
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_error_body_becomes_a_coded_error_with_the_providers_code_and_status(
    upstreams: Upstreams, provider: str, status: int
) -> None:
    kind = "rate_limit" if status == 429 else "status"
    upstreams.suite.sim(provider).faults.add(kind, status=None if status == 429 else status)
    adapter = upstreams.adapter(provider)
    query = ListQuery(upstreams.biggest_project(provider))
    with pytest.raises(UpstreamError) as caught:
        await adapter.fetch_window(upstreams.session(), query, PageWindow(0, 5))
    error = caught.value
    assert error.code is CODES[status]
    assert error.upstream_status == status
    assert error.upstream_code == oracle(provider).error_codes[status]
    assert error.provider == adapter.provider.name
    assert error.extensions["upstreamStatus"] == status
    if status == 429:
        assert error.retry_after_s == 1.0
    else:
        assert "Simulated failure" in error.message


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rejected_credentials_are_upstream_unauthorized_and_never_echoed(
    upstreams: Upstreams, client_with_environ: Any, provider: str
) -> None:
    environ = {name: f"wrong-{name}" for name in upstreams.suite.demo_environ()}
    client = await client_with_environ(environ)
    http = UpstreamSession(client)
    query = ListQuery(upstreams.biggest_project(provider))
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(provider).fetch_window(http, query, PageWindow(0, 5))
    error = caught.value
    assert error.code is ErrorCode.UPSTREAM_UNAUTHORIZED
    assert error.upstream_status == 401
    assert error.upstream_code == oracle(provider).error_codes[401]
    assert not any(secret in error.message for secret in environ.values())
