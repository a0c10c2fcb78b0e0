"""Gateway configuration: TOML, `JOBGRAPH_<SECTION>__<KEY>` overrides, secrets named by env var."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from resolvers.domain import Provider
from resolvers.providers.registry import CREDENTIAL_KEYS, PROVIDER_KEYS, PROVIDERS, provider_row

SOURCE_NAME = re.compile(r"^[a-z0-9-]+$")
ENV_PREFIX = "JOBGRAPH_"


class ConfigError(Exception):
    """A configuration problem, naming the offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A few seconds: a walk of federated pages reads each list it needs whole about once.
DEFAULT_MAX_STALENESS_S = 2.0
# Jobs the snapshots of those lists may hold together (resolvers/snapshots.py).
DEFAULT_SNAPSHOT_MAX_JOBS = 50_000


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_page_size: int = Field(default=100, ge=1, le=10_000)
    graphiql: bool = True
    introspection: bool = True
    cursor_secret_env: str | None = None
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_origins: list[str] = Field(default_factory=list)
    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2_000, ge=10)
    max_cost: int = Field(default=50_000, ge=1)
    scan_ceiling: int = Field(default=5_000, ge=1)
    # The most jobs the snapshots of lists read whole hold together (a source's
    # max_staleness_s); the least recently used go first.
    snapshot_max_jobs: int = Field(default=DEFAULT_SNAPSHOT_MAX_JOBS, ge=0, le=10_000_000)
    workers: int = Field(default=1, ge=1, le=64)
    # Live updates: running subscriptions per WebSocket and per process, and the events one
    # subscriber may have waiting before it counts as too slow and is closed.
    max_subscriptions_per_connection: int = Field(default=100, ge=1)
    max_subscriptions: int = Field(default=10_000, ge=1)
    subscription_queue_size: int = Field(default=1_000, ge=1, le=1_000_000)
    # A WebSocket message its client has not taken within this long drops the connection.
    websocket_send_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    # A JSON manifest of trusted documents; with only_persisted, nothing else runs.
    persisted_documents: str = ""
    only_persisted: bool = False
    # False: every operation takes Strawberry's general execution path, no short cuts.
    fast_path: bool = True

    @model_validator(mode="after")
    def _only_persisted_needs_documents(self) -> ServerConfig:
        if self.only_persisted and not self.persisted_documents:
            raise ValueError("only_persisted = true needs persisted_documents (a JSON file)")
        return self


class TokenConfig(_Strict):
    name: str
    token_env: str
    sources: list[str] | None = None


# Asymmetric algorithms only: never `none`, never HS* (a public key must not verify an HMAC).
JWT_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})


class AuthConfig(_Strict):
    mode: Literal["none", "token", "jwt", "token+jwt"] = "none"
    tokens: list[TokenConfig] = Field(default_factory=list)
    jwks_url: str = ""
    jwks_file: str = ""
    issuer: str = ""
    audience: str = ""
    algorithms: list[str] = Field(default_factory=lambda: sorted(JWT_ALGORITHMS))
    leeway_s: float = Field(default=30.0, ge=0, le=3600)
    sources_claim: str = "jobgraph_sources"
    principal_claim: str = "sub"
    # An unknown `kid` refetches the JWKS at most once per this many seconds.
    jwks_refresh_min_s: float = Field(default=30.0, ge=0, le=86_400)

    @property
    def uses_tokens(self) -> bool:
        return self.mode in ("token", "token+jwt")

    @property
    def uses_jwt(self) -> bool:
        return self.mode in ("jwt", "token+jwt")

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_algorithms(cls, value: list[str]) -> list[str]:
        refused = [a for a in value if a not in JWT_ALGORITHMS]
        if refused:
            raise ValueError(f"{refused[0]!r} is not allowed; choose from RS256, ES256, EdDSA")
        if not value:
            raise ValueError("needs at least one algorithm")
        return value

    @model_validator(mode="after")
    def _tokens_when_token_mode(self) -> AuthConfig:
        if self.mode == "token" and not self.tokens:
            raise ValueError('mode = "token" needs at least one [[auth.tokens]] entry')
        if self.uses_jwt:
            if bool(self.jwks_url) == bool(self.jwks_file):
                raise ValueError(f'mode = "{self.mode}" needs exactly one of jwks_url, jwks_file')
            if self.jwks_url and not self.jwks_url.startswith(("http://", "https://")):
                raise ValueError("jwks_url must be an http:// or https:// URL")
            if not self.issuer or not self.audience:
                raise ValueError(f'mode = "{self.mode}" needs issuer and audience')
        return self


class RateLimitConfig(_Strict):
    """Per-principal token buckets; 0 turns a limit off."""

    requests_per_minute: float = Field(default=0.0, ge=0)
    # Charged with each operation's cost estimate (see [server] max_cost) before it runs.
    cost_per_minute: float = Field(default=0.0, ge=0)


