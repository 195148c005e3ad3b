"""Bounded load test of the local stack: N concurrent clients for a fixed time, mixing reads and writes.

    .venv/bin/python bench/load.py [--clients 8] [--seconds 60] [--jobs-per-client 1] [--url http://127.0.0.1:8000]

Without --url it starts its own stack (`python -m narraforge_dev.local serve` on a free loopback port, rate
limits raised so that the figure is the stack's, not the limiter's) and stops it at the end. With --url the
target must be a loopback address: this script never sends traffic anywhere else. Each client registers
its own user and project, then loops until the time is up over: /auth/me, list/create/get projects, list
jobs, job status polls, and a few job creations. At the end it waits (bounded) for the jobs it created.

Prints one JSON line: requests/s, p50/p95/p99 latency in ms, per-route figures and the error count.
Exits 1 if any request failed (transport error or an unexpected status) or a job did not complete."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Load-test-passw0rd"
BRIEF = {"production_type": "podcast_script", "genre": "comedy",
         "subject": "Two rival bakers host a podcast about the worst cakes in history",
         "target_length": 300, "character_count": 2}
# (route label, weight): reads dominate, as for a dashboard polling its jobs.
MIX = [("GET /auth/me", 15), ("GET /projects/", 15), ("POST /projects/", 8), ("GET /projects/{id}", 12),
       ("GET /jobs/", 10), ("GET /jobs/{id}/status", 30), ("GET /usage/", 5), ("POST /jobs/", 5)]


@dataclass
class Tally:
    """What every client thread records; merged at the end."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing {url}: load is only sent to loopback addresses (127.0.0.0/8, ::1, localhost)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def own_stack() -> Iterator[str]:
    """The stack as `make run` starts it, in its own process group, stopped with Ctrl-C's signal."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="narraforge-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "BUCKET_", "JWT_"))}
    env.update(PYTHONPATH=f"{REPO}:{REPO / 'layers' / 'common'}", NARRAFORGE_LOCAL_STATE=str(workdir / "stack.json"),
               BCRYPT_ROUNDS="4", RATE_LIMIT_AUTH_PER_MINUTE="1000000", RATE_LIMIT_GENERATION_PER_MINUTE="1000000",
               RATE_LIMIT_DEFAULT_PER_MINUTE="1000000", POWERTOOLS_LOG_LEVEL="WARNING")
    log = workdir / "stack.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "narraforge_dev.local", "serve", "--port", str(port)],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"local stack did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class Client:
    """One simulated user: its own connection, account, projects and jobs."""

    def __init__(self, url: str, index: int, tally: Tally, jobs_allowed: int, seed: int) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.tally = tally
        self.jobs_allowed = jobs_allowed
        self.random = random.Random(seed * 1000 + index)
        email = f"load{index}-{time.time_ns()}@example.com"
        auth = self.call("POST /auth/register", "POST", "/auth/register", 201,
                         json={"email": email, "password": PASSWORD, "full_name": f"Load {index}"})
        self.http.headers["Authorization"] = f"Bearer {auth['access_token']}"
        self.project_ids = [self.call("POST /projects/", "POST", "/projects/", 201, json={"name": "Load"})["id"]]
        self.job_ids: list[str] = []

    def call(self, label: str, method: str, url: str, expected: int, **kwargs: object) -> dict:
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            with self.tally.lock:
                self.tally.errors.append(f"{label}: {type(exc).__name__}: {exc}")
            return {}
        elapsed = time.perf_counter() - started
        with self.tally.lock:
            self.tally.latencies[label].append(elapsed)
            if response.status_code != expected:
                self.tally.errors.append(f"{label}: {response.status_code} {response.text[:200]}")
        return response.json() if response.status_code == expected and response.content else {}

    def step(self) -> None:
        label = self.random.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
        if label == "POST /jobs/" and len(self.job_ids) >= self.jobs_allowed:
            label = "GET /jobs/"
        if label == "GET /jobs/{id}/status" and not self.job_ids:
            label = "GET /jobs/"
        if label == "GET /auth/me":
            self.call(label, "GET", "/auth/me", 200)
        elif label == "GET /projects/":
            self.call(label, "GET", "/projects/", 200, params={"page_size": 20})
        elif label == "POST /projects/":
            created = self.call(label, "POST", "/projects/", 201, json={"name": f"Load {len(self.project_ids)}"})
            if created:
                self.project_ids.append(created["id"])
        elif label == "GET /projects/{id}":
            self.call(label, "GET", f"/projects/{self.random.choice(self.project_ids)}", 200)
        elif label == "GET /jobs/":
            self.call(label, "GET", "/jobs/", 200)
        elif label == "GET /jobs/{id}/status":
            self.call(label, "GET", f"/jobs/{self.random.choice(self.job_ids)}/status", 200)
        elif label == "GET /usage/":
            self.call(label, "GET", "/usage/", 200)
        elif label == "POST /jobs/":
            job = self.call(label, "POST", "/jobs/", 201,
                            json={"project_id": self.project_ids[0], "production_brief": BRIEF})
            if job:
                self.job_ids.append(job["id"])
                with self.tally.lock:
                    self.tally.job_ids.append(job["id"])

    def run_until(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.step()

    def final_statuses(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        statuses: dict[str, str] = {}
        for job_id in self.job_ids:
            while True:
                status = self.http.get(f"/jobs/{job_id}/status").json()["status"]
                if status in ("COMPLETED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
                    statuses[job_id] = status
                    break
                time.sleep(0.5)
        return statuses


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[rank] * 1000, 1)


def run(url: str, clients: int, seconds: float, jobs_per_client: int, seed: int) -> dict:
    tally = Tally()
    users = [Client(url, index, tally, jobs_per_client, seed) for index in range(clients)]
    setup_requests = sum(len(v) for v in tally.latencies.values())
    tally.latencies.clear()
    started = time.monotonic()
    threads = [threading.Thread(target=user.run_until, args=(started + seconds,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    job_statuses: dict[str, str] = {}
    for user in users:
        job_statuses.update(user.final_statuses(timeout=180))
        user.http.close()
    every = sorted(latency for values in tally.latencies.values() for latency in values)
    routes = {label: {"requests": len(values), "p50_ms": percentile(sorted(values), 0.50),
                      "p95_ms": percentile(sorted(values), 0.95)}
              for label, values in sorted(tally.latencies.items())}
    unfinished = {job: status for job, status in job_statuses.items() if status != "COMPLETED"}
    return {
        "clients": clients, "seconds": round(elapsed, 1), "setup_requests": setup_requests,
        "requests": len(every), "requests_per_second": round(len(every) / elapsed, 1),
        "p50_ms": percentile(every, 0.50), "p95_ms": percentile(every, 0.95), "p99_ms": percentile(every, 0.99),
        "mean_ms": round(statistics.fmean(every) * 1000, 1) if every else 0.0,
        "errors": len(tally.errors), "error_samples": tally.errors[:10],
        "jobs_created": len(job_statuses), "jobs_not_completed": unfinished, "routes": routes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running stack on a loopback address (default: start one)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--jobs-per-client", type=int, default=1, help="job creations per client (FREE plan: 5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.url:
        require_loopback(args.url)
        report = run(args.url.rstrip("/"), args.clients, args.seconds, args.jobs_per_client, args.seed)
    else:
        with own_stack() as url:
            report = run(url, args.clients, args.seconds, args.jobs_per_client, args.seed)
    print(json.dumps(report), flush=True)
    return 1 if report["errors"] or report["jobs_not_completed"] else 0


if __name__ == "__main__":
    sys.exit(main())
