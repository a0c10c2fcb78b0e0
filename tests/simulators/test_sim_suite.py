"""The suite as others use it: mounting, demo config and credentials, standalone serving."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import aiohttp
import orjson
import pytest
from aiohttp import web

from resolvers.config import parse_config
from resolvers.providers import registry
from simulators import DEFAULT_SEED, PROVIDERS, SimulatorSuite
from simulators.suite import DEMO_ENVIRON
from tests.providers import demo_source, oracle


def first_project(suite: SimulatorSuite, provider: str) -> str | None:
    return suite.projects(provider)[0] if registry.provider_row(provider).has_projects else None


def test_providers_are_the_registry_rows_in_order():
    assert tuple(row.name for row in registry.PROVIDERS) == PROVIDERS
    assert {row.name for row in registry.BUILT_IN} <= set(PROVIDERS)


def test_unknown_provider_is_a_key_error(suite):
    with pytest.raises(KeyError, match="unknown provider"):
        suite.sim("jenkins")


async def test_mount_under_a_custom_prefix(aiohttp_client, suite):
    app = web.Application()
    suite.mount(app, "/upstreams")
    client = await aiohttp_client(app)
    for provider in PROVIDERS:
        path = oracle(provider).list_url(first_project(suite, provider))
        headers = suite.sim(provider).auth_headers
        response = await client.get(f"/upstreams/{provider}{path}", headers=headers)
        assert response.status == 200, provider
        first = oracle(provider).native_id(suite.jobs(provider, first_project(suite, provider))[0])
        assert first in await response.text()
        assert (await client.get(f"/_sim/{provider}{path}", headers=headers)).status == 404


def test_demo_sources_follow_the_config_contract(suite):
    sources = suite.demo_sources("http://127.0.0.1:8000/")
    assert [s["name"] for s in sources] == [demo_source(p) for p in PROVIDERS]
    assert [s["provider"] for s in sources] == list(PROVIDERS)
    for source in sources:
        provider = source["provider"]
        assert source["base_url"] == f"http://127.0.0.1:8000/_sim/{provider}"
        if registry.provider_row(provider).has_projects:
            assert source["projects"] == suite.projects(provider)
        else:
            assert "projects" not in source
        env_names = {v for k, v in source.items() if k.endswith("_env")}
        assert env_names == set(suite.sim(provider).demo_secrets), provider
        assert env_names <= set(suite.demo_environ())


async def test_demo_sources_parse_as_config_and_their_credentials_work(aiohttp_client, suite):
    client = await aiohttp_client(suite.app())
    root = str(client.make_url("")).rstrip("/")
    config = parse_config({"sources": suite.demo_sources(root)}, environ={})
    assert len(config.sources) == len(PROVIDERS)
    for source in config.sources:
        headers = source.credential_headers(suite.demo_environ())
        provider = source.provider.value
        project = source.projects[0] if source.projects else None
        async with aiohttp.ClientSession() as session:
            url = source.base_url + oracle(provider).list_url(project)
            async with session.get(url, headers=headers) as response:
                assert response.status == 200, (source.name, await response.text())


async def test_standalone_server_prints_base_urls_and_credentials():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("control:"):
            line = await asyncio.wait_for(process.stdout.readline(), 20)
            assert line, "the server exited early"
            lines.append(line.decode().rstrip())
        text = "\n".join(lines)
        assert f"seed {DEFAULT_SEED}" in text
        for secret in DEMO_ENVIRON.values():
            assert secret in text
        fresh = SimulatorSuite()
        for provider in PROVIDERS:
            base = re.search(rf"(http://\S+/_sim/{provider})\b", text)
            assert base is not None, provider
            project = first_project(fresh, provider)
            url = base.group(1) + oracle(provider).list_url(project)
            headers = fresh.sim(provider).auth_headers
            async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as got:
                assert got.status == 200, provider
                served = orjson.loads(await got.read())
            first = orjson.dumps(fresh.jobs(provider, project)[0])
            assert first in orjson.dumps(served), provider
    finally:
        process.terminate()
        await process.wait()


async def test_each_simulator_takes_its_own_quirks_and_refuses_another_platforms(make_sims):
    """The shared switches are every simulator's; a platform-only one (ModelArts'
    `gateway_errors`, say) is its simulator's alone, and any other refuses it."""
    sims = await make_sims(SimulatorSuite())  # its own: the switches set here stay set
    own = {}
    for provider in PROVIDERS:
        status, switches = await sims.control(provider, "GET", "quirks")
        assert status == 200
        own[provider] = set(switches)
    shared = set.intersection(*own.values())
    assert {"date_format", "cap", "busy", "shuffle_ties", "expired_token"} <= shared
    assert any(names - shared for names in own.values()), "no simulator has a switch of its own"
    for provider in PROVIDERS:
        for name in set.union(*own.values()) - own[provider]:
            status, body = await sims.control(provider, "POST", "quirks", {name: True})
            assert status == 400 and "unknown quirk" in body["error"], (provider, name)
        for name in own[provider] - shared:
            status, body = await sims.control(provider, "POST", "quirks", {name: True})
            assert (status, body[name]) == (200, True), (provider, name)
