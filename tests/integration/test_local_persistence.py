"""The pieces that keep the local stack's data across restarts (narraforge_dev.local.persistence), under moto:
snapshot and restore, the change counter, crash safety, interrupted jobs, the signing key and the lock."""

from __future__ import annotations

import json
import os
import stat

import boto3
import pytest
from narraforge.config import get_settings

from narraforge_dev.local import persistence
from tests.helpers import generations_used, job_never_started, register


def _store(tmp_path) -> persistence.Store:
    settings = get_settings()
    return persistence.Store(tmp_path, settings.table_name, settings.bucket_name, settings.aws_region)


def _table() -> list[dict]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    items = dynamodb.scan(TableName=get_settings().table_name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _wipe() -> None:
    """What a restart leaves: the same (empty) table and bucket."""
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for item in _table():
        dynamodb.delete_item(TableName=settings.table_name, Key={"pk": item["pk"], "sk": item["sk"]})
    s3 = boto3.client("s3", region_name="us-east-1")
    for listed in s3.list_objects_v2(Bucket=settings.bucket_name).get("Contents", []):
        s3.delete_object(Bucket=settings.bucket_name, Key=listed["Key"])


def test_snapshot_restores_items_and_objects_exactly(api, tmp_path):
    auth = register(api)
    api.as_user(auth["access_token"]).post("/projects/", json={"name": "Kept"})
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.put_item(TableName=settings.table_name, Item={
        "pk": {"S": "RAW"}, "sk": {"S": "1"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"a", b"b"]},
        "nested": {"M": {"B": {"L": [{"B": b"\x01"}, {"N": "1.5"}, {"NULL": True}, {"BOOL": False}]}}}})
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=settings.bucket_name, Key="narratives/n/v1.txt", Body="Zażółć".encode(),
                  ContentType="text/plain; charset=utf-8")
    s3.put_object(Bucket=settings.bucket_name, Key="exports/n/v1.pdf", Body=b"%PDF\x00\xff",
                  ContentType="application/pdf", Metadata={"version": "1"})
    before = _table()

    _store(tmp_path).save()
    _wipe()
    assert _table() == []
    assert _store(tmp_path).restore() == (len(before), 2)

    assert _table() == before
    text = s3.get_object(Bucket=settings.bucket_name, Key="narratives/n/v1.txt")
    assert text["Body"].read() == "Zażółć".encode()
    assert text["ContentType"] == "text/plain; charset=utf-8"
    pdf = s3.get_object(Bucket=settings.bucket_name, Key="exports/n/v1.pdf")
    assert (pdf["Body"].read(), pdf["ContentType"], pdf["Metadata"]) == (b"%PDF\x00\xff", "application/pdf",
                                                                        {"version": "1"})
    assert api.as_user(auth["access_token"]).get("/projects/").json()["total"] == 1


def test_snapshot_keeps_one_file_per_body_and_drops_deleted_ones(aws, tmp_path):
    bucket = get_settings().bucket_name
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=bucket, Key="a", Body=b"same")
    s3.put_object(Bucket=bucket, Key="b", Body=b"same")
    s3.put_object(Bucket=bucket, Key="c", Body=b"other")
    store = _store(tmp_path)
    store.save()
    assert len(list((tmp_path / persistence.OBJECTS).iterdir())) == 2
    s3.delete_object(Bucket=bucket, Key="c")
    store.save()
    assert len(list((tmp_path / persistence.OBJECTS).iterdir())) == 1
    assert set(json.loads((tmp_path / persistence.SNAPSHOT).read_text())["objects"]) == {"a", "b"}


def test_a_snapshot_interrupted_midway_leaves_the_previous_one_whole(api, tmp_path, monkeypatch):
    """What a kill -9 during a snapshot does: the new one never replaces the old one half-written."""
    register(api)
    store = _store(tmp_path)
    store.save()
    previous = (tmp_path / persistence.SNAPSHOT).read_bytes()
    register(api)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(persistence.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.save()
    assert (tmp_path / persistence.SNAPSHOT).read_bytes() == previous
    monkeypatch.undo()
    _wipe()
    assert _store(tmp_path).restore()[0] == len(json.loads(previous)["table"])


def test_the_change_counter_moves_on_writes_only(aws):
    persistence.changes.install()
    persistence.changes.install()  # idempotent: one count per write, not two
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    start = persistence.changes.value
    dynamodb.scan(TableName=settings.table_name)
    s3.list_objects_v2(Bucket=settings.bucket_name)
    assert persistence.changes.value == start
    dynamodb.put_item(TableName=settings.table_name, Item={"pk": {"S": "x"}, "sk": {"S": "y"}})
    assert persistence.changes.value == start + 1
    s3.put_object(Bucket=settings.bucket_name, Key="k", Body=b"v")
    assert persistence.changes.value == start + 2


def test_snapshotter_saves_only_after_a_change(aws, tmp_path):
    persistence.changes.install()
    snapshots = persistence.Snapshotter(_store(tmp_path))
    assert snapshots.save_if_changed() is False
    assert not (tmp_path / persistence.SNAPSHOT).exists()
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=get_settings().bucket_name, Key="k", Body=b"v")
    assert snapshots.save_if_changed() is True
    assert snapshots.save_if_changed() is False
    snapshots.stop()  # never started: the shutdown save still works


def test_jobs_interrupted_by_a_restart_fail_with_a_refund_and_can_be_resumed(api, monkeypatch):
    auth, user, job = job_never_started(api, monkeypatch)
    assert job["status"] == "QUEUED"
    assert generations_used(auth["user"]["id"]) == 1

    assert persistence.fail_interrupted_jobs() == [job["id"]]
    assert persistence.fail_interrupted_jobs() == []  # only active jobs, once

    failed = user.get(f"/jobs/{job['id']}").json()
    assert failed["status"] == "FAILED" and failed["can_resume"] is True
    assert "restarted" in failed["error_message"]
    assert generations_used(auth["user"]["id"]) == 0
    resumed = user.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code in (200, 202), resumed.text
    assert resumed.json()["status"] == "QUEUED"


def test_signing_key_is_private_and_kept(tmp_path):
    key = persistence.signing_key(tmp_path)
    assert len(key) >= 32
    assert stat.S_IMODE((tmp_path / persistence.SIGNING_KEY).stat().st_mode) == 0o600
    assert persistence.signing_key(tmp_path) == key


def test_one_stack_per_data_directory_and_reset_waits_for_it(tmp_path):
    directory = tmp_path / "data"
    owner = persistence.DataDirLock(directory)
    owner.acquire()
    try:
        with pytest.raises(persistence.DataDirBusy) as busy:
            persistence.DataDirLock(directory).acquire()
        assert busy.value.pid == os.getpid()
        with pytest.raises(persistence.DataDirBusy):
            persistence.wipe(directory)
        assert directory.exists()
    finally:
        owner.release()
    assert persistence.wipe(directory) is True
    assert not directory.exists()
    assert persistence.wipe(directory) is False