class SourceSettings(_Strict):
    """The keys every source has. `SourceConfig` adds, from the registry rows, each provider's
    credential keys (the env var names, `token_env`) and its own keys (`organization_id`)."""

    name: str
    provider: Provider
    base_url: str
    projects: list[str] = Field(default_factory=list)
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=3.0, gt=0, le=600)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    max_retries: int = Field(default=2, ge=0, le=10)
    poll_interval_s: float = Field(default=10.0, ge=1, le=3600)  # subscriptions' poll period
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    cache_ttl_s: float = Field(default=0.0, ge=0)
    # How old a whole read of a list (one the upstream cannot sort, or an unpaged one) may be
    # when a federated `jobs` page uses it (0: every operation reads it again; see
    # resolvers/snapshots.py).
    max_staleness_s: float = Field(default=DEFAULT_MAX_STALENESS_S, ge=0, le=3600)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)
    # After a 429 without Retry-After: the first cool-down, doubling while 429s go on.
    throttle_cooldown_s: float = Field(default=1.0, gt=0, le=600)
    throttle_max_cooldown_s: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not SOURCE_NAME.match(value):
            raise ValueError("must match [a-z0-9-]+")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _provider_rules(self) -> SourceSettings:
        row = provider_row(self.provider)
        for key in CREDENTIAL_KEYS:
            if getattr(self, key) is not None and key not in row.credentials:
                raise ValueError(f"{key} is not a credential key of provider {self.provider.value}")
        for key in row.required_keys:
            if getattr(self, key) is None:
                raise ValueError(f"{key} is required for provider {row.name}")
        for key in PROVIDER_KEYS:
            if getattr(self, key) is not None and key not in row.own_keys:
                owners = ", ".join(r.name for r in PROVIDERS if key in r.own_keys)
                raise ValueError(f"{key} is only for provider {owners}")
        if not row.has_projects and self.projects:
            raise ValueError(f"projects is not used by provider {row.name}")
        return self

    def credential_headers(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The auth headers for this source, read from the env vars the config names."""
        headers: dict[str, str] = {}
        for key, header in provider_row(self.provider).credentials.items():
            env_name = getattr(self, key)
            if env_name is None:
                continue
            value = environ.get(env_name)
            if value is None:
                raise ConfigError(f"sources.{self.name}.{key}: env var {env_name} is not set")
            headers[header] = f"Bearer {value}" if header == "Authorization" else value
        return headers

    def secrets(self, environ: Mapping[str, str]) -> list[str]:
        """Every secret value this source uses (for redaction checks)."""
        names = [getattr(self, k) for k in provider_row(self.provider).credentials]
        return [environ[n] for n in names if n is not None and n in environ]


def _provider_fields() -> dict[str, Any]:
    """The registry's credential keys (env var names) and provider-only keys, all optional."""
    keys: dict[str, Any] = {key: (str | None, None) for key in CREDENTIAL_KEYS}
    for row in PROVIDERS:
        for key in row.own_keys:
            keys[key] = (row.key_types.get(key, str) | None, None)
    return keys


if TYPE_CHECKING:

    class SourceConfig(SourceSettings):
        def __getattr__(self, name: str) -> Any: ...  # the keys the registry adds

else:
    SourceConfig = create_model(
        "SourceConfig", __base__=SourceSettings, __module__=__name__, **_provider_fields()
    )


class CacheConfig(_Strict):
    """Where state shared by replicas lives: "memory" keeps it per process, "redis" in
    the Redis at `redis_url`."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = ""

    @model_validator(mode="after")
    def _redis_needs_url(self) -> CacheConfig:
        if self.backend == "redis" and not self.redis_url:
            raise ValueError('backend "redis" needs redis_url (e.g. redis://127.0.0.1:6379/0)')
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        return self


class TracingConfig(_Strict):
    """OpenTelemetry traces, exported over OTLP/HTTP to `otlp_endpoint` (empty: off)."""

    otlp_endpoint: str = ""
    service_name: str = "jobgraph"

    @field_validator("otlp_endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (OTLP over HTTP)")
        return value


class Config(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    rate_limits: RateLimitConfig = Field(default_factory=RateLimitConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    sources: list[SourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        names = {s.name for s in self.sources}
        for token in self.auth.tokens:
            for name in token.sources or []:
                if name not in names:
                    raise ValueError(f"auth token {token.name!r} names unknown source {name!r}")
        return self

    def source(self, name: str) -> SourceConfig | None:
        for source in self.sources:
            if source.name == name:
                return source
        return None


def _coerce_env_value(raw: str) -> Any:
    """Env values are JSON where they parse as JSON (numbers, booleans, lists), else strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Apply `JOBGRAPH_<SECTION>__<KEY>` overrides; sources are addressed by name."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for env_name, raw in sorted(environ.items()):
        if not env_name.startswith(ENV_PREFIX) or "__" not in env_name:
            continue
        parts = env_name[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] == "sources" and len(parts) == 3:
            source_name = parts[1].replace("_", "-")
            for source in merged.get("sources", []):
                if source.get("name") == source_name:
                    source[parts[2]] = _coerce_env_value(raw)
                    break
            else:
                raise ConfigError(f"{env_name}: no source named {source_name!r}")
        elif len(parts) == 2 and parts[0] in (
            "server",
            "auth",
            "rate_limits",
            "cache",
            "tracing",
        ):
            merged.setdefault(parts[0], {})[parts[1]] = _coerce_env_value(raw)
        else:
            raise ConfigError(f"{env_name}: expected JOBGRAPH_<SECTION>__<KEY>")
    return merged


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(root)"
        lines.append(f"{key}: {item['msg']}")
    return "; ".join(lines)


def parse_config(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Validate a config mapping after env overrides; raises ConfigError naming the key."""
    env = os.environ if environ is None else environ
    sources = [dict(s) for s in data.get("sources", [])]
    merged = apply_env_overrides({**data, "sources": sources}, env)
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, environ)
