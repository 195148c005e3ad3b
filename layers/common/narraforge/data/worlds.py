"""Where a project's world is kept: each version's JSON document an S3 object, the pointer to the current one
and one item per version in the table (keys `PROJECT#<id>` / `WORLD`, `WORLD#V000001`...), and the marker of
each job whose story was merged into it (`WORLD#JOB#<job id>`, written with the version it made).

A write puts the new version's object first, then moves the pointer in one transaction that also adds the
version item, on three conditions: the project still exists, the head is still at the version the writer
read, and that version number is not taken. Only one of two writers based on the same version can land; the
other's object is deleted (it was never pointed at). Each version has a key of its own (number and a write
token) rather than one key overwritten: the bucket's lifecycle expires noncurrent object versions after 30
days, which would take old world versions with them, and two racing writers would overwrite each other's
object. The S3 VersionId is recorded and read back all the same, so a version always reads the bytes it wrote.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import TransactWriteError

from narraforge.config import get_settings
from narraforge.data import keys
from narraforge.data.base import BaseItem, utcnow
from narraforge.data.listing import Listing
from narraforge.data.models import ProjectItem, WorldItem, WorldUpdateItem, WorldVersionItem
from narraforge.data.transactions import Transaction
from narraforge.observability import logger


class VersionConflict(Exception):
    """The head is no longer at the version the write was based on (or a world now exists where none was)."""


class ProjectGone(Exception):
    """The project was deleted while the world was being written."""


class AlreadyApplied(Exception):
    """The write's marker exists: the same change (a job's story) landed before, in an earlier attempt."""


def prefix(project_id: str) -> str:
    return f"worlds/{project_id}/"


def object_key(project_id: str, number: int, token: str) -> str:
    return f"{prefix(project_id)}v{number:06d}-{token}.json"


def head(project_id: str) -> WorldItem | None:
    """The current pointer, read consistently: a write's precondition is checked against it."""
    return WorldItem.find(*WorldItem.key(project_id), consistent_read=True)


def version(project_id: str, number: int) -> WorldVersionItem | None:
    return WorldVersionItem.find(*WorldVersionItem.key(project_id, number), consistent_read=True)


def s3_client() -> Any:
    """The S3 client, imported on first use: boto3 (~40 ms) stays out of the projects function's cold start,
    whose project routes never touch S3."""
    from narraforge.data.aws import client

    return client("s3")


def read_document(item: WorldItem | WorldVersionItem) -> dict[str, Any]:
    extra = {"VersionId": item.s3_version_id} if item.s3_version_id else {}
    body = s3_client().get_object(Bucket=get_settings().bucket_name, Key=item.s3_key, **extra)["Body"].read()
    return json.loads(body)


def versions(project_id: str) -> Listing:
    """The version items, newest first."""
    pk = keys.world_pk(project_id)
    condition = WorldVersionItem.sk.startswith(keys.WORLD_VERSION_PREFIX)
    return Listing(lambda **kw: WorldVersionItem.query(pk, condition, scan_index_forward=False, **kw),
                   lambda: WorldVersionItem.count(pk, condition), ("pk", "sk"))


def update_of(project_id: str, job_id: str) -> WorldUpdateItem | None:
    """The marker a job's world update left, if it landed (read consistently: a retry decides on it)."""
    return WorldUpdateItem.find(*WorldUpdateItem.key(project_id, job_id), consistent_read=True)


def write(user_id: str, project_id: str, document: dict[str, Any], *, based_on: WorldItem | None,
          entry_counts: dict[str, int], updated_by: str, marker: WorldUpdateItem | None = None) -> WorldItem:
    """Writes `document` as the version after `based_on` (the head the writer read; None: no world yet).
    `marker`, when given, is written in the same transaction and must not exist yet: the change lands once.

    Raises VersionConflict when another write landed first, ProjectGone when the project was deleted,
    AlreadyApplied when the marker exists."""
    number = based_on.version + 1 if based_on else 1
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    bucket = get_settings().bucket_name
    key = object_key(project_id, number, keys.new_id())
    put = s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    version_id = put.get("VersionId")
    now = utcnow()
    facts = {"project_id": project_id, "s3_key": key, "s3_version_id": version_id, "entry_counts": entry_counts,
             "size_bytes": len(body), "updated_by": updated_by}
    new_head = WorldItem(*WorldItem.key(project_id), user_id=user_id, version=number, updated_at=now,
                         created_at=based_on.created_at if based_on else now, **facts)
    tx = Transaction()
    try:
        with tx:
            tx.check("project", ProjectItem, ProjectItem.key(user_id, project_id), ProjectItem.pk.exists())
            tx.save("version", WorldVersionItem(*WorldVersionItem.key(project_id, number), number=number,
                                                created_at=now, **facts),
                    condition=WorldVersionItem.pk.does_not_exist())
            if marker is not None:
                marker.world_version = number
                tx.save("marker", marker, condition=WorldUpdateItem.pk.does_not_exist())
            tx.save("head", new_head, condition=(WorldItem.pk.does_not_exist() if based_on is None
                                                 else WorldItem.version == based_on.version))
    except TransactWriteError as exc:
        _discard(bucket, key, version_id)
        failed = tx.failed(exc)
        if "marker" in failed:
            raise AlreadyApplied(project_id) from exc
        if "project" in failed:
            raise ProjectGone(project_id) from exc
        if failed & {"head", "version"}:
            raise VersionConflict(project_id) from exc
        raise
    return new_head


def _discard(bucket: str, key: str, version_id: str | None) -> None:
    """Removes a losing write's object (its exact version, leaving no delete marker). Best effort: an object
    left behind by a crash is never pointed at, and goes with the project."""
    extra = {"VersionId": version_id} if version_id else {}
    try:
        s3_client().delete_object(Bucket=bucket, Key=key, **extra)
    except Exception:  # the write's own outcome (a conflict) is what the caller must see
        logger.warning("could not delete a discarded world object", extra={"s3_key": key})


def delete_all(project_id: str) -> None:
    """Every version's object (all S3 object versions) and every world item of the project."""
    from narraforge.data import s3  # boto3 on first use, as s3_client

    s3.delete_prefix(prefix(project_id))
    items = list(BaseItem.query(keys.world_pk(project_id)))
    with BaseItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
