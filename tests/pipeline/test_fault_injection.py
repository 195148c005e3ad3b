"""Faults on the way: the model API failing at random, and a stage crashing between its S3 write and
its checkpoint. Jobs still complete, every successful call is billed exactly once, no checkpoint is
lost or written twice."""

from __future__ import annotations

import json

import boto3
import pytest
from narraforge.data import keys
from narraforge.data.models import CheckpointItem, JobItem
from narraforge.enums import Stage
from narraforge.llm.base import LlmServerError
from narraforge.pipeline import checkpoints as checkpoint_writes

from tests.conftest import TEST_PARAMETERS
from tests.fake_openai import serving
from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief


@pytest.fixture
def stack_parameters() -> dict:
    # 20% faults with up to 8 attempts per call: a job exhausting its retries has odds below 1 in 3,000.
    return {**TEST_PARAMETERS, "LlmRetryMaxAttempts": 8}


@pytest.fixture
def flaky_model(monkeypatch):
    yield from serving(monkeypatch, fault_rate=0.2)


def journal(job_id: str) -> list[dict]:
    s3 = boto3.client("s3", region_name="us-east-1")
    objects = s3.list_objects_v2(Bucket="narraforge-test", Prefix=f"jobs/{job_id}/calls/").get("Contents", [])
    return [json.loads(s3.get_object(Bucket="narraforge-test", Key=o["Key"])["Body"].read()) for o in objects]


def checkpoints(job_id: str) -> list[CheckpointItem]:
    return list(CheckpointItem.query(keys.job_pk(job_id)))


def assert_checkpoints_complete(job_id: str) -> None:
    rows = checkpoints(job_id)
    stages = [r.stage for r in rows if r.segment is None]
    assert sorted(stages) == sorted(s.value for s in Stage)  # each stage once, none missing
    segments = {(r.stage, int(r.segment)) for r in rows if r.segment is not None}
    per_stage = {stage: sum(1 for s, _ in segments if s == stage) for stage in ("segment_generation",
                                                                                 "language_stylization")}
    assert per_stage["segment_generation"] == per_stage["language_stylization"] > 0
    assert len(segments) == len([r for r in rows if r.segment is not None])  # no duplicates


def test_ten_jobs_complete_through_twenty_percent_model_faults(writer, flaky_model):
    from narraforge.enums import Tier

    from narraforge_dev.admin import set_tier

    set_tier(writer.get("/auth/me").json()["email"], Tier.PRO)  # ten generations: more than FREE allows
    jobs = []
    for i in range(10):
        body = {"project_id": writer.project_id,
                "production_brief": short_brief(target_length=500 + 50 * i, genre="thriller")}
        response = writer.post("/jobs/", json=body)
        assert response.status_code == 201, response.text
        jobs.append(response.json())
    for job in jobs:
        described = wait_for_execution(job["execution_arn"], timeout=240)
        assert described["status"] == "SUCCEEDED", (described, writer.get(f"/jobs/{job['id']}").json())
    assert {"429", "500", "timeout"} <= set(flaky_model.injected), flaky_model.injected

    billed = 0
    for job in jobs:
        head = JobItem.get(*JobItem.key(writer.user_id, job["id"]))
        assert head.status == "COMPLETED" and head.provider == "openai"
        assert_checkpoints_complete(job["id"])
        billed += int(head.tokens_used)
    assert billed == flaky_model.billed_tokens  # every reply the model delivered is billed, once


def crash_once_after_the_s3_write(monkeypatch, stage: Stage, error: Exception) -> dict:
    original = checkpoint_writes.commit_checkpoint
    state = {"crashed": 0}

    def commit(ctx, sk, key, duration):
        if ctx.stage is stage and not state["crashed"]:
            state["crashed"] += 1
            raise error
        return original(ctx, sk, key, duration)

    monkeypatch.setattr(checkpoint_writes, "commit_checkpoint", commit)
    return state


def assert_billed_once(user_id: str, job_id: str) -> None:
    head = JobItem.get(*JobItem.key(user_id, job_id))
    entries = journal(job_id)
    assert int(head.tokens_used) == sum(e["prompt_tokens"] + e["completion_tokens"] for e in entries)


def test_crash_between_s3_write_and_checkpoint_is_safe_on_retry(writer, provider, monkeypatch):
    state = crash_once_after_the_s3_write(monkeypatch, Stage.WORLD_ARCHITECTURE, LlmServerError("lambda died"))
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    assert state["crashed"] == 1
    assert provider.schemas["world_bible"] == 1 or provider.calls > 0
    assert_checkpoints_complete(job["id"])
    assert_billed_once(writer.user_id, job["id"])
    world = [c for c in checkpoints(job["id"]) if c.stage == "world_architecture"]
    assert len(world) == 1 and world[0].llm_calls >= 1  # the retry replayed the call from the journal


def test_crash_between_s3_write_and_checkpoint_is_safe_on_resume(writer, provider, monkeypatch):
    state = crash_once_after_the_s3_write(monkeypatch, Stage.STRUCTURE_DESIGN, RuntimeError("out of memory"))
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=600)}).json()
    assert wait_for_execution(job["execution_arn"])["status"] == "FAILED"
    calls_at_failure = provider.calls
    failed = writer.get(f"/jobs/{job['id']}").json()
    assert failed["status"] == "FAILED" and failed["failed_stage"] == "structure_design"

    resumed = writer.post(f"/jobs/{job['id']}/resume").json()
    assert wait_for_execution(resumed["execution_arn"])["status"] == "SUCCEEDED"
    assert state["crashed"] == 1
    assert_checkpoints_complete(job["id"])
    assert_billed_once(writer.user_id, job["id"])
    structure = [e for e in journal(job["id"]) if e is not None]
    assert structure and provider.calls > calls_at_failure
