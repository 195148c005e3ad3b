"""Deleting what hangs under a project or a narrative: items and every S3 object (all versions)."""

from __future__ import annotations

from narraforge.data import checkpoints, keys, s3
from narraforge.data.base import BaseItem
from narraforge.data.models import JobItem, NarrativeItem, NarrativeVersionItem, StageBillItem
from narraforge.domain.job_state import ACTIVE
from narraforge.domain.refunds import fail_and_refund
from narraforge.enums import JobStatus
from narraforge.services import executions


def delete_job_tree(job: JobItem) -> None:
    """Stops a running job first (its generation is refunded), then removes checkpoints, S3 outputs, head."""
    if JobStatus(job.status) in ACTIVE and fail_and_refund(job, "Project deleted", allowed=ACTIVE,
                                                            to=JobStatus.CANCELLED):
        executions.stop(job.execution_arn, "Project deleted")
    s3.delete_prefix(s3.job_prefix(job.job_id))
    _delete_all([*checkpoints.of_job(job.job_id), *StageBillItem.query(keys.job_pk(job.job_id))])
    job.delete()


def delete_narrative_tree(head: NarrativeItem) -> None:
    """S3 texts, metadata and exports of every version, the version items, then the head."""
    for prefix in s3.narrative_prefixes(head.narrative_id):
        s3.delete_prefix(prefix)
    _delete_all(list(NarrativeVersionItem.query(keys.narrative_pk(head.narrative_id))))


def children_of_project(project_id: str) -> list[BaseItem]:
    return list(BaseItem.gsi1.query(keys.project_gsi1pk(project_id)))


def _delete_all(items: list[BaseItem]) -> None:
    with BaseItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
