"""Settings and stub servers for the reasoner's tests: the real SDKs against 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from healops.bench.llm_stub import Responder, StubLLMServer
from healops.llm.settings import LLMSettings

GEMINI_KEY = "AIzaSyTEST-gemini-key-0123456789abcdefghij"
OPENAI_KEY = "sk-test-openai-key-0123456789abcdefgh"
NVIDIA_KEY = "nvapi-test-nvidia-key-0123456789abcdef"
PROVIDERS = ("gemini", "openai", "nim")


def settings_for(provider: str, url: str, **overrides: object) -> LLMSettings:
    """Settings pointing ``provider`` at a stub at ``url``: short timeouts, no retries unless overridden."""
    base = LLMSettings(
        provider=provider,
        gemini_api_key=GEMINI_KEY,
        gemini_base_url=url,
        openai_api_key=OPENAI_KEY,
        openai_base_url=f"{url}/v1",
        nvidia_api_key=NVIDIA_KEY,
        nim_base_url=f"{url}/v1",
        timeout_s=2.0,
        max_retries=0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def stub() -> Iterator[Callable[[Responder], StubLLMServer]]:
    """``stub(responder)``: a started stub server, stopped after the test."""
    servers: list[StubLLMServer] = []

    def start(responder: Responder) -> StubLLMServer:
        server = StubLLMServer(responder).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


# The planner function's engine on moto (tests/unit/llm/deployed.py), for the tests that drive it.
from tests.unit.llm.deployed import moto_stack  # noqa: E402, F401
