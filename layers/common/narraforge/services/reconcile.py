"""Settles jobs whose Step Functions execution ended without the failure recorder running
(stopped from the console, timed out): the EventBridge rule on execution status changes calls this."""

from __future__ import annotations

import json
from typing import Any

from narraforge.data import jobs as jobs_repo
from narraforge.domain.job_state import ACTIVE
from narraforge.domain.refunds import fail_and_refund
from narraforge.enums import JobStatus

MESSAGES = {"ABORTED": "The execution was stopped", "TIMED_OUT": "The execution timed out",
            "FAILED": "The execution failed"}


def reconcile(event: dict[str, Any]) -> dict[str, Any]:
    """EventBridge "Step Functions Execution Status Change": settle jobs whose execution ended
    without the failure recorder (stopped from the console, timed out)."""
    detail = event.get("detail") or {}
    status = detail.get("status")
    if status not in ("ABORTED", "TIMED_OUT", "FAILED"):
        return {"settled": False}
    ids = json.loads(detail.get("input") or "{}")
    try:
        job = jobs_repo.find(ids["user_id"], ids["job_id"], consistent=True)
    except KeyError:
        return {"settled": False}
    if job is None or JobStatus(job.status) not in ACTIVE:
        return {"settled": False}
    to = JobStatus.CANCELLED if status == "ABORTED" else JobStatus.FAILED
    settled = fail_and_refund(job, MESSAGES[status], allowed=ACTIVE, stage=job.current_stage, to=to)
    return {"settled": settled}
