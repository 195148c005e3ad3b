"""What a job spends is the user's spend, whatever the job's end (issue #10, items 3 and 10), through the
real pipeline: the month's cost usage counts every billed call once (completed, failed, cancelled, and a
call that finishes after the cancel), the generation is given back only when no drafting was billed, a
resume does not take a second one, the cost cap sees the spend, and the per-stage usage of GET /jobs/{id}
and /usage adds up to the job's totals."""

from __future__ import annotations

import time

import pytest
from narraforge.data.models import UsageItem
from narraforge.domain.quotas import current_month

from narraforge_dev.admin import set_cost_limit
from tests.helpers import error_code, error_detail, generations_used, wait_for_execution
from tests.pipeline.conftest import ScriptedProvider, short_brief


@pytest.fixture
def paid(provider: ScriptedProvider) -> ScriptedProvider:
    """The scripted provider billed at the configured models' list prices (the offline engine is free)."""
    provider.name = "openai"
    return provider


class DraftingGate:
    """Blocks the n-th prose call: prose is asked only from segment_generation onwards, so n=1 is the
    first drafting call and n=2 comes after one drafting call was billed."""

    def __init__(self, provider: ScriptedProvider, n: int) -> None:
        self.provider, self.n, self.prose = provider, n, 0
        original = provider.complete

        def complete(messages, *, model, max_tokens, temperature, json_schema=None):
            if json_schema is None:
                with provider.lock:
                    self.prose += 1
                    blocking = self.prose == self.n
                if blocking:
                    provider.entered_block.set()
                    provider.release.wait(30)
            return original(messages, model=model, max_tokens=max_tokens, temperature=temperature,
                            json_schema=json_schema)

        provider.complete = complete  # type: ignore[method-assign]


def start(writer, **brief) -> dict:
    response = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": short_brief(**brief)})
    assert response.status_code == 201, response.text
    return response.json()


def cancel_when_blocked(writer, provider: ScriptedProvider, job: dict) -> dict:
    """Cancels while a call is in flight, lets that call finish, and returns the job once every call the
    provider answered has been billed (the late call included)."""
    assert provider.entered_block.wait(60), "the pipeline never reached the blocking call"
    cancelled = writer.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    provider.release.set()
    wait_for_execution(job["execution_arn"])
    return settled(writer, provider, job["id"])


