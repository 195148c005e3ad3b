"""Progress pushes under moto (issue #13 §2): a gone connection is deleted at once and never posted to again; a
Management API that fails never fails a stage. The Management API is a fake on loopback, reached by the real
boto3 client of domain/push.py (so botocore parses its 410 into a GoneException, as it does API Gateway's)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from narraforge.config import reset_settings
from narraforge.data.models import ConnectionItem, SubscriptionItem
from narraforge.domain import push
from narraforge.enums import Stage
from pynamodb.exceptions import DoesNotExist
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from narraforge_dev.loopback import serve
from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief


@dataclass
class FakeManagementApi:
    """Answers every post with `status` (410: GoneException, as API Gateway does for a closed connection)."""

    status: int
    posts: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def post(self, request: Request) -> Response:
        with self.lock:
            self.posts.append((request.path_params["connection_id"], json.loads(await request.body())))
        if self.status == 410:
            return JSONResponse({"message": "gone"}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})
        if self.status >= 400:
            return JSONResponse({"message": "boom"}, status_code=self.status)
        return Response(status_code=self.status)


@pytest.fixture
def management(monkeypatch) -> Iterator[FakeManagementApi]:
    fake = FakeManagementApi(status=500)
    base, stop = serve(Starlette(routes=[Route("/ws/@connections/{connection_id}", fake.post, methods=["POST"])]))
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", f"{base}/ws")
    reset_settings()
    yield fake
    stop()
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL")
    reset_settings()


def connect_and_subscribe(token: str, connection_id: str, job_id: str) -> dict:
    """Through the realtime function's real handler, as API Gateway would call it."""
    from functions.realtime.app import handler
    from narraforge_dev.local.lambda_context import LambdaContext

    def event(route: str, **extra) -> dict:
        return {"requestContext": {"routeKey": route, "connectionId": connection_id}, **extra}

    connected = handler(event("$connect", queryStringParameters={"token": token}), LambdaContext("RealtimeFunction"))
    assert connected["statusCode"] == 200, connected
    answer = handler(event("subscribe", body=json.dumps({"action": "subscribe", "job_id": job_id})),
                     LambdaContext("RealtimeFunction"))
    return json.loads(answer["body"])


def test_a_gone_connection_is_deleted_and_not_posted_to_again(aws, management):
    management.status = 410
    ConnectionItem(*ConnectionItem.key("C1="), connection_id="C1=", user_id="U1", token_expires_at=0,
                   jobs={"J1", "J2"}, ttl=push_ttl()).save()
    for job_id in ("J1", "J2"):
        SubscriptionItem(*SubscriptionItem.key(job_id, "C1="), job_id=job_id, connection_id="C1=",
                         user_id="U1", ttl=push_ttl()).save()

    assert push.notify("J1", lambda: {"event": "stage_started"}) == 0
    assert [connection for connection, _ in management.posts] == ["C1="]
    with pytest.raises(DoesNotExist):
        ConnectionItem.get(*ConnectionItem.key("C1="), consistent_read=True)
    assert list(SubscriptionItem.query(SubscriptionItem.key("J1", "C1=")[0])) == []
    assert list(SubscriptionItem.query(SubscriptionItem.key("J2", "C1=")[0])) == []  # all of its subscriptions
    assert push.notify("J1", lambda: {"event": "stage_finished"}) == 0
    assert push.notify("J2", lambda: {"event": "stage_finished"}) == 0
    assert len(management.posts) == 1


def push_ttl():
    from datetime import timedelta

    return timedelta(hours=1)


def test_a_failing_management_api_never_fails_a_stage(writer, provider, management):
    """Every post answers 500: each message is tried once, the job completes, the connection is kept."""
    provider.block_on_call = 1  # hold the first stage while the writer subscribes
    job = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": short_brief()}).json()
    assert provider.entered_block.wait(30)
    subscribed = connect_and_subscribe(writer.token, "C2=", job["id"])
    assert subscribed["event"] == "subscribed" and subscribed["status"]["current_stage"] == "brief_interpretation"
    provider.release.set()

    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    done = writer.get(f"/jobs/{job['id']}").json()
    assert done["status"] == "COMPLETED" and done["completed_stages"] == [s.value for s in Stage]
    events = [message["event"] for _, message in management.posts]
    assert events.count("stage_finished") == 10 and events.count("job_completed") == 1
    assert events.count("segment_drafted") == done["segments_total"]
    sent = [(m["event"], m.get("stage"), m.get("segment")) for _, m in management.posts]
    assert len(set(sent)) == len(sent)  # one attempt per message: botocore does not retry the 500
    ConnectionItem.get(*ConnectionItem.key("C2="), consistent_read=True)  # kept: only a 410 deletes it


def test_nothing_is_pushed_without_a_management_endpoint(aws, monkeypatch):
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL", raising=False)
    reset_settings()
    built = []
    assert push.notify("J1", lambda: built.append(1) or {}) == 0
    assert built == []
