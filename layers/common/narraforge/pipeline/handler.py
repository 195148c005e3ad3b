"""The stage runner's entry: one invocation runs one stage, one segment, or a lifecycle step."""

from __future__ import annotations

from typing import Any

from narraforge.enums import Stage
from narraforge.errors import BudgetExceeded, JobCancelled, ValidationFailed
from narraforge.llm.base import LlmBadOutput, LlmRefused, LlmServerError, LlmThrottled, LlmTimeout
from narraforge.llm.factory import provider_for
from narraforge.observability import logger, tracer
from narraforge.pipeline import lifecycle, progress, world_update
from narraforge.pipeline.runner import load_job, run_stage

# The one map from errors to the Step Functions error names the state machine's Retry and Catch match on
# (statemachine/narrative_pipeline.asl.json): retried with backoff, caught as a cancellation, or recorded as the
# job's failure (States.ALL). Lambda reports an exception's class name as its errorType; an error not named
# here (a bug, an AWS error) reaches Step Functions under its own class name and is recorded as a failure.
RETRIED = "retried"
CANCELLED = "cancelled"
FAILED = "failed"
STEP_FUNCTIONS_ERRORS: dict[type[Exception], tuple[str, str]] = {
    LlmThrottled: ("LlmThrottled", RETRIED),
    LlmServerError: ("LlmServerError", RETRIED),
    LlmTimeout: ("LlmTimeout", RETRIED),
    LlmBadOutput: ("LlmBadOutput", RETRIED),
    LlmRefused: ("ValidationFailed", FAILED),
    JobCancelled: ("JobCancelled", CANCELLED),
    BudgetExceeded: ("BudgetExceeded", FAILED),
    ValidationFailed: ("ValidationFailed", FAILED),
    world_update.WorldUpdateRaced: ("WorldUpdateRaced", RETRIED),
}


class StepFunctionsError(Exception):
    """What the runner raises to Step Functions: one subclass per name, since the name is the class's."""


NAMED = {name: type(name, (StepFunctionsError,), {"__module__": __name__})
         for name, _ in STEP_FUNCTIONS_ERRORS.values()}


def step_functions_name(exc: BaseException) -> str | None:
    """The name `exc` reaches Step Functions under, by its nearest mapped class; None when it is not mapped."""
    for cls in type(exc).__mro__:
        if cls in STEP_FUNCTIONS_ERRORS:
            return STEP_FUNCTIONS_ERRORS[cls][0]
    return None


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Runs one step; a mapped error leaves under its Step Functions name, its message and cause kept."""
    try:
        return _traced(event)
    except tuple(STEP_FUNCTIONS_ERRORS) as exc:
        name = str(step_functions_name(exc))
        if type(exc).__name__ == name:
            raise  # already named as Step Functions knows it
        raise NAMED[name](str(exc)) from exc


def _traced(event: dict[str, Any]) -> dict[str, Any]:
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
    if action == "world_update":
        return world_update.run(user_id, job_id, provider_for(job_id))
    if action == "record_world_update_failure":
        return world_update.record_failure(user_id, job_id, event.get("error") or {})
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
