"""Keeps the local stack's data across restarts: moto holds everything in memory, so the stack restores the
last snapshot of the table and the bucket on start, writes a new one a couple of seconds after anything
changed, and once more on shutdown.

The data directory (`.local/data/`, or NARRAFORGE_LOCAL_DATA) holds `snapshot.json` (table items in
DynamoDB JSON and the manifest of the bucket's objects: key, content type, metadata, file), `objects/` (object
bodies, named by their SHA-256), `jwt-secret` (the signing key, 0600, so tokens outlive a restart) and
`stack.lock` (held by the stack that owns the directory). Every file is written aside and renamed into place,
so a kill -9 in the middle of a snapshot leaves the previous one whole."""

from __future__ import annotations

import base64
import fcntl
import functools
import hashlib
import json
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from narraforge_dev.local.template import REPO_ROOT

SNAPSHOT = "snapshot.json"
OBJECTS = "objects"
SIGNING_KEY = "jwt-secret"
LOCK = "stack.lock"
SNAPSHOT_INTERVAL_SECONDS = 2.0
RESTARTED_MESSAGE = ("The local stack was restarted while this job ran; resume it (POST /jobs/{id}/resume) to "
                     "continue from its last completed stage")

# The moto backend calls that change data: the snapshot thread only works after one of them ran.
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
S3_WRITES = ("put_object", "copy_object", "delete_object", "delete_objects", "complete_multipart_upload")


def data_dir() -> Path:
    return Path(os.environ.get("NARRAFORGE_LOCAL_DATA", REPO_ROOT / ".local" / "data"))


class DataDirBusy(Exception):
    """Another local stack owns the data directory."""

    def __init__(self, directory: Path, pid: int | None) -> None:
        self.pid = pid
        owner = f"pid {pid}" if pid else "another process"
        super().__init__(f"the local data in {directory} belong to a running local stack ({owner})")


class DataDirLock:
    """An exclusive flock on `stack.lock`, holding the owner's pid. The kernel drops it when the owner dies,
    even by kill -9, so a crash never leaves the directory locked."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None

    def acquire(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DataDirBusy(self.directory, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except ValueError:
        return None


def wipe(directory: Path) -> bool:
    """`make reset`: deletes the directory, refusing (DataDirBusy) while a stack owns it. False if absent."""
    if not directory.exists():
        return False
    lock = DataDirLock(directory)
    lock.acquire()
    try:
        shutil.rmtree(directory)
    finally:
        lock.release()
    return True


def signing_key(directory: Path) -> str:
    """The stack's JWT signing key, created once (0600) and kept, so tokens stay valid across restarts."""
    path = directory / SIGNING_KEY
    if not path.exists():
        _write_atomically(path, secrets.token_urlsafe(32).encode())
    path.chmod(0o600)
    return path.read_text().strip()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class ChangeCounter:
    """Counts the moto backend calls that write (in this process: the moto server runs on its threads)."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()
        self._installed = False

    def bump(self) -> None:
        with self._lock:
            self.value += 1

    def install(self) -> None:
        """Idempotent. A name moto no longer has fails loudly here rather than silently never snapshotting."""
        if self._installed:
            return
        from moto.dynamodb.models import DynamoDBBackend
        from moto.s3.models import S3Backend

        for backend, names in ((DynamoDBBackend, DYNAMODB_WRITES), (S3Backend, S3_WRITES)):
            for name in names:
                setattr(backend, name, self._counting(getattr(backend, name)))
        self._installed = True

    def _counting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            finally:
                self.bump()

        return call


changes = ChangeCounter()


def _convert(value: dict[str, Any], binary: Callable[[Any], Any]) -> dict[str, Any]:
    """One DynamoDB AttributeValue with its binaries converted (bytes <-> base64 text for JSON)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: binary(inner)}
    if kind == "BS":
        return {kind: [binary(v) for v in inner]}
    if kind == "M":
        return {kind: {k: _convert(v, binary) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_convert(v, binary) for v in inner]}
    return {kind: inner}


def _to_json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _convert(value, lambda b: base64.b64encode(b).decode()) for name, value in item.items()}


def _from_json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _convert(value, base64.b64decode) for name, value in item.items()}


