"""The pipeline's bookends: `prepare` (start or resume) and the failure recorder."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from narraforge.data import s3
from narraforge.data.base import utcnow
from narraforge.data.models import JobItem
from narraforge.domain import push
from narraforge.domain.job_state import ACTIVE, status_actions, status_in
from narraforge.domain.refunds import fail_and_refund
from narraforge.enums import JobStatus, Stage
from narraforge.errors import JobCancelled
from narraforge.observability import logger
from narraforge.pipeline import world_context
from narraforge.pipeline.checkpoints import completed_stages
from narraforge.pipeline.runner import load_job, map_run


def prepare(user_id: str, job_id: str, max_concurrency: int = 1) -> dict[str, Any]:
    """QUEUED → RUNNING, and where to start: the first stage without a checkpoint."""
    job = load_job(user_id, job_id)
    if job.status == JobStatus.COMPLETED.value:
        return {"resume_from": "done", **map_run(None, 1)}
    actions = status_actions(user_id, JobStatus.RUNNING)
    if job.started_at is None:  # the first Prepare pins the world version the whole job reads
        actions += [JobItem.started_at.set(utcnow()),
                    JobItem.world_version.set(world_context.current_version(job.project_id))]
    try:
        job.update(actions=actions, condition=status_in(ACTIVE))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise JobCancelled(f"job is {job.status}") from exc
        raise
    done = completed_stages(job_id)
    resume_from = next((stage for stage in Stage if stage not in done), None)
    plan = None
    if Stage.SEGMENT_PLANNING in done:
        plan = s3.get_json(s3.stage_key(job_id, Stage.SEGMENT_PLANNING.number, Stage.SEGMENT_PLANNING.value))
    logger.info("job prepared", extra={"job_id": job_id, "resume_from": getattr(resume_from, "value", "done")})
    return {"resume_from": resume_from.value if resume_from else "done", **map_run(plan, max_concurrency)}


def record_failure(user_id: str, job_id: str, error: dict[str, Any]) -> dict[str, Any]:
    """Catch target: FAILED with the stage and the reason; can_resume follows from the status."""
    error_type, message = _describe(error)
    try:
        job = JobItem.get(*JobItem.key(user_id, job_id), consistent_read=True)
    except DoesNotExist:
        return {"recorded": False}
    stage = job.current_stage or "prepare"
    recorded = fail_and_refund(job, f"{stage}: {error_type}: {message}"[:1000], allowed=ACTIVE, stage=stage)
    logger.error("job failed", extra={"job_id": job_id, "stage": stage, "error_type": error_type})
    if recorded:
        push.notify(job_id, lambda: push.progress_message(job, "job_failed", stage=stage))
    return {"recorded": recorded}


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    error_type = str(error.get("Error") or "Unknown")
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        return str(parsed.get("errorType") or error_type), str(parsed.get("errorMessage") or "")
    except (ValueError, AttributeError):
        return error_type, str(cause)
