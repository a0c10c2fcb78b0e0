"""GraphiQL is served by the gateway itself (pinned npm assets, no CDN), opens with example
queries that are valid against the schema, and says how to install its assets when missing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import parse, validate

import graph.http.graphiql
from graph.http.graphiql import NPM_ASSETS, OWN_ASSETS, example_tabs
from graph.schema.build import build_schema
from resolvers.config import parse_config
from simulators import SimulatorSuite
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, oracle
from tests.service.conftest import Service

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html,application/xhtml+xml"}


def page_settings(page: str) -> Any:
    match = re.search(r'<script id="jobgraph-settings"[^>]*>(.*?)</script>', page)
    assert match is not None
    return orjson.loads(match.group(1))


async def test_a_browser_get_of_graphql_serves_our_own_graphiql_page(service: Service) -> None:
    reply = await service.request("GET", "/graphql", headers=HTML)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', reply.body)
    assert sources, "the page loads its assets"
    for url in sources:
        assert url.startswith("graphiql/static/") or url == "data:,", url


async def test_every_asset_the_page_names_is_served_by_the_gateway(service: Service) -> None:
    page = await service.request("GET", "/graphql", headers=HTML)
    for url in re.findall(r'(?:src|href)="(graphiql/static/[^"]+)"', page.body):
        reply = await service.request("GET", "/" + url)
        assert reply.status == 200, url
        assert reply.headers["Content-Type"].split(";")[0] in ("text/javascript", "text/css")
        assert reply.headers["X-Content-Type-Options"] == "nosniff"


async def test_assets_come_from_the_versions_pinned_in_the_lockfile(service: Service) -> None:
    lock = orjson.loads((ROOT / "package-lock.json").read_bytes())
    package = orjson.loads((ROOT / "package.json").read_bytes())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    installed = orjson.loads((ROOT / "node_modules/graphiql/package.json").read_bytes())
    assert installed["version"] == package["dependencies"]["graphiql"]


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/static/package.json",
        "/graphiql/static/..%2F..%2Fpyproject.toml",
        "/graphiql/static/%2E%2E%2Fgraph%2Fapp.py",
    ],
)
async def test_only_the_listed_assets_are_served(service: Service, path: str) -> None:
    reply = await service.request("GET", path)
    assert reply.status == 404


async def test_missing_assets_give_a_page_that_says_to_run_npm_ci(
    service: Service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(graph.http.graphiql, "node_modules_candidates", lambda: [tmp_path])
    reply = await service.request("GET", "/graphql", headers=HTML)
    assert reply.status == 503
    assert "npm ci" in reply.body
    assert str(tmp_path) in reply.body
    api = await service.graphql("{ sources { name } }")
    assert api.status == 200


async def test_the_page_opens_with_example_queries_for_the_configured_sources(
    service: Service,
) -> None:
    page = await service.request("GET", "/graphql", headers=HTML)
    settings = page_settings(page.body)
    text = "\n".join(tab["query"] for tab in settings["tabs"])
    fields = [oracle(p).field for p in PROVIDERS]
    for operation in ("Sources", "JobsPage", *(f[0].upper() + f[1:] for f in fields)):
        assert f"query {operation}" in text
    for provider in PROJECT_PROVIDERS:
        assert service.suite.projects(provider)[0] in text
    assert "Bearer <your token>" in settings["headers"]


def test_every_example_query_is_valid_against_the_schema(suite: SimulatorSuite) -> None:
    config = parse_config({"sources": suite.demo_sources("http://127.0.0.1:9")}, environ={})
    schema = build_schema()._schema
    tabs = example_tabs(config, schema)
    assert len(tabs) >= 3
    for tab in tabs:
        assert validate(schema, parse(tab["query"])) == [], tab["query"]


def test_the_page_script_is_served_from_the_package() -> None:
    for path in OWN_ASSETS.values():
        assert path.is_file()
    assert set(NPM_ASSETS) >= {"graphiql.min.js", "react.production.min.js"}


class TestDisabled:
    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"graphiql": False}

    async def test_graphiql_can_be_turned_off(self, service: Service) -> None:
        assert (await service.request("GET", "/graphql", headers=HTML)).status == 404
        assert (await service.request("GET", "/graphiql/static/graphiql.min.js")).status == 404
