"""GraphiQL in real headless Chromium (Debian's, launched by path; never a downloaded browser):
it loads with no request leaving the machine, and a query typed into it runs."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, Request, async_playwright

from graph.http.app import SERVICES
from tests.service.conftest import Service

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}


class Visit:
    """A page in a fresh browser profile, with every request and every error it caused."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", self._record)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def _record(self, request: Request) -> None:
        self.requests.append(request.url)

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith("data:") and urlsplit(url).hostname not in LOCAL_HOSTS
        ]

    async def open_graphiql(self, service: Service) -> None:
        async with self.page.expect_response(
            lambda r: r.url == service.graphql_url and r.request.method == "POST"
        ) as introspection:
            await self.page.goto(service.graphql_url)
        assert (await introspection.value).ok
        await self.page.locator(".graphiql-query-editor .CodeMirror").wait_for()


@pytest.fixture
async def visit(tmp_path: Path) -> AsyncIterator[Visit]:
    assert shutil.which(CHROMIUM), "Debian's chromium is needed: apt-get install chromium"
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield Visit(context, await context.new_page())
        finally:
            await context.close()


@pytest.fixture
def auth_settings() -> dict[str, str]:
    # The browser calls without a token, as someone exploring a local gateway would.
    return {"mode": "none"}


async def test_graphiql_loads_with_no_request_leaving_the_machine(
    service: Service, visit: Visit
) -> None:
    await visit.open_graphiql(service)
    await visit.page.get_by_text("query Sources").wait_for()
    assert visit.requests, "the page made requests"
    assert visit.foreign_requests() == []
    assert visit.errors == []


async def test_a_query_typed_into_graphiql_runs_and_its_result_appears(
    service: Service, visit: Visit
) -> None:
    await visit.open_graphiql(service)
    page = visit.page
    await page.locator(".graphiql-query-editor .CodeMirror-lines").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text("{ workflowJobs(first: 2) { nodes { source nativeId } } }")
    async with page.expect_response(
        lambda r: r.url == service.graphql_url and r.request.method == "POST"
    ) as answer:
        await page.locator(".graphiql-execute-button").click()
    assert (await answer.value).ok
    expected = await service.data("{ workflowJobs(first: 2) { nodes { nativeId } } }")
    response = page.locator(".graphiql-response")
    for node in expected["workflowJobs"]["nodes"]:
        await response.get_by_text(node["nativeId"]).wait_for()
    assert '"source": "wf"' in await response.inner_text()
    assert visit.foreign_requests() == []


async def test_the_explorer_plugin_lists_the_query_fields(service: Service, visit: Visit) -> None:
    await visit.open_graphiql(service)
    await visit.page.get_by_role("button", name="Show GraphiQL Explorer").click()
    explorer = visit.page.locator(".graphiql-plugin")
    await explorer.get_by_text("workflowJobs").wait_for()
    assert visit.errors == []


class TestSubscriptionTab:
    """The page's subscription example runs over a WebSocket from the browser (GraphiQL's
    bundled graphql-ws client, nothing fetched from elsewhere) and shows an event."""

    @pytest.fixture
    def source_overrides(self) -> dict[str, dict[str, Any]]:
        return {"mf": {"poll_interval_s": 1}}

    async def test_the_subscription_example_shows_an_event(
        self, service: Service, visit: Visit
    ) -> None:
        sockets: list[str] = []
        visit.page.on("websocket", lambda socket: sockets.append(socket.url))
        await visit.open_graphiql(service)
        page = visit.page
        await page.get_by_role("tab", name="JobEvents").click()
        await page.get_by_text("subscription JobEvents").wait_for()
        await page.locator(".graphiql-execute-button").click()
        app = service.server.app
        assert app is not None
        watch = app[SERVICES].watch
        async with asyncio.timeout(20):  # a deadline: the baseline polls of every source
            while not watch.pollers or any(p.known is None for p in watch.pollers.values()):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        sim = service.suite.sim("metafold")
        sim.mutations.create(sim.projects()[0], 1)
        response = visit.page.locator(".graphiql-response")
        await response.get_by_text('"CREATED"').wait_for(timeout=20_000)
        assert '"source": "mf"' in await response.inner_text()
        assert sockets == [service.graphql_url.replace("http", "ws", 1)]
        assert visit.foreign_requests() == []
        assert visit.errors == []
