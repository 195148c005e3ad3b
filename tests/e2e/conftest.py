"""Starts the local stack exactly as `make run` does (a separate process) and talks to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
QUIET_LIMITS = {"RATE_LIMIT_AUTH_PER_MINUTE": "10000", "RATE_LIMIT_GENERATION_PER_MINUTE": "10000",
                "RATE_LIMIT_DEFAULT_PER_MINUTE": "10000", "RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE": "10000",
                "RATE_LIMIT_REGISTER_PER_IP_PER_HOUR": "10000"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StackProcess:
    """One `python -m narraforge_dev.local serve` process, on its own port, state file and data directory."""

    process: subprocess.Popen
    url: str
    port: int
    state_file: Path
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Ctrl-C (or another signal) and the exit code; a stack that ignores Ctrl-C fails the test."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"local stack did not stop on signal {sig}:\n{self.output()[-3000:]}")


def launch(workdir: Path, *, port: int | None = None, data_dir: Path | None = None, state_file: Path | None = None,
           env: dict[str, str] | None = None, name: str = "stack") -> StackProcess:
    """Starts a stack process without waiting for it (see `wait_until_up`)."""
    port = port or free_port()
    data_dir = data_dir or workdir / "data"
    state_file = state_file or workdir / "stack.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "BUCKET_", "JWT_"))}
    environ.update(
        PYTHONPATH=f"{REPO}:{REPO / 'layers' / 'common'}",
        NARRAFORGE_LOCAL_STATE=str(state_file),
        NARRAFORGE_LOCAL_DATA=str(data_dir),
        ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="64",
        POWERTOOLS_LOG_LEVEL="WARNING",
        **{**QUIET_LIMITS, **(env or {})},  # a test's env may set its own limits
    )
    log = workdir / f"{name}-{time.time_ns()}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "narraforge_dev.local", "serve", "--port", str(port)],
            cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return StackProcess(process, f"http://127.0.0.1:{port}", port, state_file, data_dir, log)


def wait_until_up(stack: StackProcess, timeout: float = 60) -> StackProcess:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"local stack exited:\n{stack.output()[-3000:]}")
        try:
            if httpx.get(f"{stack.url}/health/live", timeout=1).status_code == 200:
                return stack
        except httpx.TransportError:
            time.sleep(0.2)
    stack.process.kill()
    pytest.fail(f"local stack did not start:\n{stack.output()[-3000:]}")


@pytest.fixture
def start_stack(tmp_path) -> Iterator:
    """Starts stacks for one test (`start_stack(**launch kwargs)`, up when it returns); kills leftovers."""
    started: list[StackProcess] = []

    def start(**kwargs) -> StackProcess:
        stack = launch(tmp_path, **kwargs)
        started.append(stack)
        return wait_until_up(stack)

    yield start
    for stack in started:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    stack = wait_until_up(launch(tmp_path_factory.mktemp("stack")))
    yield stack.url, stack.state_file
    if stack.stop() != 0:
        pytest.fail(f"local stack did not stop cleanly on Ctrl-C:\n{stack.output()[-3000:]}")


@pytest.fixture(scope="session")
def stack_url(local_stack):
    return local_stack[0]


@pytest.fixture
def http(local_stack):
    url, state_file = local_stack
    with httpx.Client(base_url=url, timeout=30) as client:
        client.state_file = state_file
        yield client
