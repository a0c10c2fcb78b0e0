"""Each provider's connection field and raw ids, as the tests' oracles state them."""

from __future__ import annotations

from typing import Any

from tests.providers import PROVIDERS, Oracle, oracle

ProviderField = Oracle
# Every registry provider's oracle, by provider (its `field`, `type_name` and `query`).
FIELDS: dict[str, Oracle] = {provider: oracle(provider) for provider in PROVIDERS}


def native_ids(provider: str, raw_jobs: list[dict[str, Any]]) -> list[str]:
    """The ids of raw jobs in the provider's default order, as the gateway lists them."""
    return oracle(provider).listed_ids(raw_jobs)
