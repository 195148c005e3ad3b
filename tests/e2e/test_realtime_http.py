"""Progress pushed over WebSocket on the local stack (issue #13 §2): the real realtime function behind the local
WebSocket API, the real pipeline posting to the local Management API, a real WebSocket client.

To see a job from its very first stage, the job first fails before any stage is done (the model server refuses
the first call: 401), the client subscribes to it, and the resume runs all ten stages while it listens."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from narraforge.enums import Stage
from narraforge.pipeline.layout import JUDGE_WINDOW
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from narraforge_dev.fake_openai import FakeOpenAI, Fault
from tests.e2e.accounts import bearer, wait_until_finished
from tests.e2e.conftest import StackProcess, launch, wait_until_up
from tests.helpers import register

pytestmark = pytest.mark.e2e

BRIEF = {"production_type": "short_story", "genre": "fantasy", "subject": "A bell founder casts a bell that rings "
         "only for lies", "target_length": 900, "character_count": 2}
END_EVENTS = ("job_completed", "job_failed", "job_cancelled")


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, model) -> Iterator[StackProcess]:
    process = wait_until_up(launch(tmp_path_factory.mktemp("realtime"), name="realtime",
                                   env={"OPENAI_BASE_URL": model.url, "OPENAI_API_KEY": "sk-test"}))
    yield process
    process.stop()


@pytest.fixture
def http(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def socket_url(stack: StackProcess, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{stack.port}/ws" + (f"?token={token}" if token else "")


def receive(socket: ClientConnection) -> dict[str, Any]:
    message = json.loads(socket.recv(timeout=60))
    message["_received_at"] = time.time() * 1000
    return message


def failed_job(http: httpx.Client, model: FakeOpenAI, headers: dict[str, str]) -> str:
    """A job that failed on its first model call: no stage done, so its resume runs all ten."""
    project = http.post("/projects/", json={"name": "Live"}, headers=headers).json()
    model.script(Fault(status=401))
    job = http.post("/jobs/", json={"project_id": project["id"], "production_brief": BRIEF}, headers=headers)
    assert job.status_code == 201, job.text
    failed = wait_until_finished(http, headers, job.json()["id"])
    assert failed["status"] == "FAILED" and failed["completed_stages"] == [], failed
    return job.json()["id"]


def test_a_subscriber_receives_every_stage_of_its_job_in_order(stack, model, http):
    auth = register(http)
    headers = bearer(auth["access_token"])
    job_id = failed_job(http, model, headers)
    with connect(socket_url(stack, auth["access_token"])) as socket:
        socket.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        subscribed = receive(socket)
        assert subscribed["event"] == "subscribed" and subscribed["status"]["status"] == "FAILED", subscribed
        assert http.post(f"/jobs/{job_id}/resume", headers=headers).status_code == 200
        messages = [receive(socket)]
        while messages[-1]["event"] not in END_EVENTS:
            messages.append(receive(socket))

    transitions = [(m["event"], m["stage"]) for m in messages if m["event"] in ("stage_started", "stage_finished")]
    in_order = [(event, stage.value) for stage in Stage for event in ("stage_started", "stage_finished")]
    # Stages 7 and 8 run side by side (one Parallel state): both start, in either order, then 7 finishes, then 8.
    beside = in_order.index(("stage_started", Stage.COHERENCE_VALIDATION.value))
    assert transitions[:beside] == in_order[:beside]
    assert set(transitions[beside:beside + 2]) == {("stage_started", Stage.COHERENCE_VALIDATION.value),
                                                   ("stage_started", Stage.LANGUAGE_STYLIZATION.value)}
    assert transitions[beside + 2:] == [("stage_finished", Stage.COHERENCE_VALIDATION.value),
                                        ("stage_finished", Stage.LANGUAGE_STYLIZATION.value),
                                        *in_order[beside + 4:]]
    for message in messages:
        assert message["job_id"] == job_id
        if message["event"] == "stage_finished":  # the head read back after the stage's checkpoint
            assert message["stage"] in message["status"]["completed_stages"], message
    final = messages[-1]
    assert final["event"] == "job_completed" and final["status"]["status"] == "COMPLETED", final
    assert final["status"]["narrative_id"] and final["status"]["progress_percentage"] == pytest.approx(100)
    assert [m["event"] for m in messages].count("job_completed") == 1
    drafted = [m for m in messages if m["event"] == "segment_drafted"]
    total = final["status"]["segments_total"]
    assert total and sorted(m["segment"] for m in drafted) == list(range(total))
    assert sorted(m["status"]["segments_drafted"] for m in drafted)[-1] == total
    judged = [m["segment"] for m in messages if m["event"] == "window_judged"]
    assert sorted(judged) == list(range(math.ceil(total / JUDGE_WINDOW)))  # one message per judging window
    progress = [m["status"]["progress_percentage"] for m in messages]
    assert progress == sorted(progress)
    assert http.get(f"/jobs/{job_id}/status", headers=headers).json()["status"] == "COMPLETED"

    latencies = [m["_received_at"] - m["finished_at"] for m in messages if m["event"] == "stage_finished"]
    print(f"\npush latency, stage end -> client: median {statistics.median(latencies):.1f} ms, "
          f"max {max(latencies):.1f} ms over {len(latencies)} stages")


def test_another_users_job_is_refused_and_nothing_of_it_is_pushed(stack, model, http):
    owner = register(http)
    owner_headers = bearer(owner["access_token"])
    job_id = failed_job(http, model, owner_headers)
    intruder = register(http)
    with connect(socket_url(stack), subprotocols=["narraforge.bearer", intruder["access_token"]]) as socket:
        assert socket.subprotocol == "narraforge.bearer"
        socket.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        refused = receive(socket)
        assert refused["event"] == "error" and refused["status"] == 404 and refused["code"] == "not_found", refused
        assert refused["job_id"] == job_id and "status" not in refused.get("detail", "")

        assert http.post(f"/jobs/{job_id}/resume", headers=owner_headers).status_code == 200
        assert wait_until_finished(http, owner_headers, job_id)["status"] == "COMPLETED"
        # Frames arrive in order: the answer to this message comes after anything pushed during the job.
        socket.send(json.dumps({"action": "ping"}))
        after = receive(socket)
        assert after["event"] == "error" and after["code"] == "bad_request", after


def test_a_subscribe_message_is_validated(stack, http):
    auth = register(http)
    with connect(socket_url(stack, auth["access_token"])) as socket:
        socket.send(json.dumps({"action": "subscribe"}))
        invalid = receive(socket)
        assert invalid["status"] == 422 and invalid["code"] == "validation_error", invalid
        assert ["body", "job_id"] in [error["loc"] for error in invalid["errors"]]
        socket.send("not json")
        assert receive(socket)["code"] == "bad_request"


@pytest.mark.parametrize("how", ["none", "forged query", "forged protocol", "protocol without token"])
def test_a_connection_without_a_valid_access_token_is_refused(stack, how):
    url, protocols = socket_url(stack), None
    if how == "forged query":
        url = socket_url(stack, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    elif how == "forged protocol":
        protocols = ["narraforge.bearer", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"]
    elif how == "protocol without token":
        protocols = ["narraforge.bearer"]
    with pytest.raises(InvalidStatus) as refused:
        connect(url, subprotocols=protocols)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["code"] == "unauthorized"


def test_a_signed_out_session_cannot_connect(stack, http):
    auth = register(http)
    assert http.post("/auth/logout", json={"refresh_token": auth["refresh_token"]},
                     headers=bearer(auth["access_token"])).status_code in (200, 204)
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(stack, auth["access_token"]))
    assert refused.value.response.status_code == 401
