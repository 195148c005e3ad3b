"""Pipeline fixtures: a user with a project, and providers that fail, count or stall on purpose."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine

from tests.helpers import wait_for_execution, writer_with_project


@dataclass
class ScriptedProvider:
    """The offline engine, with failures injected on chosen call numbers (1-based) and a call log."""

    seed: str
    failures: dict[int, Exception] = field(default_factory=dict)
    block_on_call: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    entered_block: threading.Event = field(default_factory=threading.Event)
    calls: int = 0
    schemas: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "offline"

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        with self.lock:
            self.calls += 1
            number = self.calls
            self.schemas[(json_schema or {}).get("name", "prose")] += 1
        if number in self.failures:
            raise self.failures[number]
        if self.block_on_call == number:
            self.entered_block.set()
            self.release.wait(30)
        return OfflineEngine(self.seed).complete(messages, model=model, max_tokens=max_tokens,
                                                 temperature=temperature, json_schema=json_schema)


@pytest.fixture
def provider(monkeypatch):
    """Every job of the test uses this one provider instance."""
    scripted = ScriptedProvider(seed="pipeline-test")
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: scripted)
    return scripted


@pytest.fixture
def writer(api):
    return writer_with_project(api, "Pipeline")


def run_job(writer, brief: dict[str, Any]) -> dict[str, Any]:
    """Posts a job in the writer's project, waits for its execution to succeed, and returns the job."""
    job = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": brief})
    assert job.status_code == 201, job.text
    assert wait_for_execution(job.json()["execution_arn"])["status"] == "SUCCEEDED"
    return writer.get(f"/jobs/{job.json()['id']}").json()


def short_brief(**overrides: Any) -> dict[str, Any]:
    return {"production_type": "short_story", "genre": "mystery",
            "subject": "A lighthouse keeper finds a letter addressed to her from next year",
            "style_instructions": "Quiet, precise, melancholic", "target_length": 1200,
            "character_count": 3, "setting_period": "1930s Baltic coast"} | overrides
