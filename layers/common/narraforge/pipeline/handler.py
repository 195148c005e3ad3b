"""The stage runner's entry: one invocation runs one stage, one segment, or a lifecycle step."""

from __future__ import annotations

from typing import Any

from narraforge.enums import Stage
from narraforge.llm.base import ValidationFailed
from narraforge.llm.factory import provider_for
from narraforge.observability import logger, tracer
from narraforge.pipeline import lifecycle, progress
from narraforge.pipeline.runner import load_job, run_stage


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """One X-Ray subsegment per invocation, annotated so a trace is found by job id and stage."""
    user_id, job_id = event.get("user_id"), event.get("job_id")
    if not isinstance(user_id, str) or not isinstance(job_id, str):
        raise ValidationFailed("event needs job_id and user_id")
    step = str(event.get("stage", event.get("action")))
    logger.append_keys(job_id=job_id, stage=step)
    with tracer.provider.in_subsegment(f"## {step}") as subsegment:
        subsegment.put_annotation("job_id", job_id)
        subsegment.put_annotation("stage", step)
        if event.get("segment") is not None:
            subsegment.put_annotation("segment", str(event["segment"]))
        return _dispatch(event, user_id, job_id)


def _dispatch(event: dict[str, Any], user_id: str, job_id: str) -> dict[str, Any]:
    action = event.get("action")
    limit = int(event.get("max_concurrency") or 1)
    if action == "prepare":
        return lifecycle.prepare(user_id, job_id, limit)
    if action == "record_failure":
        return lifecycle.record_failure(user_id, job_id, event.get("error") or {})
    if action == "stage":
        try:
            stage = Stage(event["stage"])
        except (KeyError, ValueError) as exc:
            raise ValidationFailed(f"unknown stage {event.get('stage')!r}") from exc
        job = load_job(user_id, job_id)
        segment = int(event["segment"]) if event.get("segment") is not None else None
        progress.before(job, stage, segment)
        result = run_stage(job, stage, provider_for(job_id), segment=segment, max_concurrency=limit)
        progress.after(user_id, job_id, stage, segment)
        return result
    raise ValidationFailed(f"unknown action {action!r}")
