"""Points the OpenAI provider at a fake OpenAI-compatible server (narraforge_dev.fake_openai) for one test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from narraforge.config import reset_settings
from narraforge.llm.openai_provider import forget_endpoints

from narraforge_dev.fake_openai import FakeOpenAI


def serving(monkeypatch: Any, **options: Any) -> Iterator[FakeOpenAI]:
    """Runs a fake and points the OpenAI provider at it (1 s client timeout) for one test; the provider's learned
    endpoint quirks are forgotten around it (a later fake may get the same port)."""
    server = FakeOpenAI(**options)
    server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    reset_settings()
    forget_endpoints()
    yield server
    server.stop()
    reset_settings()
    forget_endpoints()