class Store:
    """The snapshot of one table and one bucket in one directory (clients from the configured endpoint)."""

    def __init__(self, directory: Path, table: str, bucket: str, region: str) -> None:
        self.directory = directory
        self.table = table
        self.bucket = bucket
        self.region = region
        self._objects: dict[str, dict[str, Any]] = {}  # the last snapshot's manifest: unchanged bodies are reused
        self._lock = threading.Lock()

    def _clients(self) -> tuple[Any, Any]:
        import boto3

        return boto3.client("dynamodb", region_name=self.region), boto3.client("s3", region_name=self.region)

    def read(self) -> dict[str, Any] | None:
        path = self.directory / SNAPSHOT
        return json.loads(path.read_bytes()) if path.exists() else None

    def restore(self) -> tuple[int, int]:
        """Loads the last snapshot into the (empty, just created) table and bucket: (items, objects)."""
        snapshot = self.read()
        if snapshot is None:
            return 0, 0
        dynamodb, s3 = self._clients()
        items = [_from_json_item(item) for item in snapshot["table"]]
        for start in range(0, len(items), 25):
            requests = {self.table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
            while requests:
                requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        for key, entry in snapshot["objects"].items():
            extra = {"ContentType": entry["content_type"]} if entry.get("content_type") else {}
            s3.put_object(Bucket=self.bucket, Key=key, Body=(self.directory / OBJECTS / entry["file"]).read_bytes(),
                          Metadata=entry.get("metadata") or {}, **extra)
        self._objects = dict(snapshot["objects"])
        return len(items), len(snapshot["objects"])

    def save(self) -> None:
        """A consistent-enough snapshot: the table first, then the bucket, because the API writes an object
        before the item that points at it; so every object an item names is in the same snapshot."""
        with self._lock:
            dynamodb, s3 = self._clients()
            items: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
                items.extend(_to_json_item(item) for item in page["Items"])
            objects: dict[str, dict[str, Any]] = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for listed in page.get("Contents", []):
                    objects[listed["Key"]] = self._object_entry(s3, listed["Key"], listed["ETag"])
            body = json.dumps({"version": 1, "table": items, "objects": objects}, separators=(",", ":"))
            _write_atomically(self.directory / SNAPSHOT, body.encode())
            self._objects = objects
            self._collect_garbage({entry["file"] for entry in objects.values()})

    def _object_entry(self, s3: Any, key: str, etag: str) -> dict[str, Any]:
        known = self._objects.get(key)
        if known and known["etag"] == etag and (self.directory / OBJECTS / known["file"]).exists():
            return known
        got = s3.get_object(Bucket=self.bucket, Key=key)
        body = got["Body"].read()
        name = hashlib.sha256(body).hexdigest()
        if not (self.directory / OBJECTS / name).exists():
            _write_atomically(self.directory / OBJECTS / name, body)
        return {"etag": got.get("ETag", etag), "file": name, "content_type": got.get("ContentType"),
                "metadata": got.get("Metadata") or {}}

    def _collect_garbage(self, referenced: set[str]) -> None:
        """Bodies no snapshot names any more (runs after the new snapshot replaced the old one)."""
        folder = self.directory / OBJECTS
        if folder.exists():
            for path in folder.iterdir():
                if path.name not in referenced:
                    path.unlink(missing_ok=True)


class Snapshotter(threading.Thread):
    """Saves the store every SNAPSHOT_INTERVAL_SECONDS when the change counter moved since the last save."""

    def __init__(self, store: Store, interval: float = SNAPSHOT_INTERVAL_SECONDS) -> None:
        super().__init__(name="local-snapshots", daemon=True)
        self.store = store
        self.interval = interval
        self._saved = changes.value
        self._stopping = threading.Event()

    def run(self) -> None:
        from narraforge.observability import logger

        while not self._stopping.wait(self.interval):
            try:
                self.save_if_changed()
            except Exception:  # a failed snapshot must not end the stack; the next tick tries again
                logger.exception("local snapshot failed")

    def save_if_changed(self) -> bool:
        seen = changes.value
        if seen == self._saved:
            return False
        self.store.save()
        self._saved = seen
        return True

    def stop(self) -> None:
        """Stops the thread, then saves what changed since its last snapshot (the shutdown snapshot)."""
        self._stopping.set()
        if self.is_alive():
            self.join()
        self.save_if_changed()


def fail_interrupted_jobs() -> list[str]:
    """Jobs that were QUEUED/RUNNING when the stack stopped have no execution any more (moto's Step Functions
    lives in memory): they are failed, with their generation refunded as for any failure, so that
    `POST /jobs/{id}/resume` continues them from their last checkpoint."""
    from narraforge.data.models import JobItem
    from narraforge.domain.job_state import ACTIVE
    from narraforge.domain.refunds import fail_and_refund

    failed = []
    for job in JobItem.scan(JobItem.status.is_in(*(status.value for status in ACTIVE))):
        if fail_and_refund(job, RESTARTED_MESSAGE, allowed=ACTIVE):
            failed.append(job.job_id)
    return failed
