"""Push latency: from a stage's end (its checkpoint written, `finished_at` in the message) to a WebSocket client
receiving the message, on the real local stack (`make run`'s code: the realtime function behind the local
WebSocket API, the pipeline posting to the local Management API over HTTP).

    .venv/bin/python bench/push_latency.py [--jobs 3]

The model is narraforge_dev's fake OpenAI server (the offline engine behind an OpenAI-compatible API), so each job can
be made to fail on its first call, subscribed to, and resumed: the client then hears all ten stages. The client
and the stack share this machine's clock. Prints one JSON line per job (median and max over its ten
`stage_finished` messages) and one with the median over all of them."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "layers" / "common")]

from narraforge_dev.fake_openai import FakeOpenAI, Fault  # noqa: E402

PASSWORD = "Correct-h0rse-battery"
BRIEF = {"production_type": "short_story", "genre": "fantasy", "subject": "A bell founder casts a bell that rings "
         "only for lies", "target_length": 900, "character_count": 2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(workdir: Path, model_url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "BUCKET_", "JWT_"))}
    env.update(PYTHONPATH=f"{REPO}:{REPO / 'layers' / 'common'}", NARRAFORGE_LOCAL_STATE=str(workdir / "stack.json"),
               NARRAFORGE_LOCAL_DATA=str(workdir / "data"), POWERTOOLS_LOG_LEVEL="WARNING",
               OPENAI_BASE_URL=model_url, OPENAI_API_KEY="sk-bench", RATE_LIMIT_AUTH_PER_MINUTE="1000",
               RATE_LIMIT_GENERATION_PER_MINUTE="1000")
    log = open(workdir / "stack.log", "wb")  # noqa: SIM115 - open for the process's life
    process = subprocess.Popen([sys.executable, "-m", "narraforge_dev.local", "serve", "--port", str(port)], cwd=REPO,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the local stack did not start; see {workdir / 'stack.log'}")


def wait_for(http: httpx.Client, headers: dict[str, str], job_id: str, statuses: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = http.get(f"/jobs/{job_id}/status", headers=headers).json()
        if status["status"] in statuses:
            return status
        time.sleep(0.2)
    raise SystemExit(f"job {job_id} did not reach {statuses}")


def one_job(http: httpx.Client, model: FakeOpenAI, port: int, n: int) -> list[float]:
    email = f"bench-push-{time.time_ns()}-{n}@example.com"
    auth = http.post("/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Bench"}).json()
    headers = {"Authorization": f"Bearer {auth['access_token']}"}
    project = http.post("/projects/", json={"name": "Bench"}, headers=headers).json()
    model.script(Fault(status=401))  # fails before any stage is done, so the resume runs all ten
    job_id = http.post("/jobs/", json={"project_id": project["id"], "production_brief": BRIEF},
                       headers=headers).json()["id"]
    wait_for(http, headers, job_id, ("FAILED",))
    latencies: list[float] = []
    with connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["narraforge.bearer", auth["access_token"]]) as ws:
        ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        assert json.loads(ws.recv(timeout=30))["event"] == "subscribed"
        http.post(f"/jobs/{job_id}/resume", headers=headers).raise_for_status()
        while True:
            message = json.loads(ws.recv(timeout=120))
            received = time.time() * 1000
            if message["event"] == "stage_finished":
                latencies.append(received - message["finished_at"])
            if message["event"] in ("job_completed", "job_failed"):
                break
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    model = FakeOpenAI()
    model.start()
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_stack(Path(tmp), model.url)
        try:
            every: list[float] = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                for n in range(args.jobs):
                    latencies = one_job(http, model, port, n)
                    every += latencies
                    print(json.dumps({"job": n + 1, "stages": len(latencies),
                                      "median_ms": round(statistics.median(latencies), 1),
                                      "max_ms": round(max(latencies), 1)}), flush=True)
            print(json.dumps({"jobs": args.jobs, "messages": len(every),
                              "median_ms": round(statistics.median(every), 1),
                              "p90_ms": round(statistics.quantiles(every, n=10)[-1], 1)}))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
            model.stop()


if __name__ == "__main__":
    main()
