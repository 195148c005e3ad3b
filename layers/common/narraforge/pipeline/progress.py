"""What the pipeline tells a job's WebSocket subscribers, around each stage runner invocation.

Ten stages, each `stage_started` then `stage_finished`; every Map item in between (`segment_drafted` for
segment_generation, `window_judged` for coherence_validation, `segment_stylized` for language_stylization);
the job's end (`job_completed`, `job_failed`; `job_cancelled` comes from the cancel request). A Map stage
starts with its item 0, the first item its Map state runs, and finishes with its finalize step (stages 7 and 8
run side by side, so their items interleave). Every message carries the job head as
it is then; the push is best effort (domain.push) and never fails the stage.
"""

from __future__ import annotations

from narraforge.data.models import JobItem
from narraforge.domain import push
from narraforge.enums import Stage
from narraforge.pipeline.runner import MAP_STAGES, load_job

ITEM_EVENTS = {Stage.SEGMENT_GENERATION: "segment_drafted", Stage.COHERENCE_VALIDATION: "window_judged",
               Stage.LANGUAGE_STYLIZATION: "segment_stylized"}


def before(job: JobItem, stage: Stage, segment: int | None) -> None:
    if (segment is None and stage not in MAP_STAGES) or segment == 0:
        push.notify(job.job_id, lambda: push.progress_message(job, "stage_started", stage=stage.value))


def after(user_id: str, job_id: str, stage: Stage, segment: int | None) -> None:
    """After the stage's checkpoint is written: the head read back carries its progress."""
    finished_at = push.now_ms()
    if segment is not None:
        event = ITEM_EVENTS[stage]
        announce(user_id, job_id, event, stage=stage, segment=segment, finished_at=finished_at)
        return
    announce(user_id, job_id, "stage_finished", stage=stage, finished_at=finished_at)
    if stage is Stage.OUTPUT_PROCESSING:
        announce(user_id, job_id, "job_completed", finished_at=finished_at)


def announce(user_id: str, job_id: str, event: str, *, stage: Stage | None = None, segment: int | None = None,
             finished_at: int | None = None) -> None:
    push.notify(job_id, lambda: push.progress_message(
        load_job(user_id, job_id), event, stage=stage.value if stage else None, segment=segment,
        finished_at=finished_at))
