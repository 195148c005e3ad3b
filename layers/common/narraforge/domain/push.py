"""Progress pushed to a job's WebSocket subscribers through the API Gateway Management API.

Best effort by design: the job head stays the truth (`GET /jobs/{id}/status`), so a push is one attempt with
short timeouts, a connection API Gateway calls gone (410) is deleted at once, and no error here ever reaches
the stage that asked for the push. Without `WEBSOCKET_MANAGEMENT_URL` there is nobody to push to: a no-op that
does not even read the table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from narraforge.config import get_settings
from narraforge.data import connections
from narraforge.data.connections import Subscription
from narraforge.data.jobs import Job
from narraforge.domain.job_state import to_status
from narraforge.observability import logger
from narraforge.schemas.realtime import ProgressMessage

# A job's subscribers are one person's tabs and devices; a bound keeps a stage from posting for long.
MAX_SUBSCRIBERS = 20
# One attempt per message (no botocore retries), and a stage never waits long on a slow endpoint.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=2)


@cache
def _client(endpoint: str) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name=get_settings().aws_region,
                        config=_CONFIG)


def now_ms() -> int:
    return int(time.time() * 1000)


def enabled() -> bool:
    return bool(get_settings().websocket_management_url)


def notify(job_id: str, build: Callable[[], dict[str, Any]]) -> int:
    """Posts `build()` (called only when someone listens) to every subscriber of the job; returns how many
    received it. Never raises."""
    endpoint = get_settings().websocket_management_url
    if not endpoint:
        return 0
    try:
        subscribers = connections.subscribers(job_id, limit=MAX_SUBSCRIBERS)
        if not subscribers:
            return 0
        data = json.dumps(build(), separators=(",", ":"), default=str).encode()
    except Exception as exc:  # a push never fails the stage that asked for it
        logger.warning("push skipped", extra={"job_id": job_id, "error_type": type(exc).__name__})
        return 0
    return sum(_post(endpoint, subscriber, data) for subscriber in subscribers)


def _post(endpoint: str, subscriber: Subscription, data: bytes) -> bool:
    connection_id = subscriber.connection_id
    try:
        _client(endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "GoneException":
            logger.info("connection gone; deleted", extra={"connection_id": connection_id})
            _forget_quietly(connection_id, subscriber.job_id)
        else:
            logger.warning("push failed", extra={"connection_id": connection_id, "error_code": code})
    except Exception as exc:  # timeouts and connection errors (BotoCoreError) included: logged, never raised
        logger.warning("push failed", extra={"connection_id": connection_id, "error_type": type(exc).__name__})
    return False


def _forget_quietly(connection_id: str, job_id: str) -> None:
    try:
        forget(connection_id, also_job=job_id)
    except PynamoDBException as exc:
        logger.warning("gone connection not deleted", extra={"connection_id": connection_id,
                                                             "error_type": type(exc).__name__})


def forget(connection_id: str, *, also_job: str | None = None) -> None:
    """Deletes a connection and every subscription it holds (`$disconnect`, or API Gateway said it is gone)."""
    connections.delete_with_subscriptions(connection_id, also_job=also_job)


def progress_message(job: Job, event: str, *, stage: str | None = None, segment: int | None = None,
                     finished_at: int | None = None) -> dict[str, Any]:
    """A ProgressMessage from the job head as it is now (what `GET /jobs/{id}/status` answers)."""
    return ProgressMessage(event=event, job_id=job.job_id, stage=stage, segment=segment, finished_at=finished_at,
                           sent_at=now_ms(), tokens_used=int(job.tokens_used or 0),
                           status=to_status(job)).model_dump(mode="json")
