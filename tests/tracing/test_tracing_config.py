"""The [tracing] section: off by default, an OTLP/HTTP endpoint turns it on."""

from __future__ import annotations

import pytest

from resolvers.config import ConfigError, parse_config
from resolvers.tracing import traces_url


def test_tracing_is_off_by_default() -> None:
    assert parse_config({}, environ={}).tracing.otlp_endpoint == ""


def test_the_tracing_endpoint_can_be_set_by_env_var() -> None:
    config = parse_config(
        {}, environ={"JOBGRAPH_TRACING__OTLP_ENDPOINT": "http://collector.internal:4318"}
    )
    assert config.tracing.otlp_endpoint == "http://collector.internal:4318"


def test_an_endpoint_that_is_not_http_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"tracing.otlp_endpoint"):
        parse_config({"tracing": {"otlp_endpoint": "grpc://collector:4317"}}, environ={})


@pytest.mark.parametrize(
    "endpoint",
    ["http://collector:4318", "http://collector:4318/", "http://collector:4318/v1/traces"],
)
def test_spans_go_to_the_collectors_traces_path(endpoint: str) -> None:
    assert traces_url(endpoint) == "http://collector:4318/v1/traces"
