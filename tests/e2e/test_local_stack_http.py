"""The local stack as a developer runs it (`make run`, separate processes, over HTTP): its data outlive a
restart, a second stack never harms the first, the client IP is the connection's, unknown routes answer
404, and browser frontends on localhost can call it (CORS)."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.accounts import bearer, new_writer
from tests.e2e.conftest import REPO, launch
from tests.helpers import PASSWORD, error_code, register, unique_email

pytestmark = pytest.mark.e2e


def _client(stack) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=30)


def _reset(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "narraforge_dev.local", "reset"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "NARRAFORGE_LOCAL_DATA": str(data_dir),
                                                      "PYTHONPATH": f"{REPO}:{REPO / 'layers/common'}"})


def test_ctrl_c_loses_nothing_and_tokens_stay_valid(start_stack, tmp_path):
    first = start_stack()
    with _client(first) as client:
        writer = new_writer(client, "persist")
        text = client.get(f"/narratives/{writer.narrative_id}/text", headers=writer.headers).text
    assert first.stop(signal.SIGINT) == 0
    key = first.data_dir / "jwt-secret"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    second = start_stack(data_dir=first.data_dir)
    with _client(second) as client:
        me = client.get("/auth/me", headers=writer.headers)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == writer.email
        assert client.get(f"/projects/{writer.project_id}", headers=writer.headers).status_code == 200
        job = client.get(f"/jobs/{writer.job_id}", headers=writer.headers).json()
        assert job["status"] == "COMPLETED"
        assert client.get(f"/narratives/{writer.narrative_id}/text", headers=writer.headers).text == text
        assert client.post("/auth/login", json={"email": writer.email, "password": PASSWORD}).status_code == 200
        refreshed = client.post("/auth/refresh", json={"refresh_token": writer.refresh_token})
        assert refreshed.status_code == 200, refreshed.text

    refused = _reset(second.data_dir)  # `make reset` while the stack runs
    assert refused.returncode != 0
    assert "running local stack" in refused.stderr
    assert (second.data_dir / "snapshot.json").exists()
    assert second.stop(signal.SIGTERM) == 0
    done = _reset(second.data_dir)
    assert done.returncode == 0, done.stderr
    assert not second.data_dir.exists()


def test_kill_9_keeps_what_was_written_seconds_before(start_stack):
    first = start_stack()
    with _client(first) as client:
        auth = register(client)
        project = client.post("/projects/", json={"name": "Written before the crash"},
                              headers=bearer(auth["access_token"]))
        assert project.status_code == 201
    snapshot = first.data_dir / "snapshot.json"
    deadline = time.monotonic() + 30  # the snapshot thread writes within a few seconds of a change
    while project.json()["id"] not in (snapshot.read_text() if snapshot.exists() else ""):
        assert time.monotonic() < deadline, "no snapshot holds the project"
        time.sleep(0.2)
    first.stop(signal.SIGKILL)

    second = start_stack(data_dir=first.data_dir)
    with _client(second) as client:
        headers = bearer(auth["access_token"])
        assert client.get("/auth/me", headers=headers).status_code == 200
        restored = client.get(f"/projects/{project.json()['id']}", headers=headers)
        assert restored.status_code == 200, restored.text
        assert restored.json()["name"] == "Written before the crash"


def test_a_second_stack_fails_fast_and_leaves_the_running_one_alone(start_stack, tmp_path):
    running = start_stack()
    state = running.state_file.read_text()

    same_port = launch(tmp_path, port=running.port, data_dir=tmp_path / "other-data", state_file=running.state_file,
                       name="same-port")
    assert same_port.process.wait(timeout=60) != 0
    assert f"port {running.port}" in same_port.output() and "in use" in same_port.output()
    assert f"make run PORT={running.port + 1}" in same_port.output()
    assert "stack is up" not in same_port.output()
    assert not (tmp_path / "other-data").exists()

    same_data = launch(tmp_path, data_dir=running.data_dir, state_file=running.state_file, name="same-data")
    assert same_data.process.wait(timeout=60) != 0
    assert f"running local stack (pid {running.process.pid})" in same_data.output()
    assert "stack is up" not in same_data.output()

    # A stack of its own (port, data) starts, but leaves the running one's state file to it.
    other = start_stack(data_dir=tmp_path / "own-data", state_file=running.state_file)
    assert "belongs to another running stack" in other.output()
    assert other.stop() == 0
    assert running.state_file.read_text() == state
    with _client(running) as client:
        assert client.get("/health/live").status_code == 200


def test_x_forwarded_for_does_not_reset_the_login_limit(start_stack):
    stack = start_stack(env={"RATE_LIMIT_AUTH_PER_MINUTE": "3"})
    email = unique_email("spoof")
    statuses = []
    with _client(stack) as client:
        for n in range(6):
            response = client.post("/auth/login", json={"email": email, "password": "Wrong-password-123"},
                                   headers={"X-Forwarded-For": f"198.51.100.{n}"})
            statuses.append(response.status_code)
    assert statuses[:3] == [401, 401, 401], statuses
    assert statuses[3:] == [429, 429, 429], statuses


def test_unknown_route_is_a_404_problem(http):
    for method, path in (("GET", "/nope"), ("POST", "/docs"), ("DELETE", "/v1/projects/x/y/z")):
        response = http.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body == {"type": "about:blank", "title": "Not Found", "status": 404,
                        "detail": f"No route for {method} {path}", "code": "not_found",
                        "instance": body["instance"]}
        assert body["instance"]
        assert error_code(body) == "not_found"
        for header in ("x-content-type-options", "x-frame-options", "strict-transport-security", "cache-control",
                       "referrer-policy", "content-security-policy"):
            assert header in response.headers, header


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000"])
def test_a_local_browser_frontend_can_call_the_api(http, origin):
    preflight = http.options("/auth/register", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization"})
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"].split(",")
    allowed_headers = preflight.headers["access-control-allow-headers"].lower().split(",")
    assert {"content-type", "authorization"} <= set(allowed_headers)

    registered = http.post("/auth/register", headers={"Origin": origin},
                           json={"email": unique_email("browser"), "password": PASSWORD, "full_name": "B"})
    assert registered.status_code == 201, registered.text
    assert registered.headers["access-control-allow-origin"] == origin
    token = registered.json()["access_token"]
    me = http.get("/auth/me", headers={"Origin": origin, **bearer(token)})
    assert me.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "null"])
def test_other_origins_get_no_cors_grant(http, origin):
    preflight = http.options("/auth/register", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    registered = http.post("/auth/register", headers={"Origin": origin},
                           json={"email": unique_email("evil"), "password": PASSWORD, "full_name": "E"})
    assert registered.status_code == 201
    assert "access-control-allow-origin" not in registered.headers

