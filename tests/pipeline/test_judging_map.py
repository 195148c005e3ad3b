"""The state machine's Maps through the real ASL on moto's interpreter and the real stage runner: stage 7 judges
its windows in a Map beside stage 8's seam Map (one Parallel state); a long work runs all three Maps distributed."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from narraforge.data import keys
from narraforge.data.models import CheckpointItem
from narraforge.enums import Stage
from narraforge.errors import ValidationFailed
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of
from narraforge.pipeline import stages as stage_registry

from narraforge_dev.local.history import execution_history
from tests.helpers import execution_states, wait_for_execution
from tests.pipeline.conftest import short_brief

WORDS = 9000  # parallel drafting, 9 segments, 3 judging windows


def _start(writer, **overrides: Any) -> dict[str, Any]:
    response = writer.post("/jobs/", json={"project_id": writer.project_id,
                                           "production_brief": short_brief(target_length=WORDS, **overrides)})
    assert response.status_code == 201, response.text
    return response.json()


def _item_checkpoints(job_id: str, stage: Stage) -> list[CheckpointItem]:
    prefix = keys.segment_prefix(stage.number)
    return list(CheckpointItem.query(keys.job_pk(job_id), CheckpointItem.sk.startswith(prefix)))


class Overlap:
    """The offline engine, where every judge call waits (up to 20 s) for a seam to be smoothed: judging that
    ran after stylization, or stylization after judging, shows as a judge call that saw no seam."""

    name = "offline"

    def __init__(self) -> None:
        self.seam_seen = threading.Event()
        self.judge_saw_a_seam: list[bool] = []
        self.lock = threading.Lock()

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        if json_schema and json_schema.get("name") == "coherence_review":
            seen = self.seam_seen.wait(20)
            with self.lock:
                self.judge_saw_a_seam.append(seen)
        elif context_of(messages).get("task") == "smooth_seam":
            self.seam_seen.set()
        return OfflineEngine("judging-map").complete(messages, model=model, max_tokens=max_tokens,
                                                     temperature=temperature, json_schema=json_schema)


def test_windows_are_judged_in_a_map_beside_the_seams(writer, monkeypatch):
    overlap = Overlap()
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: overlap)
    job = _start(writer)
    described = wait_for_execution(job["execution_arn"])
    assert described["status"] == "SUCCEEDED", described
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED" and done["progress_percentage"] == pytest.approx(100)

    windows = _item_checkpoints(job["id"], Stage.COHERENCE_VALIDATION)
    assert sorted(int(w.segment) for w in windows) == [0, 1, 2]
    assert len(_item_checkpoints(job["id"], Stage.LANGUAGE_STYLIZATION)) == 9
    assert overlap.judge_saw_a_seam == [True, True, True]  # every judge call ran while seams were being smoothed

    entered = execution_states(job["execution_arn"])
    assert entered.count("CoherenceValidationWindow") == 3
    assert entered.count("LanguageStylizationSegment") == 9
    parallel = entered.index("ReviewAndStylize")
    assert parallel < entered.index("CoherenceValidationWindow") < entered.index("CoherenceValidationComplete")
    assert entered.index("CoherenceValidationComplete") < entered.index("LanguageStylizationComplete")
    assert entered.index("LanguageStylizationComplete") < entered.index("EditorialReview")

    stages = {s["stage"]: s for s in done["stages"]}
    assert stages["coherence_validation"]["llm_calls"] == 3  # one judge call a window, billed to stage 7
    narrative = writer.get(f"/narratives/{done['narrative_id']}").json()
    assert narrative["quality_metrics"]["judged"] is False  # the offline engine judged nothing


def test_a_failure_after_the_parallel_state_resumes_without_judging_or_smoothing_again(writer, provider,
                                                                                         monkeypatch):
    runs: dict[str, int] = {}
    fail_once = {"left": 1}

    def counting(name: str, fn):
        def wrapper(*args, **kwargs):
            runs[name] = runs.get(name, 0) + 1
            if name == "coherence_finalize" and fail_once["left"]:
                fail_once["left"] -= 1
                raise ValidationFailed("the revision was refused")
            return fn(*args, **kwargs)
        return wrapper

    coherence = stage_registry.STAGES[Stage.COHERENCE_VALIDATION]
    styling = stage_registry.STAGES[Stage.LANGUAGE_STYLIZATION]
    monkeypatch.setitem(stage_registry.STAGES, Stage.COHERENCE_VALIDATION, replace(
        coherence, run_segment=counting("window", coherence.run_segment),
        finalize=counting("coherence_finalize", coherence.finalize)))
    monkeypatch.setitem(stage_registry.STAGES, Stage.LANGUAGE_STYLIZATION, replace(
        styling, run_segment=counting("seam", styling.run_segment)))

    job = _start(writer)
    wait_for_execution(job["execution_arn"])
    failed = writer.get(f"/jobs/{job['id']}").json()
    assert failed["status"] == "FAILED" and failed["failed_stage"] == "coherence_validation", failed
    assert runs == {"window": 3, "seam": 9, "coherence_finalize": 1}

    resumed = writer.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert wait_for_execution(resumed.json()["execution_arn"])["status"] == "SUCCEEDED"
    assert writer.get(f"/jobs/{job['id']}").json()["status"] == "COMPLETED"
    # The resumed execution re-entered the Parallel state; every window and seam found its checkpoint.
    assert runs == {"window": 3, "seam": 9, "coherence_finalize": 2}
    assert "ReviewAndStylize" in execution_states(resumed.json()["execution_arn"])


def test_a_long_work_runs_its_maps_as_distributed_maps(writer, provider, monkeypatch):
    # 9 segments stand in for a saga: the threshold is lowered, the path is the one a 200,000-word saga takes.
    monkeypatch.setattr("narraforge.pipeline.runner.DISTRIBUTED_MAP_SEGMENTS", 4)
    job = _start(writer)
    described = wait_for_execution(job["execution_arn"])
    assert described["status"] == "SUCCEEDED", described
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED" and done["segments_drafted"] == 9

    events = execution_history(job["execution_arn"])
    assert [e["type"] for e in events].count("MapRunStarted") == 3  # drafting, judging, seams: child executions
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert {"SegmentGenerationDistributed", "CoherenceValidationDistributed",
            "LanguageStylizationDistributed"} <= set(entered)
    assert not {"SegmentGeneration", "CoherenceValidation", "LanguageStylization"} & set(entered)
    # The items' events live in the child executions: the parent's history does not grow with the segments.
    assert "SegmentGenerationSegmentDistributed" not in entered
    assert len(_item_checkpoints(job["id"], Stage.SEGMENT_GENERATION)) == 9
    assert len(_item_checkpoints(job["id"], Stage.COHERENCE_VALIDATION)) == 3
    narrative = writer.get(f"/narratives/{done['narrative_id']}").json()
    assert abs(narrative["word_count"] - WORDS) <= 0.15 * WORDS


def test_a_short_work_keeps_inline_maps(writer, provider):
    job = _start(writer)
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    events = execution_history(job["execution_arn"])
    assert "MapRunStarted" not in [e["type"] for e in events]
    assert "SegmentGenerationSegment" in execution_states(job["execution_arn"])
