"""CSRF: a browser sends `text/plain` and form bodies cross-origin without a preflight, so such
POSTs are refused with a coded 400 before anything runs (as Apollo's CSRF prevention does)."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import Gateway

BODY = b'{"query": "{ workflowJobs(first: 2) { nodes { id } } }"}'


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
async def test_preflight_less_content_types_are_refused_before_any_upstream_call(
    gateway: Gateway, content_type: str
) -> None:
    gateway.reset_counts()
    response = await gateway.client.post(
        "/graphql", data=BODY, headers={"Content-Type": content_type, "Origin": "https://evil.test"}
    )
    body = await response.json(content_type=None)
    assert response.status == 400
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "data" not in body
    assert gateway.upstream_calls("workflow") == 0


async def test_a_real_form_post_is_refused(gateway: Gateway) -> None:
    form = aiohttp.FormData({"query": "{ workflowJobs(first: 2) { nodes { id } } }"})
    gateway.reset_counts()
    response = await gateway.client.post("/graphql", data=form)
    assert response.status == 400
    assert gateway.upstream_calls("workflow") == 0
