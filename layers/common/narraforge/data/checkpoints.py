"""The checkpoint queries: a job's completed stages and Map segments (JOB#id / STAGE#nn, SEG#nn#idx).
Raw reads and writes only: the pipeline writes checkpoints as stages finish (pipeline/checkpoints.py),
and the services read them (per-stage usage) or copy them (a regeneration reusing earlier stages)."""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist

from narraforge.data import keys
from narraforge.data.models import CheckpointItem

Checkpoint = CheckpointItem  # the record this repository hands out


def exists(job_id: str, sk: str) -> bool:
    try:
        CheckpointItem.get(keys.job_pk(job_id), sk, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def stage_done(job_id: str, stage_number: int) -> bool:
    """Whether the stage (not one of its segments) is checkpointed; an eventually consistent read, for a job
    that has ended."""
    try:
        CheckpointItem.get(keys.job_pk(job_id), keys.stage_sk(stage_number))
    except DoesNotExist:
        return False
    return True


def of_job(job_id: str) -> Iterator[CheckpointItem]:
    """Every checkpoint of the job, stages and segments, read consistently."""
    return CheckpointItem.query(keys.job_pk(job_id), consistent_read=True)


def stage_rows(job_id: str) -> Iterator[CheckpointItem]:
    """The job's stage checkpoints (no segments), read consistently."""
    return CheckpointItem.query(keys.job_pk(job_id), CheckpointItem.sk.startswith(keys.STAGE_PREFIX),
                                consistent_read=True)


def segment_rows(job_id: str, stage_number: int) -> list[CheckpointItem]:
    return list(CheckpointItem.query(keys.job_pk(job_id),
                                     CheckpointItem.sk.startswith(keys.segment_prefix(stage_number))))


def count_segments(job_id: str, stage_number: int) -> int:
    return CheckpointItem.count(keys.job_pk(job_id), CheckpointItem.sk.startswith(keys.segment_prefix(stage_number)))


def save_copied(job_id: str, stage_number: int, *, stage: str, segment: int | None, s3_key: str) -> None:
    """The checkpoint of an output taken over from another job (of the stage, or of its Map segment
    `segment`): it bills nothing (no tokens, no calls)."""
    sk = keys.stage_sk(stage_number) if segment is None else keys.segment_sk(stage_number, int(segment))
    CheckpointItem(keys.job_pk(job_id), sk, job_id=job_id, stage=stage, segment=segment, s3_key=s3_key).save()
