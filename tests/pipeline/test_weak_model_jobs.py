"""Whole jobs (API → Step Functions → Lambda, under moto) with a weak model: a rejected planning reply is never
replayed from the call journal — a retried invocation asks the model again — and a job whose replies stay
wrong completes with the failing fields from the deterministic planner, recorded in the narrative's metadata."""

from __future__ import annotations

import pytest
from narraforge.data.models import JobItem
from narraforge.llm.base import LlmServerError

from tests.fakes import WeakModel
from tests.helpers import execution_states, wait_for_execution
from tests.pipeline.conftest import short_brief
from tests.pipeline.test_fault_injection import journal
from tests.unit.test_weak_model import nonsense_cast, repeated_places


@pytest.fixture
def weak_model(monkeypatch):
    model = WeakModel("pipeline-weak")
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: model)
    return model


def test_a_rejected_reply_is_never_replayed_to_a_retry(writer, weak_model):
    # Request 1 is stage 1; request 2, stage 2's first reply, repeats a place name; its re-ask (request 3) meets
    # a server fault, so the stage fails and Step Functions retries it.
    weak_model.spoil("world_architecture", repeated_places)
    weak_model.failures[3] = LlmServerError("the model server fell over")
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    described = wait_for_execution(job["execution_arn"], timeout=120)
    assert described["status"] == "SUCCEEDED", writer.get(f"/jobs/{job['id']}").json()

    first, reask, retried = weak_model.asked("world_architecture")
    assert reask[: len(first)] == first and len(reask) == len(first) + 2  # the re-ask that failed
    assert retried == first  # the retry sent the first request again: nothing was replayed
    assert execution_states(job["execution_arn"]).count("WorldArchitecture") == 1  # retried inside the state
    entries = journal(job["id"])
    assert entries and not [e for e in entries if e["text"] in weak_model.spoiled]  # no rejected reply kept
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED"
    assert writer.get(f"/narratives/{done['narrative_id']}").json()["narrative_metadata"]["fallbacks"] == []


def test_a_job_whose_replies_stay_wrong_completes_with_fallbacks_recorded(writer, weak_model):
    weak_model.spoil("character_architecture", nonsense_cast, nonsense_cast)
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    described = wait_for_execution(job["execution_arn"], timeout=120)
    assert described["status"] == "SUCCEEDED", writer.get(f"/jobs/{job['id']}").json()

    head = JobItem.get(*JobItem.key(writer.user_id, job["id"]))
    assert head.status == "COMPLETED"
    metadata = writer.get(f"/narratives/{head.narrative_id}").json()["narrative_metadata"]
    assert [(f["stage"], f["field"]) for f in metadata["fallbacks"]] == [
        ("character_architecture", "characters[0].want"),
        ("character_architecture", "characters[1].name"),
        ("character_architecture", "characters[2]"),
    ]
    assert metadata["fallback_count"] == 3 and len(metadata["characters"]) == 3
    assert len(weak_model.asked("character_architecture")) == 2  # asked, re-asked, then the planner's fields
    entries = journal(job["id"])
    assert not [e for e in entries if e["text"] in weak_model.spoiled]
    # The rejected replies were billed (the provider was paid) but are not in the journal.
    assert int(head.tokens_used) > sum(e["prompt_tokens"] + e["completion_tokens"] for e in entries)
    text = writer.get(f"/narratives/{head.narrative_id}/text").text
    assert all(c["name"].split()[0] in text for c in metadata["characters"])
