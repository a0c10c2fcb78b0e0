"""The provider registry: one row per provider, its capabilities and where its parts are.

A leaf module (it imports none of ours at import time), so `resolvers.domain` can build the
`Provider` enum from it. Built-in rows are listed here; `JOBGRAPH_PROVIDER_MODULES` (a comma
list of module names, read once at import) adds the `ROW` of each module it names."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resolvers.config import SourceConfig
    from resolvers.providers.base import ProviderAdapter

MODULES_ENV = "JOBGRAPH_PROVIDER_MODULES"


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """One provider: its spellings, capabilities, credentials and config keys, and its parts
    as `module:attribute` paths (loaded only when asked for)."""

    name: str  # the config spelling and the `Provider` value: `provider = "orange"`
    key: str  # the enum member and GraphQL enum value: ORANGE
    adapter: str  # its `ProviderAdapter` subclass
    graph: str  # its graph module (Strawberry type, Query field, GraphiQL example)
    simulator: str  # its simulator class
    # Which credential keys the source config accepts, and the header each is sent as.
    credentials: Mapping[str, str] = field(default_factory=dict)
    has_projects: bool = True  # False: one list per source, `projects` not used
    reports_totals: bool = True  # the upstream says how many jobs a list holds
    reports_status: bool = True  # its jobs carry a status value of their own (`rawStatus`)
    required_keys: tuple[str, ...] = ()  # source config keys it needs (`organization_id`)
    optional_keys: tuple[str, ...] = ()  # source config keys only it may set (`workspace_id`)
    # The type of each of those keys where it is not a string (`{"organization_id": int}`).
    key_types: Mapping[str, type] = field(default_factory=dict)

    @property
    def own_keys(self) -> tuple[str, ...]:
        """The source config keys that belong to this provider alone."""
        return (*self.required_keys, *self.optional_keys)

    def adapter_class(self) -> type[ProviderAdapter]:
        """The adapter class that serves this provider."""
        cls: type[ProviderAdapter] = load(self.adapter)
        return cls


def load(path: str) -> Any:
    """The object a `module:attribute` path names (the module when there is no attribute)."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


BUILT_IN: tuple[ProviderRow, ...] = (
    ProviderRow(
        name="edge_impulse",
        key="EDGE_IMPULSE",
        adapter="resolvers.providers.edge_impulse:EdgeImpulseAdapter",
        graph="graph.providers.edge_impulse",
        simulator="simulators.edge_impulse:EdgeImpulseSimulator",
        credentials={"api_key_env": "x-api-key", "jwt_env": "x-jwt-token"},
        reports_status=False,
        required_keys=("organization_id",),
        key_types={"organization_id": int},
    ),
    ProviderRow(
        name="orange",
        key="ORANGE",
        adapter="resolvers.providers.orange:OrangeAdapter",
        graph="graph.providers.orange",
        simulator="simulators.orange:OrangeSimulator",
        credentials={
            "api_key_env": "X-API-Key",
            "token_env": "Authorization",
            "requester_id_env": "X-Requester-Id",
        },
    ),
    ProviderRow(
        name="metafold",
        key="METAFOLD",
        adapter="resolvers.providers.metafold:MetafoldAdapter",
        graph="graph.providers.metafold",
        simulator="simulators.metafold:MetafoldSimulator",
        credentials={"token_env": "Authorization"},
    ),
    ProviderRow(
        name="workflow",
        key="WORKFLOW",
        adapter="resolvers.providers.workflow:WorkflowAdapter",
        graph="graph.providers.workflow",
        simulator="simulators.workflow:WorkflowSimulator",
        credentials={"token_env": "Authorization"},
        has_projects=False,
        reports_totals=False,
    ),
    ProviderRow(
        name="modelarts",
        key="MODELARTS",
        adapter="resolvers.providers.modelarts:ModelArtsAdapter",
        graph="graph.providers.modelarts",
        simulator="simulators.modelarts:ModelArtsSimulator",
        credentials={"token_env": "X-Auth-Token"},
        optional_keys=("workspace_id",),
    ),
)


def _extra_rows(environ: Mapping[str, str]) -> tuple[ProviderRow, ...]:
    names = [name.strip() for name in environ.get(MODULES_ENV, "").split(",") if name.strip()]
    rows: list[ProviderRow] = [load(f"{name}:ROW") for name in names]
    return tuple(rows)


PROVIDERS: tuple[ProviderRow, ...] = (*BUILT_IN, *_extra_rows(os.environ))
_BY_NAME: dict[str, ProviderRow] = {row.name: row for row in PROVIDERS}
assert len(_BY_NAME) == len(PROVIDERS), "two provider rows share a name"

# Every source config key that belongs to some providers only, in row order.
PROVIDER_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(key for row in PROVIDERS for key in row.own_keys)
)
# Every credential key a source config may set (each provider accepts those of its row).
CREDENTIAL_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(key for row in PROVIDERS for key in row.credentials)
)


def provider_row(provider: str) -> ProviderRow:
    """The registry row of a provider (a `Provider` or its config spelling)."""
    return _BY_NAME[str(provider)]


def build_adapters(sources: Sequence[SourceConfig]) -> dict[str, ProviderAdapter]:
    """One adapter per configured source, by source name."""
    return {
        source.name: provider_row(source.provider).adapter_class()(source) for source in sources
    }