def settled(writer, provider: ScriptedProvider, job_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        current = writer.get(f"/jobs/{job_id}").json()
        if current["llm_calls"] == provider.calls or time.monotonic() > deadline:
            return current
        time.sleep(0.1)


def month_cost(user_id: str) -> float:
    return float(UsageItem.get(*UsageItem.key(user_id, current_month()), consistent_read=True).cost_used_usd)


def log_entry(writer, job_id: str) -> dict:
    entries = [e for e in writer.get("/usage").json()["log"]["items"] if e["job_id"] == job_id]
    assert len(entries) == 1, entries
    return entries[0]


def assert_stages_add_up(writer, job: dict) -> None:
    """GET /jobs/{id} and the /usage log: the stages' calls, tokens and cost are the job's totals."""
    stages = job["stages"]
    assert sum(s["llm_calls"] for s in stages) == job["llm_calls"] > 0
    assert sum(s["prompt_tokens"] + s["completion_tokens"] for s in stages) == job["tokens_used"]
    assert sum(s["cost_usd"] for s in stages) == pytest.approx(job["actual_cost_usd"], abs=1e-5)
    entry = log_entry(writer, job["id"])
    assert entry["status"] == job["status"]
    assert entry["tokens_used"] == job["tokens_used"] and entry["llm_calls"] == job["llm_calls"]
    assert entry["cost_usd"] == pytest.approx(job["actual_cost_usd"], abs=1e-6)
    assert sum(s["tokens"] for s in entry["stages"].values()) == job["tokens_used"]
    assert sum(s["llm_calls"] for s in entry["stages"].values()) == job["llm_calls"]
    assert sum(s["cost_usd"] for s in entry["stages"].values()) == pytest.approx(job["actual_cost_usd"], abs=1e-5)


def test_a_completed_job_counts_its_cost_once_and_its_stages_add_up(writer, paid):
    job = start(writer, target_length=2400)
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED" and done["actual_cost_usd"] > 0
    by_stage = {s["stage"]: s for s in done["stages"]}
    for drafting in ("segment_generation", "language_stylization"):
        assert by_stage[drafting]["llm_calls"] > 0 and by_stage[drafting]["prompt_tokens"] > 0, by_stage[drafting]
    assert_stages_add_up(writer, done)
    usage = writer.get("/usage").json()
    assert usage["generations_used"] == 1
    assert usage["cost_used_usd"] == pytest.approx(done["actual_cost_usd"], abs=1e-6)
    assert month_cost(writer.user_id) == pytest.approx(done["actual_cost_usd"], abs=1e-6)


def test_cancel_after_drafting_keeps_the_generation_counts_the_cost_and_resume_takes_no_second(writer, paid):
    DraftingGate(paid, 2)  # one drafting call billed, the next one in flight when the job is cancelled
    job = start(writer, target_length=2400)
    cancelled = cancel_when_blocked(writer, paid, job)
    assert cancelled["status"] == "CANCELLED" and cancelled["actual_cost_usd"] > 0
    assert cancelled["llm_calls"] == paid.calls  # the call that finished after the cancel is billed too
    assert generations_used(writer.user_id) == 1
    me = writer.get("/auth/me").json()
    usage = writer.get("/usage").json()
    assert usage["generations_used"] == 1
    assert usage["cost_used_usd"] == pytest.approx(cancelled["actual_cost_usd"], abs=1e-6)
    assert month_cost(writer.user_id) == pytest.approx(cancelled["actual_cost_usd"], abs=1e-6)
    assert me["monthly_generations_used"] == 1
    assert me["monthly_cost_used_usd"] == pytest.approx(cancelled["actual_cost_usd"], abs=1e-6)
    assert_stages_add_up(writer, cancelled)

    resumed = writer.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert generations_used(writer.user_id) == 1  # it kept its generation: no second one
    assert wait_for_execution(resumed.json()["execution_arn"])["status"] == "SUCCEEDED"
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED"
    assert generations_used(writer.user_id) == 1
    assert month_cost(writer.user_id) == pytest.approx(done["actual_cost_usd"], abs=1e-6)  # nothing twice
    assert_stages_add_up(writer, done)


def test_a_drafting_call_that_finishes_after_the_cancel_takes_the_generation_back(writer, paid):
    DraftingGate(paid, 1)  # the cancel lands while the first drafting call is in flight: refunded, then billed
    job = start(writer, target_length=2400)
    cancelled = cancel_when_blocked(writer, paid, job)
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["stages"][-1]["stage"] == "segment_generation"
    assert cancelled["stages"][-1]["llm_calls"] == 1 and cancelled["stages"][-1]["completed_at"] is None
    assert generations_used(writer.user_id) == 1
    assert month_cost(writer.user_id) == pytest.approx(cancelled["actual_cost_usd"], abs=1e-6)
    assert_stages_add_up(writer, cancelled)


def test_cancel_before_drafting_refunds_the_generation_but_counts_the_cost(writer, paid):
    paid.block_on_call = 3  # a planning stage
    job = start(writer)
    cancelled = cancel_when_blocked(writer, paid, job)
    assert cancelled["status"] == "CANCELLED" and cancelled["actual_cost_usd"] > 0
    assert "segment_generation" not in {s["stage"] for s in cancelled["stages"]}
    assert generations_used(writer.user_id) == 0
    usage = writer.get("/usage").json()
    assert usage["generations_used"] == 0
    assert usage["cost_used_usd"] == pytest.approx(cancelled["actual_cost_usd"], abs=1e-6)
    assert_stages_add_up(writer, cancelled)

    resumed = writer.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert generations_used(writer.user_id) == 1  # given back, so taken again


def test_a_cost_cap_reached_by_a_cancelled_job_refuses_the_next_one(writer, paid):
    email = writer.get("/auth/me").json()["email"]
    paid.block_on_call = 3
    job = start(writer)
    cancelled = cancel_when_blocked(writer, paid, job)
    assert cancelled["actual_cost_usd"] > 0, cancelled
    set_cost_limit(email, month_cost(writer.user_id))  # what the cancelled job spent is the whole cap
    refused = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": short_brief()})
    assert refused.status_code == 403, refused.text
    assert error_code(refused.json()) == "limit_exceeded"
    assert "cost limit" in error_detail(refused.json())
    assert generations_used(writer.user_id) == 0


def test_a_running_job_stops_at_the_room_its_users_monthly_cost_cap_left(writer, paid):
    """The monthly cap is not only checked at creation: the job may spend only the room the cap left, and
    stops with BudgetExceeded before a call past it (a job used to run on to the per-job cap)."""
    me = writer.get("/auth/me").json()
    set_cost_limit(me["email"], 0.0005)
    job = start(writer, target_length=1500)
    assert job["status"] == "QUEUED"
    assert wait_for_execution(job["execution_arn"])["status"] in ("SUCCEEDED", "FAILED")
    final = settled(writer, paid, job["id"])
    assert final["status"] == "FAILED" and "BudgetExceeded" in final["error_message"], final
    calls = [s for s in final["stages"] if s["llm_calls"]]
    largest_call = max(s["cost_usd"] / s["llm_calls"] for s in calls)
    # Checked before every call: at most the call that crossed the room is spent past it.
    assert 0.0005 <= final["actual_cost_usd"] <= 0.0005 + largest_call * 2, final
    assert month_cost(me["id"]) == pytest.approx(final["actual_cost_usd"], abs=1e-6)  # the API rounds to 6 places
    assert final["can_resume"] is True
    refused = writer.post(f"/jobs/{job['id']}/resume")
    assert refused.status_code == 403 and error_code(refused.json()) == "limit_exceeded", refused.text
