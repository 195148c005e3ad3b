"""Following a job: polls `GET /jobs/{id}` and draws one progress bar per pipeline stage (rich), or plain lines
when the output is not a terminal (a CI log, a pipe), so a script's log still shows each stage as it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from narraforge_cli.client import Api, CliError, ExitCode

# The pipeline's ten stages, in order (the names the API uses in `current_stage` and `completed_stages`).
STAGES = (
    "brief_interpretation", "world_architecture", "character_architecture", "structure_design", "segment_planning",
    "segment_generation", "coherence_validation", "language_stylization", "editorial_review", "output_processing",
)
ENDED = {"COMPLETED", "FAILED", "CANCELLED"}
POLL_SECONDS = 0.5


def stage_state(job: dict[str, Any], stage: str) -> str:
    """waiting, running, done, failed or cancelled: what the job's fields say about one stage."""
    if stage in (job.get("completed_stages") or []):
        return "done"
    status = job.get("status")
    if status == "FAILED" and stage == (job.get("failed_stage") or job.get("current_stage")):
        return "failed"
    if stage == job.get("current_stage"):
        return {"CANCELLED": "cancelled", "FAILED": "failed"}.get(status or "", "running")
    return "waiting"


def segments(job: dict[str, Any]) -> tuple[int, int] | None:
    """Segments drafted n of N, when the job reports them."""
    done, total = job.get("segments_drafted"), job.get("segments_total")
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        return done, total
    return None


class StageBars:
    """Ten rich bars plus the job's overall percentage, updated from each polled job."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[note]}"),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.overall = self.progress.add_task("overall", total=100, note="")
        self.tasks: dict[str, TaskID] = {
            stage: self.progress.add_task(f"{number:>2}. {stage}", total=1, note="waiting", start=False)
            for number, stage in enumerate(STAGES, 1)
        }

    def __enter__(self) -> StageBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, job: dict[str, Any]) -> None:
        self.progress.update(self.overall, completed=float(job.get("progress_percentage") or 0),
                             note=f"{job.get('status', '')} {float(job.get('progress_percentage') or 0):.0f}%")
        for stage, task in self.tasks.items():
            state = stage_state(job, stage)
            # A running stage pulses (total None) until it reports counted work: then it fills, segment by segment.
            note, total, completed = state, None if state == "running" else 1.0, 1.0 if state == "done" else 0.0
            counted = segments(job) if stage == "segment_generation" else None
            if counted and state in ("running", "done"):
                completed, total = (counted[1], counted[1]) if state == "done" else counted
                note = f"{state} · segment {completed} of {total}"
            if state != "waiting":
                self.progress.start_task(task)
            self.progress.update(task, total=total, completed=completed, note=note)


class StageLines:
    """The same progress as lines, one per stage as it starts or ends (for output that is not a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.said: dict[str, str] = {}

    def __enter__(self) -> StageLines:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, job: dict[str, Any]) -> None:
        for number, stage in enumerate(STAGES, 1):
            state = stage_state(job, stage)
            if state != "waiting" and self.said.get(stage) != state:
                self.said[stage] = state
                counted = segments(job) if stage == "segment_generation" and state == "running" else None
                extra = f" (segment {counted[0]} of {counted[1]})" if counted else ""
                self.console.print(f"[{number:>2}/10] {stage}: {state}{extra}", highlight=False)


def follow(api: Api, job_id: str, console: Console, *, show: bool = True,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Polls the job until it ends and returns it. A 429 waits out its Retry-After instead of failing the wait."""
    display = (StageBars(console) if console.is_terminal else StageLines(console)) if show else None
    with display or nullcontext():
        while True:
            try:
                job = api.json("GET", f"/jobs/{job_id}")
            except CliError as error:
                if error.problem.get("status") != 429:
                    raise
                sleep(float(error.problem.get("retry_after_seconds") or 1))
                continue
            if display:
                display.update(job)
            if job.get("status") in ENDED:
                return job
            sleep(POLL_SECONDS)


def raise_unless_completed(job: dict[str, Any]) -> None:
    if job.get("status") != "COMPLETED":
        where = f" at {job['failed_stage']}" if job.get("failed_stage") else ""
        reason = f": {job['error_message']}" if job.get("error_message") else ""
        hint = f"; `narraforge resume {job['id']}` continues it" if job.get("can_resume") else ""
        raise CliError(f"Job {job.get('id')} {str(job.get('status')).lower()}{where}{reason}{hint}",
                       ExitCode.JOB_FAILED, {})
