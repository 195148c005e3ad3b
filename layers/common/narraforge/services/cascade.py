"""Deleting what hangs under a project or a narrative: items and every S3 object (all versions)."""

from __future__ import annotations

from narraforge.data import jobs as jobs_repo
from narraforge.data import narratives as narratives_repo
from narraforge.data import s3
from narraforge.data.jobs import Job
from narraforge.data.narratives import Narrative
from narraforge.domain.job_state import ACTIVE
from narraforge.domain.refunds import fail_and_refund
from narraforge.enums import JobStatus
from narraforge.services import executions


def delete_job_tree(job: Job) -> None:
    """Stops a running job first (its generation is refunded), then removes checkpoints, S3 outputs, head."""
    if JobStatus(job.status) in ACTIVE and fail_and_refund(job, "Project deleted", allowed=ACTIVE,
                                                            to=JobStatus.CANCELLED):
        executions.stop(job.execution_arn, "Project deleted")
    s3.delete_prefix(s3.job_prefix(job.job_id))
    jobs_repo.delete_with_records(job)


def delete_narrative_tree(head: Narrative) -> None:
    """S3 texts, metadata and exports of every version, the version items; the head is the caller's."""
    for prefix in s3.narrative_prefixes(head.narrative_id):
        s3.delete_prefix(prefix)
    narratives_repo.delete_versions(head.narrative_id)
