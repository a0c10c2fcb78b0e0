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
from simulators import DEFAULT_SEED, PROVIDERS, SimulatorSuite
from simulators import credentials as cred


def test_providers_are_the_config_spellings():
    assert PROVIDERS == ("edge_impulse", "orange", "metafold", "workflow", "modelarts")


def test_unknown_provider_is_a_key_error(suite):
    with pytest.raises(KeyError, match="unknown provider"):
        suite.sim("jenkins")


async def test_mount_under_a_custom_prefix(aiohttp_client, suite):
    app = web.Application()
    suite.mount(app, "/upstreams")
    client = await aiohttp_client(app)
    response = await client.get(
        "/upstreams/metafold/projects/1040/jobs",
        headers={"Authorization": f"Bearer {cred.METAFOLD_TOKEN}"},
    )
    assert response.status == 200
    assert len(await response.json()) == 1


def test_demo_sources_follow_the_config_contract(suite):
    sources = suite.demo_sources("http://127.0.0.1:8000/")
    assert [s["name"] for s in sources] == ["ei", "orange", "mf", "wf", "ma"]
    assert [s["provider"] for s in sources] == list(PROVIDERS)
    by_name = {s["name"]: s for s in sources}
    assert by_name["ei"]["organization_id"] == 1
    assert by_name["ei"]["base_url"] == "http://127.0.0.1:8000/_sim/edge_impulse"
    assert "projects" not in by_name["wf"]
    assert {"api_key_env", "token_env"} <= set(by_name["orange"])
    for source in sources:
        if source["provider"] != "workflow":
            assert source["projects"] == suite.projects(source["provider"])
        env_names = [v for k, v in source.items() if k.endswith("_env")]
        assert env_names and all(name in suite.demo_environ() for name in env_names)


async def test_demo_sources_parse_as_config_and_their_credentials_work(aiohttp_client, suite):
    client = await aiohttp_client(suite.app())
    root = str(client.make_url("")).rstrip("/")
    config = parse_config({"sources": suite.demo_sources(root)}, environ={})
    paths = {
        "edge_impulse": "/api/organizations/1/whitelabel/projects/{p}/jobs",
        "orange": "/projects/{p}/jobs",
        "metafold": "/projects/{p}/jobs",
        "workflow": "/jobs/v1/",
        "modelarts": "/v1/{p}/training-jobs",
    }
    for source in config.sources:
        headers = source.credential_headers(suite.demo_environ())
        provider = source.provider.value
        project = source.projects[0] if source.projects else ""
        async with aiohttp.ClientSession() as session:
            url = source.base_url + paths[provider].format(p=project)
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
        for secret in (
            cred.EI_API_KEY,
            cred.ORANGE_API_KEY,
            cred.METAFOLD_TOKEN,
            cred.MODELARTS_TOKEN,
        ):
            assert secret in text
        base = re.search(r"(http://\S+/_sim/workflow)", text)
        assert base is not None
        headers = {"Authorization": f"Bearer {cred.WORKFLOW_TOKEN}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base.group(1)}/jobs/v1/", params={"limit": 3}, headers=headers) as got,
        ):
            served = await got.read()
        assert served == orjson.dumps(SimulatorSuite().jobs("workflow", None)[:3])
    finally:
        process.terminate()
        await process.wait()
