"""The WebSocket function's handler under moto, with API Gateway's WebSocket proxy events: `$connect` saves the
authenticated connection with a TTL, `subscribe` stores a subscription the pipeline finds with one Query, and
`$disconnect` removes both."""

from __future__ import annotations

import json
import time

import pytest
from narraforge.data import keys
from narraforge.data.models import ConnectionItem, SubscriptionItem
from pynamodb.exceptions import DoesNotExist

from functions.realtime.app import handler
from narraforge_dev.local.lambda_context import LambdaContext
from tests.helpers import writer_with_project


def call(route: str, connection_id: str, **extra) -> dict:
    event = {"requestContext": {"routeKey": route, "connectionId": connection_id, "eventType": "MESSAGE"}, **extra}
    return handler(event, LambdaContext("RealtimeFunction"))


def test_connect_subscribe_and_disconnect(api):
    writer = writer_with_project(api, "Sockets")
    job = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": {
        "production_type": "short_story", "genre": "mystery", "subject": "A clockmaker hears a clock run backwards",
        "target_length": 900, "character_count": 2}}).json()

    connected = call("$connect", "A1=", headers={"Sec-WebSocket-Protocol": f"narraforge.bearer, {writer.token}"})
    assert connected["statusCode"] == 200
    assert connected["headers"] == {"Sec-WebSocket-Protocol": "narraforge.bearer"}
    connection = ConnectionItem.get(*ConnectionItem.key("A1="))
    assert connection.user_id == writer.user_id
    assert 2 * 3600 < connection.ttl.timestamp() - time.time() < 3 * 3600  # past API Gateway's 2 h limit

    answer = json.loads(call("subscribe", "A1=", body=json.dumps({"action": "subscribe", "job_id": job["id"]}))["body"])
    assert answer["event"] == "subscribed" and answer["status"]["id"] == job["id"]
    (subscription,) = SubscriptionItem.query(keys.job_subscribers_pk(job["id"]))
    assert subscription.connection_id == "A1=" and subscription.ttl == connection.ttl

    missing = json.loads(call("subscribe", "A1=", body=json.dumps({"action": "subscribe", "job_id": "NOPE"}))["body"])
    assert (missing["event"], missing["status"], missing["code"]) == ("error", 404, "not_found")

    assert call("$disconnect", "A1=")["statusCode"] == 200
    with pytest.raises(DoesNotExist):
        ConnectionItem.get(*ConnectionItem.key("A1="))
    assert list(SubscriptionItem.query(keys.job_subscribers_pk(job["id"]))) == []


def test_a_message_on_an_unknown_connection_is_refused(api):
    answer = json.loads(call("subscribe", "B1=", body=json.dumps({"action": "subscribe", "job_id": "J"}))["body"])
    assert (answer["status"], answer["code"]) == (401, "unauthorized")
    refused = call("$connect", "B2=", queryStringParameters={"token": "not-a-token"})
    assert refused["statusCode"] == 401 and json.loads(refused["body"])["code"] == "unauthorized"
    with pytest.raises(DoesNotExist):
        ConnectionItem.get(*ConnectionItem.key("B2="))
