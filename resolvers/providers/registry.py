"""Which adapter class serves each provider, and one adapter instance per configured source."""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.config import SourceConfig
from resolvers.domain import Provider
from resolvers.providers.base import ProviderAdapter
from resolvers.providers.edge_impulse import EdgeImpulseAdapter
from resolvers.providers.metafold import MetafoldAdapter
from resolvers.providers.modelarts import ModelArtsAdapter
from resolvers.providers.orange import OrangeAdapter
from resolvers.providers.workflow import WorkflowAdapter

ADAPTERS: dict[Provider, type[ProviderAdapter]] = {
    Provider.EDGE_IMPULSE: EdgeImpulseAdapter,
    Provider.ORANGE: OrangeAdapter,
    Provider.METAFOLD: MetafoldAdapter,
    Provider.WORKFLOW: WorkflowAdapter,
    Provider.MODELARTS: ModelArtsAdapter,
}


def build_adapters(sources: Sequence[SourceConfig]) -> dict[str, ProviderAdapter]:
    """One adapter per configured source, by source name."""
    return {source.name: ADAPTERS[source.provider](source) for source in sources}
