"""Step Functions calls: executions are named after their job (resumes `<jid>-r<n>`), input holds ids only."""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from narraforge.config import get_settings
from narraforge.data.aws import client
from narraforge.errors import ServiceUnavailable
from narraforge.observability import logger


def execution_name(job_id: str, retry_count: int) -> str:
    return job_id if retry_count == 0 else f"{job_id}-r{retry_count}"


def start(job_id: str, user_id: str, retry_count: int) -> str:
    arn = get_settings().state_machine_arn
    if not arn:
        raise ServiceUnavailable("The pipeline is not configured (STATE_MACHINE_ARN is empty)")
    try:
        response = client("stepfunctions").start_execution(
            stateMachineArn=arn,
            name=execution_name(job_id, retry_count),
            input=json.dumps({"job_id": job_id, "user_id": user_id}),
        )
    except (BotoCoreError, ClientError) as exc:
        logger.exception("start_execution failed", extra={"job_id": job_id})
        raise ServiceUnavailable("The pipeline could not be started; try again") from exc
    return response["executionArn"]


def stop(execution_arn: str | None, cause: str) -> None:
    """Best effort: the job's status is already CANCELLED, so a late stage write is dropped anyway."""
    if not execution_arn:
        return
    try:
        client("stepfunctions").stop_execution(executionArn=execution_arn, error="JobCancelled", cause=cause)
    except Exception:
        logger.warning("stop_execution failed", extra={"execution_arn": execution_arn}, exc_info=True)
