"""Starts the local stack exactly as `make run` does (a separate process) and talks to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "BUCKET_", "JWT_"))}
    state_file = tmp_path_factory.mktemp("stack") / "stack.json"
    env.update(
        PYTHONPATH=f"{REPO}:{REPO / 'layers' / 'common'}",
        NARRAFORGE_LOCAL_STATE=str(state_file),
        BCRYPT_ROUNDS="4",
        RATE_LIMIT_AUTH_PER_MINUTE="10000", RATE_LIMIT_GENERATION_PER_MINUTE="10000",
        RATE_LIMIT_DEFAULT_PER_MINUTE="10000",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    log = tmp_path_factory.mktemp("logs") / "stack.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "narraforge.local", "serve", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"local stack exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"local stack did not start:\n{log.read_text()[-3000:]}")
    yield url, state_file
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("local stack did not stop on Ctrl-C")


@pytest.fixture(scope="session")
def stack_url(local_stack):
    return local_stack[0]


@pytest.fixture
def http(local_stack):
    url, state_file = local_stack
    with httpx.Client(base_url=url, timeout=30) as client:
        client.state_file = state_file
        yield client
