"""The S3 store: deterministic keys (ARCHITECTURE.md, "Storage") and JSON/text helpers. Items in DynamoDB hold
these keys."""

from __future__ import annotations

import json
from typing import Any

from narraforge.config import get_settings
from narraforge.data.aws import client


def stage_key(job_id: str, stage_number: int, stage_name: str) -> str:
    return f"jobs/{job_id}/stages/{stage_number:02d}-{stage_name}.json"


def segment_key(job_id: str, stage_number: int, index: int) -> str:
    return f"jobs/{job_id}/segments/{stage_number:02d}/{index:04d}.json"


def call_key(job_id: str, stage_number: int, segment: int | None, fingerprint: str) -> str:
    """The call journal: one object per successful LLM call, so a retried stage replays instead of paying."""
    where = f"{stage_number:02d}" if segment is None else f"{stage_number:02d}-{segment:04d}"
    return f"jobs/{job_id}/calls/{where}/{fingerprint}.json"


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/"


def narrative_text_key(narrative_id: str, version: int) -> str:
    return f"narratives/{narrative_id}/v{version}.txt"


def narrative_metadata_key(narrative_id: str, version: int) -> str:
    return f"narratives/{narrative_id}/v{version}.json"


def narrative_prefixes(narrative_id: str) -> list[str]:
    return [f"narratives/{narrative_id}/", f"exports/{narrative_id}/"]


def put_json(key: str, value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=body,
                            ContentType="application/json")


def get_json(key: str) -> Any:
    return json.loads(get_bytes(key))


def put_text(key: str, text: str) -> None:
    client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=text.encode("utf-8"),
                            ContentType="text/plain; charset=utf-8")


def get_bytes(key: str) -> bytes:
    return client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)["Body"].read()


def delete(key: str) -> None:
    client("s3").delete_object(Bucket=get_settings().bucket_name, Key=key)


def copy(source_key: str, target_key: str) -> None:
    bucket = get_settings().bucket_name
    client("s3").copy_object(Bucket=bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": source_key})


def delete_prefix(prefix: str) -> int:
    """Removes every version of every object under the prefix (the bucket is versioned), and the
    delete markers too, so nothing of the user's is left behind."""
    s3 = client("s3")
    bucket = get_settings().bucket_name
    removed = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            batch = doomed[start:start + 1000]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            removed += len(batch)
    return removed
