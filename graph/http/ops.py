"""Operations endpoints: `/readyz` (config loaded, sources reachable) and `/metrics`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from graph.context import Services
from graph.http.metrics import GatewayMetrics
from resolvers.client import UpstreamSession
from resolvers.config import SourceConfig
from resolvers.errors import ErrorCode, JobgraphError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.registry import provider_row

log = logging.getLogger("jobgraph.readyz")

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SourceProbe:
    """One source's answer to the cheapest list request; `reachable` None: nothing to ask."""

    source: SourceConfig
    reachable: bool | None
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.source.name,
            "provider": self.source.provider.name,
            "reachable": self.reachable,
        }
        if self.code is not None:
            body["code"] = self.code
        return body


async def probe_source(services: Services, source: SourceConfig) -> SourceProbe:
    """Ask `source` for one job of its first project (or its one list, without projects)."""
    if provider_row(source.provider).has_projects and not source.projects:
        return SourceProbe(source, None)
    adapter = services.adapters[source.name]
    http = UpstreamSession(services.client)
    try:
        async with asyncio.timeout(min(source.timeout_s, PROBE_TIMEOUT_S)):
            project = adapter.check_project(source.projects[0] if source.projects else None)
            await adapter.fetch_window(http, ListQuery(project), PageWindow(0, 1))
    except TimeoutError:
        code = ErrorCode.UPSTREAM_TIMEOUT.value
        log.warning("readiness probe of source %s: no answer in time", source.name)
        return SourceProbe(source, False, code)
    except JobgraphError as exc:
        # The message is redacted by the client; it goes to the log, only the code is served.
        log.warning("readiness probe of source %s failed: %s", source.name, exc.message)
        return SourceProbe(source, False, exc.code.value)
    return SourceProbe(source, True)


class Readiness:
    """`/readyz`: concurrent probes of every source; concurrent callers share one round."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._round: asyncio.Future[list[SourceProbe]] | None = None

    async def probe_all(self) -> list[SourceProbe]:
        if self._round is None or self._round.done():
            sources = self.services.config.sources
            self._round = asyncio.ensure_future(
                asyncio.gather(*(probe_source(self.services, s) for s in sources))
            )
        return await asyncio.shield(self._round)

    async def handle(self, request: web.Request) -> web.Response:
        probes = await self.probe_all()
        ready = all(probe.reachable is not False for probe in probes)
        breakers = self.services.client.breaker_states()
        body: dict[str, Any] = {
            "status": "ready" if ready else "unready",
            "config": "loaded",
            "sources": [
                {**probe.to_json(), "breaker": breakers.get(probe.source.name)} for probe in probes
            ],
        }
        shared = self.services.shared
        if shared is not None:
            # Without Redis every replica still answers (cache bypassed, limits in process):
            # degraded, named here, but never unready.
            error = await shared.ping()
            body["redis"] = (
                {"status": "ok"} if error is None else {"status": "degraded", "error": error}
            )
        return web.json_response(body, status=200 if ready else 503)


def metrics_handler(metrics: GatewayMetrics) -> Any:
    async def serve_metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": metrics.content_type}
        )

    return serve_metrics
