"""An execution's whole history, paged, as the Step Functions console reads it (tests and benchmarks)."""

from __future__ import annotations

from typing import Any

import boto3


def execution_history(execution_arn: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=region)
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
