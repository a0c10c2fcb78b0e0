"""A gateway with `[tracing] otlp_endpoint` pointing at a local OTLP receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.tracing.otlp_receiver import OtlpReceiver

CALLER_TOKEN = "tracing-caller-token-5d8e1f"


@pytest.fixture
def receiver() -> OtlpReceiver:
    return OtlpReceiver()


@pytest.fixture
async def receiver_url(receiver: OtlpReceiver, aiohttp_server: Callable[..., Any]) -> str:
    server: TestServer = await aiohttp_server(receiver.app())
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TRACING_CALLER_TOKEN": CALLER_TOKEN}


@pytest.fixture
def gateway_settings(receiver_url: str) -> dict[str, Any]:
    return {
        "tracing": {"otlp_endpoint": receiver_url},
        "auth": {
            "mode": "token",
            "tokens": [{"name": "tracer", "token_env": "TRACING_CALLER_TOKEN"}],
        },
    }
