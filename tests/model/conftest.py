"""Tests against the REAL local model server (llama-cpp-python + SmolLM2-135M-Instruct), started once per session
by `narraforge_dev.local.llm_server`. Run by `make test-model` (which builds the server first); `make test` leaves
this folder out (pyproject's addopts)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from narraforge.llm.openai_provider import OpenAIProvider, forget_endpoints

from narraforge_dev.local import llm_server


@pytest.fixture(scope="session")
def local_model() -> Iterator[llm_server.LlmServer]:
    with llm_server.start() as server:
        yield server


@pytest.fixture
def provider(local_model: llm_server.LlmServer) -> OpenAIProvider:
    """The product's provider, fresh (no learned quirks), pointed at the real server."""
    forget_endpoints()
    client = openai.OpenAI(base_url=local_model.openai_base_url, api_key="local", timeout=300, max_retries=0)
    return OpenAIProvider(client)
