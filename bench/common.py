"""Shared set-up of the benchmarks: the same moto account, template resources and bridged stage
runner as the tests, in-process (no server), and a writer account on the PRO plan."""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "layers" / "common")]

os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "TABLE_NAME": "narraforge-bench", "BUCKET_NAME": "narraforge-bench",
    "JWT_SECRET": "bench-signing-key-0123456789abcdef0123", "BCRYPT_ROUNDS": "4",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true",
})
os.environ.pop("AWS_ENDPOINT_URL", None)


@contextmanager
def local_aws(parameters: dict[str, Any]) -> Iterator[None]:
    from moto import mock_aws

    from narraforge_dev.local import lambda_bridge, moto_isolation
    from narraforge_dev.local.resources import create_resources

    moto_isolation.install()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        lambda_bridge.install()
        create_resources(parameters)
        yield
    lambda_bridge.uninstall()


def pro_writer() -> tuple[Any, str]:
    """(CurrentUser, project_id) of a fresh PRO user."""
    from narraforge.data.models import UserItem
    from narraforge.schemas.projects import ProjectCreateRequest
    from narraforge.services import auth, identity, projects

    registered = auth.register(f"bench{time.time_ns()}@example.com", "Bench-passw0rd", "Bench")
    user = UserItem.get(*UserItem.key(registered.user.id))
    user.update(actions=[UserItem.subscription_tier.set("PRO")])
    current = identity.authenticate(registered.access_token)
    project = projects.create(current.id, ProjectCreateRequest(name="Bench"))
    return current, project.project_id


def run_job(current: Any, project_id: str, brief: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
    """Creates the job through the service (as the API does) and waits for its execution."""
    import boto3
    from narraforge.data import keys
    from narraforge.data.models import CheckpointItem, NarrativeItem
    from narraforge.schemas.jobs import JobCreateRequest
    from narraforge.services import jobs

    started = time.perf_counter()
    job, _ = jobs.create(current, JobCreateRequest(project_id=project_id, production_brief=brief), None)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    while sfn.describe_execution(executionArn=job.execution_arn)["status"] == "RUNNING":
        if time.perf_counter() - started > timeout:
            raise TimeoutError(job.job_id)
        time.sleep(0.05)
    wall = time.perf_counter() - started
    job.refresh(consistent_read=True)
    calls: dict[str, int] = defaultdict(int)
    for checkpoint in CheckpointItem.query(keys.job_pk(job.job_id)):
        calls[checkpoint.stage] += int(checkpoint.llm_calls)
    words = 0
    if job.narrative_id:
        words = int(NarrativeItem.get(*NarrativeItem.key(job.user_id, job.narrative_id)).word_count)
    return {"job": job, "wall_seconds": round(wall, 2), "calls_per_stage": dict(calls), "words": words}
