"""What resolvers reach: app-wide services and the per-operation request context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.cursors import CursorCodec
from resolvers.client import UpstreamClient, UpstreamSession
from resolvers.config import Config, SourceConfig
from resolvers.domain import Provider
from resolvers.errors import BadUserInput, Forbidden, JobgraphError
from resolvers.providers.base import ProviderAdapter
from resolvers.shared_state import RedisUpstreamState
from resolvers.tracing import Tracing
from resolvers.watch import JobWatch


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's name and the sources it may read (None: all)."""

    name: str
    sources: frozenset[str] | None = None

    def may_read(self, source: str) -> bool:
        return self.sources is None or source in self.sources


ANONYMOUS = Principal("anonymous")


@dataclass(slots=True)
class Services:
    """Long-lived parts, created and closed with the app."""

    config: Config
    client: UpstreamClient
    adapters: dict[str, ProviderAdapter]
    cursors: CursorCodec
    watch: JobWatch
    # The state replicas share through Redis ([cache] backend = "redis"), else None.
    shared: RedisUpstreamState | None = None
    # OpenTelemetry ([tracing] otlp_endpoint), else None.
    tracing: Tracing | None = None

    def sources_of(self, provider: Provider) -> list[SourceConfig]:
        return [s for s in self.config.sources if s.provider is provider]


@dataclass(frozen=True, slots=True)
class ReportedError:
    """An error to add to the response's `errors` while the data stays (partial results)."""

    error: JobgraphError
    path: tuple[str | int, ...]


@dataclass(slots=True)
class RequestContext:
    """One GraphQL operation's context."""

    services: Services
    principal: Principal = ANONYMOUS
    request: Any = None
    http: UpstreamSession = field(init=False)
    reported: list[ReportedError] = field(default_factory=list)
    cache: dict[Any, Any] = field(default_factory=dict)
    # Set once execution begins (the variables coerced): errors before it are request errors.
    executed: bool = False
    # A WebSocket's `connection_init` payload (Strawberry sets it); None over HTTP.
    connection_params: dict[str, object] | None = None
    # The connection's running subscriptions, counted against max_subscriptions_per_connection.
    subscriptions: int = 0

    def __post_init__(self) -> None:
        self.http = UpstreamSession(self.services.client, caller=self.principal.name)

    def act_as(self, principal: Principal) -> None:
        """Make `principal` the caller (a WebSocket authenticated at `connection_init`)."""
        self.principal = principal
        self.http = UpstreamSession(self.services.client, caller=principal.name)

    @property
    def max_page_size(self) -> int:
        return self.services.config.server.max_page_size

    def readable_sources(self) -> list[SourceConfig]:
        return [s for s in self.services.config.sources if self.principal.may_read(s.name)]

    def check_source(self, name: str) -> SourceConfig:
        """The named source, if it exists and the caller may read it."""
        source = self.services.config.source(name)
        if not self.principal.may_read(name):
            # Absent or not yours: the same answer, so nothing leaks about other sources.
            raise Forbidden(f"you may not read source {name!r}")
        if source is None:
            raise BadUserInput(f"no source named {name!r}")
        return source

    def adapter_for(self, provider: Provider, source: str | None) -> ProviderAdapter:
        """The adapter of `source`, or of the only source of `provider` when none is named."""
        if source is None:
            candidates = self.services.sources_of(provider)
            if len(candidates) != 1:
                # No count in the message: a token limited to some sources learns nothing more.
                raise BadUserInput(
                    f"name the {provider.name} source to read with `source` (no single one "
                    "is configured)"
                )
            source = candidates[0].name
        config = self.check_source(source)
        if config.provider is not provider:
            raise BadUserInput(f"source {source!r} is not a {provider.name} source")
        return self.services.adapters[source]

    def report(self, error: JobgraphError, path: tuple[str | int, ...]) -> None:
        self.reported.append(ReportedError(error, path))
