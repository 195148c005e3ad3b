"""The real ASL executed by moto's interpreter, with the real stage runner bridged in."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest
from narraforge.data import keys
from narraforge.data.models import CheckpointItem
from narraforge.enums import Stage
from narraforge.errors import ValidationFailed
from narraforge.llm.base import LlmThrottled
from narraforge.pipeline import stages as stage_registry

from tests.helpers import execution_states, generations_used, wait_for_execution
from tests.pipeline.conftest import short_brief

STATE_NAMES = ["BriefInterpretation", "WorldArchitecture", "CharacterArchitecture", "StructureDesign",
               "SegmentPlanning", "SegmentGeneration", "ReviewAndStylize", "CoherenceValidationComplete",
               "LanguageStylizationComplete", "EditorialReview", "OutputProcessing"]
BESIDE = {"CoherenceValidation", "LanguageStylization"}


def start(writer, **brief_overrides):
    response = writer.post("/jobs/", json={"project_id": writer.project_id,
                                           "production_brief": short_brief(**brief_overrides)})
    assert response.status_code == 201, response.text
    return response.json()


def finish(writer, job):
    described = wait_for_execution(job["execution_arn"])
    return described, writer.get(f"/jobs/{job['id']}").json()


def stage_checkpoints(job_id: str) -> dict[str, CheckpointItem]:
    return {c.stage: c for c in CheckpointItem.query(keys.job_pk(job_id), CheckpointItem.sk.startswith("STAGE#"))}


def test_happy_path_writes_the_narrative_and_reads_stage_by_stage(writer, provider):
    job = start(writer)
    described, done = finish(writer, job)
    assert described["status"] == "SUCCEEDED", described
    assert done["status"] == "COMPLETED"
    assert done["progress_percentage"] == pytest.approx(100)
    assert done["completed_stages"] == [s.value for s in Stage]
    assert [s["stage"] for s in done["stages"]] == [s.value for s in Stage]
    assert done["tokens_used"] > 0
    # Map stages count their segments' work: the stages add up to the job.
    by_stage = {s["stage"]: s for s in done["stages"]}
    assert by_stage["segment_generation"]["llm_calls"] > 0
    assert sum(s["prompt_tokens"] + s["completion_tokens"] for s in done["stages"]) == done["tokens_used"]
    assert sum(s["llm_calls"] for s in done["stages"]) == done["llm_calls"] == provider.calls
    assert done["can_resume"] is False

    entered = execution_states(job["execution_arn"])
    assert [name for name in entered if name in STATE_NAMES] == STATE_NAMES
    inside = entered[entered.index("ReviewAndStylize"):entered.index("CoherenceValidationComplete")]
    assert set(inside) >= BESIDE  # both Maps of the Parallel state, in either order

    narrative = writer.get(f"/narratives/{done['narrative_id']}").json()
    assert abs(narrative["word_count"] - 1200) <= 0.15 * 1200
    assert len(narrative["narrative_metadata"]["characters"]) == 3
    assert narrative["narrative_metadata"]["engine"] == "offline"
    text = writer.get(f"/narratives/{done['narrative_id']}/text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == narrative["narrative_text"]
    project = writer.get(f"/projects/{writer.project_id}").json()
    assert project["narrative_count"] == 1 and project["total_word_count"] == narrative["word_count"]
    assert generations_used(writer.user_id) == 1

    exposition = writer.get("/health/metrics").text
    assert 'narraforge_jobs_total{status="completed"} 1.0' in exposition
    assert 'narraforge_jobs_total{status="created"} 1.0' in exposition
    assert "narraforge_narratives 1.0" in exposition
    assert f"narraforge_words {float(narrative['word_count'])}" in exposition
    assert f"narraforge_llm_tokens_total {float(done['tokens_used'])}" in exposition


def test_every_pipeline_log_line_carries_job_and_stage(writer, provider, capsys):
    import json as jsonlib
    import logging

    from narraforge.observability import logger

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("INFO")
    try:
        job = start(writer, target_length=600)
        finish(writer, job)
    finally:
        logger.setLevel("WARNING")
        logger.removeHandler(handler)
    lines = [jsonlib.loads(r) for r in records]
    pipeline_lines = [line for line in lines if line.get("function_name") == "StageRunnerFunction"]
    assert len(pipeline_lines) >= 10, "the stage runner logged too little"
    for line in pipeline_lines:
        assert line.get("job_id") == job["id"], line
        assert line.get("stage"), line
    emf = [jsonlib.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    names = {m["Name"] for line in emf for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"StageDurationSeconds", "JobsCompleted", "JobTokens", "JobCostUsd"} <= names
    durations = [line for line in emf if "StageDurationSeconds" in line]
    assert {line["stage"] for line in durations} == {s.value for s in Stage}



class RecordedSubsegment:
    def __init__(self, name: str) -> None:
        self.name, self.annotations, self.metadata = name, {}, {}

    def put_annotation(self, key: str, value: object) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: object, namespace: str = "default") -> None:
        self.metadata[(namespace, key)] = value


class RecordingXRay:
    """Stands in for the X-Ray recorder (the Tracer is disabled outside Lambda): keeps every subsegment."""

    def __init__(self) -> None:
        self.subsegments: list[RecordedSubsegment] = []

    @contextmanager
    def in_subsegment(self, name: str, **_: object):
        subsegment = RecordedSubsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


def test_every_invocation_and_model_call_is_a_traced_subsegment(writer, provider, monkeypatch):
    from narraforge.observability import tracer

    xray = RecordingXRay()
    monkeypatch.setattr(tracer, "provider", xray)
    job = start(writer, target_length=600)
    described, final = finish(writer, job)
    assert final["status"] == "COMPLETED", described
    steps = [s for s in xray.subsegments if s.annotations.get("job_id") == job["id"]]
    assert {s.annotations["stage"] for s in steps} >= {"prepare", *(stage.value for stage in Stage)}
    calls = [s for s in xray.subsegments if s.name.startswith("## llm ")]
    assert len(calls) == provider.calls > 0
    for call in calls:
        assert call.annotations["model"]
        usage = call.metadata[("narraforge", "usage")]
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert sum(c.metadata[("narraforge", "usage")]["prompt_tokens"] + c.metadata[("narraforge", "usage")]
               ["completion_tokens"] for c in calls) == final["tokens_used"]


def test_throttled_twice_is_retried_and_completes(writer, provider):
    provider.failures = {1: LlmThrottled("429 from the model"), 2: LlmThrottled("429 again")}
    job = start(writer)
    described, done = finish(writer, job)
    assert described["status"] == "SUCCEEDED", described
    assert done["status"] == "COMPLETED"
    entered = execution_states(job["execution_arn"])
    assert entered.count("BriefInterpretation") == 1  # one state entry, retried inside it


def test_terminal_failure_is_recorded_resumable_and_refunded(writer, provider):
    provider.failures = {4: ValidationFailed("the model refused the brief")}
    job = start(writer)
    described, failed = finish(writer, job)
    assert described["status"] == "FAILED"
    assert failed["status"] == "FAILED"
    assert failed["can_resume"] is True
    assert failed["failed_stage"] is not None
    assert "ValidationFailed" in failed["error_message"]
    assert generations_used(writer.user_id) == 0
    (entry,) = writer.get("/usage").json()["log"]["items"]  # a failed job is billed in the log too
    assert entry["job_id"] == job["id"] and entry["status"] == "FAILED" and entry["narrative_id"] is None
    assert entry["tokens_used"] == failed["tokens_used"] > 0 and entry["llm_calls"] == failed["llm_calls"] == 3
    assert sum(s["tokens"] for s in entry["stages"].values()) == failed["tokens_used"]
    assert "RecordFailure" in execution_states(job["execution_arn"])


def test_resume_reruns_only_the_missing_stages(writer, provider, monkeypatch):
    runs: dict[str, int] = {}
    failures_left = {"n": 1}

    def counting(stage, fn):
        def wrapper(*args, **kwargs):
            runs[stage.value] = runs.get(stage.value, 0) + 1
            if stage is Stage.STRUCTURE_DESIGN and failures_left["n"]:
                failures_left["n"] -= 1
                raise ValidationFailed("the outline was refused")
            return fn(*args, **kwargs)
        return wrapper

    for stage, spec in list(stage_registry.STAGES.items()):
        monkeypatch.setitem(stage_registry.STAGES, stage, replace(
            spec,
            run=counting(stage, spec.run) if spec.run else None,
            run_segment=counting(stage, spec.run_segment) if spec.run_segment else None,
            finalize=counting(stage, spec.finalize) if spec.finalize else None,
        ))
    job = start(writer)
    _, failed = finish(writer, job)
    assert failed["status"] == "FAILED", failed
    assert failed["failed_stage"] == "structure_design"
    done_before = stage_checkpoints(job["id"])
    assert set(done_before) == {"brief_interpretation", "world_architecture", "character_architecture"}
    calls_before = provider.calls

    resumed = writer.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    described, done = finish(writer, resumed.json())
    assert described["status"] == "SUCCEEDED", described
    assert done["status"] == "COMPLETED"
    after = stage_checkpoints(job["id"])
    for stage_name, checkpoint in done_before.items():
        assert after[stage_name].completed_at == checkpoint.completed_at  # not re-run, not re-billed
        assert runs[stage_name] == 1  # the stage's code ran once in all
    assert runs["structure_design"] == 2
    assert runs["output_processing"] == 1  # stage 10 is dispatched through the registry like every stage
    assert provider.calls > calls_before
    assert generations_used(writer.user_id) == 1
    billed = sum(c.cost_usd for c in after.values())
    assert done["actual_cost_usd"] == pytest.approx(billed, abs=1e-6)
    assert "ResumeFrom" in execution_states(resumed.json()["execution_arn"])


def test_cancel_mid_run_ends_cancelled_and_drops_the_late_write(writer, provider):
    provider.block_on_call = 3
    job = start(writer)
    assert provider.entered_block.wait(30), "the pipeline never reached the blocking call"
    in_flight = writer.get(f"/jobs/{job['id']}/status").json()["current_stage"]
    assert in_flight is not None
    cancelled = writer.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    provider.release.set()
    described, final = finish(writer, job)
    # AWS reports ABORTED; moto lets the in-flight task's JobCancelled reach the Cancelled state first.
    assert described["status"] == "ABORTED" or (described["status"] == "FAILED"
                                                 and described.get("error") == "JobCancelled"), described
    assert final["status"] == "CANCELLED"
    assert final["can_resume"] is True
    checkpoints = stage_checkpoints(job["id"])
    assert in_flight not in checkpoints  # the stage finished after the cancel; its write was dropped
    assert generations_used(writer.user_id) == 0


def _planning_concurrency(execution_arn: str) -> int:
    import json

    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    exits = [e["stateExitedEventDetails"] for e in events if "stateExitedEventDetails" in e]
    (planning,) = [d for d in exits if d["name"] == "SegmentPlanning"]
    return json.loads(planning["output"])["run"]["map_concurrency"]


@pytest.mark.parametrize(("words", "expected"), [(1200, 1), (7000, 4)])
def test_short_works_draft_sequentially_long_ones_in_parallel(writer, provider, words, expected):
    job = start(writer, target_length=words)
    described, _ = finish(writer, job)
    assert described["status"] == "SUCCEEDED", described
    assert _planning_concurrency(job["execution_arn"]) == expected  # 4 = the test stack's Map limit
