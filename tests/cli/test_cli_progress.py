"""The progress display's reading of a job (the API's `GET /jobs/{id}` shape), in process: stage states, the
segments count when a job reports it, and the wait's patience with 429."""

from __future__ import annotations

import io

import pytest
from narraforge_cli.client import CliError, ExitCode
from narraforge_cli.progress import STAGES, StageBars, StageLines, follow, stage_state
from rich.console import Console


def job(status: str, done: int, current: str | None = None, **extra) -> dict:
    return {"id": "J1", "status": status, "completed_stages": list(STAGES[:done]), "current_stage": current,
            "progress_percentage": 10.0 * done, "failed_stage": None, **extra}


def test_stage_states_follow_the_job_fields():
    running = job("RUNNING", 5, "segment_generation")
    assert [stage_state(running, s) for s in STAGES] == ["done"] * 5 + ["running"] + ["waiting"] * 4
    failed = job("FAILED", 6, "coherence_validation", failed_stage="coherence_validation")
    assert stage_state(failed, "coherence_validation") == "failed" and stage_state(failed, "editorial_review") == \
        "waiting"
    assert stage_state(job("CANCELLED", 2, "character_architecture"), "character_architecture") == "cancelled"


def test_lines_say_each_stage_once_per_state_with_segments_when_reported():
    console = Console(file=io.StringIO(), width=200)
    lines = StageLines(console)
    lines.update(job("RUNNING", 5, "segment_generation", segments_drafted=3, segments_total=8))
    lines.update(job("RUNNING", 5, "segment_generation", segments_drafted=3, segments_total=8))  # no news
    lines.update(job("FAILED", 6, "coherence_validation", failed_stage="coherence_validation"))
    said = console.file.getvalue().splitlines()
    assert said[:5] == [f"[{n:>2}/10] {s}: done" for n, s in enumerate(STAGES[:5], 1)]
    assert said[5:] == ["[ 6/10] segment_generation: running (segment 3 of 8)", "[ 6/10] segment_generation: done",
                        "[ 7/10] coherence_validation: failed"]


def test_bars_fill_the_drafting_stage_segment_by_segment():
    console = Console(file=io.StringIO(), width=140, force_terminal=True, color_system=None)
    with StageBars(console) as bars:
        bars.update(job("RUNNING", 5, "segment_generation", segments_drafted=3, segments_total=8))
        drafting = bars.progress.tasks[STAGES.index("segment_generation") + 1]
        assert (drafting.completed, drafting.total) == (3, 8)
        assert drafting.fields["note"] == "running · segment 3 of 8"
        waiting = bars.progress.tasks[STAGES.index("editorial_review") + 1]
        assert not waiting.started and waiting.fields["note"] == "waiting"
        bars.update(job("COMPLETED", 10, None, progress_percentage=100.0))
    assert all(task.finished for task in bars.progress.tasks)
    assert "COMPLETED 100%" in console.file.getvalue()


class Answers:
    """Stands in for the API client: answers `GET /jobs/{id}` from a script."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def json(self, method: str, path: str):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_waiting_sits_out_a_429_and_fails_on_other_errors():
    slept: list[float] = []
    throttled = CliError("slow down", ExitCode.LIMITS, {"status": 429, "retry_after_seconds": 7})
    done = job("COMPLETED", 10, None, narrative_id="N1")
    api = Answers(job("RUNNING", 1, "world_architecture"), throttled, done)
    assert follow(api, "J1", Console(file=io.StringIO()), show=False, sleep=slept.append) == done
    assert slept == [0.5, 7.0]

    gone = CliError("Job not found", ExitCode.NOT_FOUND, {"status": 404})
    with pytest.raises(CliError) as raised:
        follow(Answers(gone), "J1", Console(file=io.StringIO()), show=False, sleep=slept.append)
    assert raised.value is gone
