"""Readiness checks of the dependencies, and the platform counters for Prometheus."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from narraforge.config import get_settings
from narraforge.data import usage as usage_repo
from narraforge.data.aws import client
from narraforge.data.base import BaseItem
from narraforge.observability import logger


def _table() -> None:
    BaseItem.describe_table()


def _bucket() -> None:
    client("s3").head_bucket(Bucket=get_settings().bucket_name)


def _state_machine() -> None:
    arn = get_settings().state_machine_arn
    if arn:
        client("stepfunctions").describe_state_machine(stateMachineArn=arn)


CHECKS: dict[str, Callable[[], None]] = {"table": _table, "bucket": _bucket, "state_machine": _state_machine}


def readiness() -> dict[str, str]:
    """Each check's result: "ok" or the reason it failed (never a stack trace)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except (BotoCoreError, ClientError, PynamoDBException) as exc:
            logger.warning("readiness check failed", extra={"check": name, "error": str(exc)})
            results[name] = f"unavailable: {type(exc).__name__}"
    return results


COUNTERS = ("users", "projects", "narratives", "words", "tokens", "cost_usd", "jobs_created", "jobs_completed",
            "jobs_failed", "jobs_cancelled")


def platform_counters() -> dict[str, float]:
    """The counters kept with atomic ADDs next to the writes they count (one read, no scans)."""
    stats = usage_repo.platform_stats()
    if stats is None:
        return dict.fromkeys(COUNTERS, 0.0)
    return {name: float(getattr(stats, name) or 0) for name in COUNTERS}
