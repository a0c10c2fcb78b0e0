"""Pages of the upstreams that sort and page a list themselves (Orange, ModelArts), read for a
federated page, parse only creation times up front: the same jobs, order, totals, requests and
learned cap as full reads, the same error for a bad answer, and a malformed job fails only when
it is built."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from resolvers.errors import ErrorCode, UpstreamError
from resolvers.paging import PageWindow, PagingHints
from resolvers.providers.base import ListQuery
from tests.adapters.conftest import Upstreams
from tests.providers import PROVIDERS, oracle, sorted_and_paged

SORTED = [provider for provider in PROVIDERS if sorted_and_paged(provider)]


def array_prefix(provider: str) -> str:
    """Where the job array sits in a list body, as an error's location spells it."""
    key = oracle(provider).jobs_key
    return "" if key is None else f"{key}."


def forget_paging(upstreams: Upstreams, provider: str) -> PagingHints:
    """What the source has learned of its upstream's paging, then forgotten (no server cap)."""
    hints = upstreams.client.hints(upstreams.sources[provider].name)
    learned = replace(hints, scanned_lengths=dict(hints.scanned_lengths))
    hints.learned_cap, hints.largest_page = None, 0
    hints.scanned_lengths.clear()
    return learned


def break_job(upstreams: Upstreams, provider: str, project: str | None, position: int) -> None:
    """Drop a required field of the job at `position` of the project's default order."""
    native_id = upstreams.raw_ids(provider, project)[position]
    job = next(
        j
        for j in upstreams.suite.sim(provider).dataset[project]
        if oracle(provider).native_id(j.payload) == native_id
    )
    del job.payload[oracle(provider).built_field]


def asked(upstreams: Upstreams, provider: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The list requests made since the last call, in a stable order (then forgotten)."""
    log = upstreams.log(provider)
    requests = sorted((entry.path, entry.query) for entry in log.entries)
    log.clear()
    return requests


@pytest.mark.parametrize("provider", SORTED)
async def test_a_raw_window_lists_the_same_jobs_totals_requests_and_cap_as_a_full_one(
    upstreams: Upstreams, provider: str
) -> None:
    project = upstreams.biggest_project(provider)
    query, window = ListQuery(project), PageWindow(0, 120)
    adapter = upstreams.adapter(provider)
    forget_paging(upstreams, provider)
    full = await adapter.fetch_window(upstreams.session(), query, window)
    full_requests = asked(upstreams, provider)
    full_learned = forget_paging(upstreams, provider)
    raw = await adapter.fetch_raw_window(upstreams.session(), query, window)

    assert asked(upstreams, provider) == full_requests
    assert [item.created_at for item in raw.items] == [job.created_at for job in full.items]
    assert [item.job() for item in raw.items] == full.items
    assert [job.native_id for job in full.items] == upstreams.raw_ids(provider, project)[:120]
    assert (raw.total, raw.end, raw.requests) == (full.total, full.end, full.requests)
    raw_learned = forget_paging(upstreams, provider)
    assert raw_learned.learned_cap == full_learned.learned_cap
    assert raw_learned.learned_cap == oracle(provider).server_cap


@pytest.mark.parametrize("provider", SORTED)
async def test_a_malformed_job_fails_a_raw_window_only_when_built_with_the_full_reads_error(
    upstreams: Upstreams, provider: str
) -> None:
    project = upstreams.biggest_project(provider)
    break_job(upstreams, provider, project, 7)
    query, window = ListQuery(project), PageWindow(0, 20)
    adapter = upstreams.adapter(provider)

    raw = await adapter.fetch_raw_window(upstreams.session(), query, window)
    assert len(raw.items) == 20
    built = [item.job() for position, item in enumerate(raw.items) if position != 7]
    assert [job.native_id for job in built] == [
        i for p, i in enumerate(upstreams.raw_ids(provider, project)[:20]) if p != 7
    ]
    with pytest.raises(UpstreamError) as lazily:
        raw.items[7].job()
    with pytest.raises(UpstreamError) as at_once:
        await adapter.fetch_window(upstreams.session(), query, window)
    assert lazily.value.code is ErrorCode.UPSTREAM_INVALID_RESPONSE
    assert f"{array_prefix(provider)}7.{oracle(provider).built_field}" in lazily.value.message
    assert lazily.value.message == at_once.value.message


@pytest.mark.parametrize("provider", SORTED)
@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("wrong_schema", {}),
        ("malformed_json", {}),
        # An error body with status 200: ModelArts' is_success false; Orange's lacks its header.
        ("status", {"status": 200}),
    ],
)
async def test_a_raw_read_of_a_bad_answer_fails_as_a_full_read_does(
    upstreams: Upstreams, provider: str, fault: str, options: dict[str, Any]
) -> None:
    query, window = ListQuery(upstreams.biggest_project(provider)), PageWindow(0, 20)
    adapter = upstreams.adapter(provider)
    faults = upstreams.suite.sim(provider).faults

    faults.add(fault, **options)
    with pytest.raises(UpstreamError) as full:
        await adapter.fetch_window(upstreams.session(), query, window)
    faults.add(fault, **options)
    with pytest.raises(UpstreamError) as raw:
        await adapter.fetch_raw_window(upstreams.session(), query, window)

    def outcome(error: UpstreamError) -> tuple[object, ...]:
        return (error.code, error.message, error.upstream_status, error.upstream_code)

    assert outcome(raw.value) == outcome(full.value)
    assert raw.value.code in (ErrorCode.UPSTREAM_INVALID_RESPONSE, ErrorCode.UPSTREAM_BAD_REQUEST)
