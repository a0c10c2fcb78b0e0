"""GraphiQL served entirely by the gateway: no CDN, so it works on a network with no internet.

The page (graph/static/graphiql.html) loads React, GraphiQL and the explorer plugin from
`node_modules/` — installed by `npm ci` from the committed package-lock.json — under
`/graphiql/static/<name>`, an allow-list, never a path taken from the URL. Its tabs open with
example queries built from the configured sources.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from graphql import GraphQLSchema

from graph.providers import EXAMPLE_PAGE_SIZE
from resolvers.config import Config
from resolvers.providers.registry import PROVIDERS, load

STATIC_PREFIX = "/graphiql/static/"
_PACKAGE_DIR = Path(__file__).resolve().parent
_PAGE = _PACKAGE_DIR / "static" / "graphiql.html"
_NOT_INSTALLED = _PACKAGE_DIR / "static" / "graphiql-missing.html"
# Served name -> file under node_modules/ (see package.json for the pinned versions).
NPM_ASSETS = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
}
OWN_ASSETS = {"jobgraph-graphiql.js": _PACKAGE_DIR / "static" / "graphiql.js"}
# The page reaches nothing but this origin; inline styles are GraphiQL's own.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def node_modules_candidates() -> list[Path]:
    """Where `npm ci` puts the packages: the checkout's root, else the working directory."""
    return [_PACKAGE_DIR.parents[1] / "node_modules", Path.cwd() / "node_modules"]


def find_node_modules(candidates: Sequence[Path] | None = None) -> Path | None:
    """The first candidate holding every asset GraphiQL needs, or None."""
    for root in node_modules_candidates() if candidates is None else candidates:
        if all((root / relative).is_file() for relative in NPM_ASSETS.values()):
            return root
    return None


def _provider_examples(config: Config) -> list[str]:
    """One named operation per configured provider (its graph module writes it), with a real
    source and project."""
    operations: list[str] = []
    for row in PROVIDERS:
        sources = [s for s in config.sources if s.provider == row.name]
        example = load(row.graph).graphiql_example(sources) if sources else None
        if example is not None:
            operations.append(example)
    return operations


def example_tabs(config: Config, schema: GraphQLSchema) -> list[dict[str, str]]:
    """The editor tabs GraphiQL opens with: real field names, real sources and projects."""
    tabs = [
        {
            "query": "# The sources you may read.\n"
            "query Sources {\n  sources { name provider projects healthy }\n}\n"
        }
    ]
    query_type = schema.query_type
    if query_type is not None and "jobs" in query_type.fields:
        tabs.append(
            {
                "query": "# The newest jobs of every source, merged.\n"
                "query RecentJobs {\n"
                f"  jobs(first: {EXAMPLE_PAGE_SIZE * 2}) {{\n"
                "    totalCount\n"
                "    pageInfo { hasNextPage endCursor }\n"
                "    nodes { id provider source name status createdAt }\n"
                "    failures { source code message }\n"
                "  }\n}\n"
            }
        )
    providers = _provider_examples(config)
    if providers:
        tabs.append(
            {
                "query": "# One provider at a time, with its own fields. Pick an operation "
                "with the run button.\n" + "\n\n".join(providers) + "\n"
            }
        )
    subscription_type = schema.subscription_type
    if subscription_type is not None and "jobEvents" in subscription_type.fields:
        tabs.append(
            {
                "query": "# Live updates over a WebSocket (graphql-transport-ws): run it, and\n"
                "# each job created, changed or removed upstream appears as it is polled.\n"
                "# Stop it with the run button again.\n"
                "subscription JobEvents {\n"
                "  jobEvents {\n"
                "    kind previousStatus at\n"
                "    job { id provider source name status createdAt finishedAt errorMessage }\n"
                "  }\n}\n"
            }
        )
    if query_type is not None and "jobs" in query_type.fields:
        tabs.append(
            {
                "query": "# Variables and a fragment: run, then pass `endCursor` as `after`.\n"
                "query JobsPage($first: Int = 10, $after: String) {\n"
                "  jobs(first: $first, after: $after) {\n"
                "    pageInfo { hasNextPage endCursor }\n"
                "    nodes { ...JobSummary }\n"
                "  }\n}\n\n"
                "fragment JobSummary on Job {\n"
                "  id provider source nativeId name status createdAt durationSeconds\n"
                "}\n",
                "variables": '{\n  "first": 5\n}',
            }
        )
    return tabs


def _json_for_script(value: Any) -> str:
    # Inside <script type="application/json">: "</" must not end the element early.
    return orjson.dumps(value).decode().replace("</", "<\\/")


class GraphiQLPage:
    """Renders the page and serves its assets."""

    def __init__(
        self,
        config: Config,
        schema: GraphQLSchema,
        node_modules: Sequence[Path] | None = None,
    ) -> None:
        self._candidates = list(node_modules) if node_modules is not None else None
        settings: dict[str, Any] = {"tabs": example_tabs(config, schema)}
        if config.auth.mode != "none":
            settings["headers"] = '{\n  "Authorization": "Bearer <your token>"\n}'
        self._settings = _json_for_script(settings)

    def node_modules(self) -> Path | None:
        return find_node_modules(self._candidates)

    async def render(self, request: web.Request) -> web.Response:
        """GraphiQL's page, or (503) how to install its assets when they are missing."""
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}
        if self.node_modules() is None:
            searched = ", ".join(str(p) for p in (self._candidates or node_modules_candidates()))
            text = _NOT_INSTALLED.read_text(encoding="utf-8").replace(
                "{{searched}}", html.escape(searched)
            )
            return web.Response(status=503, text=text, content_type="text/html", headers=headers)
        text = _PAGE.read_text(encoding="utf-8").replace("{{settings}}", self._settings)
        return web.Response(text=text, content_type="text/html", headers=headers)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path: Path | None = OWN_ASSETS.get(name)
        if path is None and name in NPM_ASSETS:
            root = self.node_modules()
            path = None if root is None else root / NPM_ASSETS[name]
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(
            path,
            headers={
                "Content-Type": _CONTENT_TYPES[path.suffix],
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(STATIC_PREFIX + "{name}", self.asset)
