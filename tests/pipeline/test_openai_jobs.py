"""Whole jobs through the real OpenAI provider against the fake OpenAI-compatible server, with scripted
faults: 429 and 500 retried by Step Functions, a timeout, malformed JSON re-prompted by the provider,
a reply in the wrong schema re-asked by the stage (twice wrong: the deterministic planner's fields, recorded),
truncated prose continued."""

from __future__ import annotations

import pytest
from narraforge.data.models import JobItem
from narraforge.llm.openai_provider import CONTINUE_PROMPT, JSON_RETRY_PROMPT
from narraforge.pipeline.stages.calls import REASK_PROMPT

from narraforge_dev.fake_openai import FakeOpenAI, Fault
from tests.conftest import TEST_PARAMETERS
from tests.fake_openai import serving
from tests.helpers import execution_states, wait_for_execution
from tests.pipeline.conftest import short_brief

WRONG_SCHEMA = '{"unexpected": "a JSON object, but not the one the stage asked for"}'


@pytest.fixture
def stack_parameters() -> dict:
    return {**TEST_PARAMETERS, "LlmRetryMaxAttempts": 4}


@pytest.fixture
def model(monkeypatch):
    yield from serving(monkeypatch)


def last_user_messages(model: FakeOpenAI) -> list[str]:
    return [r["messages"][-1]["content"] for r in model.requests]


def test_a_job_survives_every_kind_of_model_fault(writer, model):
    model.script(
        Fault(status=429),  # brief interpretation: throttled -> Step Functions retries with backoff
        Fault(status=500),  # ... a server error -> retried
        Fault(delay=2.5, status=504),  # ... a timeout -> retried
        Fault(content="{not json"),  # ... malformed JSON -> the provider re-prompts once
    )
    model.prose_faults.append(Fault(truncate_words=40))  # the first draft is cut off -> continued
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=800)}).json()
    # The next structured replies are in the wrong schema: re-prompted once by the stage, then LlmBadOutput.
    described = wait_for_execution(job["execution_arn"], timeout=120)
    assert described["status"] == "SUCCEEDED", (writer.get(f"/jobs/{job['id']}").json(), last_user_messages(model))
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED" and done["provider"] == "openai"
    prompts = last_user_messages(model)
    assert JSON_RETRY_PROMPT in prompts
    assert CONTINUE_PROMPT in prompts
    assert execution_states(job["execution_arn"]).count("BriefInterpretation") == 1  # retried inside the state
    text = writer.get(f"/narratives/{done['narrative_id']}/text").text
    assert abs(len(text.split()) - 800) <= 0.25 * 800


def test_wrong_schema_twice_falls_back_to_the_planner(writer, model):
    model.script(Fault(content=WRONG_SCHEMA), Fault(content=WRONG_SCHEMA))
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    described = wait_for_execution(job["execution_arn"], timeout=120)
    assert described["status"] == "SUCCEEDED", (writer.get(f"/jobs/{job['id']}").json()["error_message"],
                                                 [p[:80] for p in last_user_messages(model)])
    prompts = last_user_messages(model)
    corrections = [p for p in prompts if p.startswith(REASK_PROMPT)]
    assert len(corrections) == 1  # one re-ask; the second wrong reply's fields came from the planner, no retry
    assert execution_states(job["execution_arn"]).count("BriefInterpretation") == 1
    head = JobItem.get(*JobItem.key(writer.user_id, job["id"]))
    assert head.status == "COMPLETED"
    assert int(head.tokens_used) == model.billed_tokens  # the rejected replies were billed too, once
    narrative = writer.get(f"/narratives/{head.narrative_id}").json()
    fallbacks = narrative["narrative_metadata"]["fallbacks"]
    assert {f["stage"] for f in fallbacks} == {"brief_interpretation"} and "premise" in {f["field"] for f in fallbacks}
    assert abs(narrative["word_count"] - 600) <= 0.10 * 600  # length control holds on the model's replies too


@pytest.fixture
def llama_cpp_like(monkeypatch):
    """A fake that accepts only `text` and `json_object` + schema, refusing json_schema as llama-cpp-python does."""
    yield from serving(monkeypatch, formats=frozenset({"text", "json_object"}))


def test_a_job_through_a_server_that_refuses_json_schema_completes(writer, llama_cpp_like):
    """llama-cpp-python's server answers json_schema with a 500 naming response_format: the provider steps down to
    json_object with the schema once, and the job completes (it used to end FAILED in brief_interpretation)."""
    model = llama_cpp_like
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    described = wait_for_execution(job["execution_arn"], timeout=120)
    assert described["status"] == "SUCCEEDED", writer.get(f"/jobs/{job['id']}").json()
    formats = [(r.get("response_format") or {}).get("type") for r in model.requests]
    assert formats[:2] == ["json_schema", "json_object"] and formats.count("json_schema") == model.refusals == 1
    assert set(formats[2:]) <= {"json_object", None}  # remembered: structured calls go straight to json_object
    head = JobItem.get(*JobItem.key(writer.user_id, job["id"]))
    assert head.status == "COMPLETED" and int(head.tokens_used) == model.billed_tokens  # refusals not billed
