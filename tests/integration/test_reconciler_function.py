"""The EventBridge reconciler is a function of its own (functions/reconciler/): its template entry points at that
code, keeps the dead-letter queue and log group, and its policy allows every AWS action its handler performs
while settling a stopped execution (recorded under moto, transactions broken down into the actions IAM checks)."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.client

from narraforge_dev.local.lambda_context import LambdaContext
from narraforge_dev.local.template import function_module, resources_of_type
from tests.helpers import job_never_started

REPO = Path(__file__).resolve().parents[2]
RECONCILER = resources_of_type("AWS::Serverless::Function")["ReconcilerFunction"]
# What IAM authorises for each member of a DynamoDB transaction.
TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _allowed_actions(function: dict) -> set[str]:
    return {action for policy in function["Properties"]["Policies"] for statement in policy["Statement"]
            if statement["Effect"] == "Allow"
            for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}


def _iam_actions(service: str, operation: str, params: dict) -> list[str]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [f"{service}:{TRANSACTION_ACTIONS[kind]}" for item in params["TransactItems"] for kind in item]
    return [f"{service}:{operation}"]


def test_the_reconciler_has_its_own_code_dead_letter_queue_and_log_group():
    props = RECONCILER["Properties"]
    assert props["CodeUri"].strip("/") == "functions/reconciler"
    assert function_module("ReconcilerFunction") == ("functions.reconciler.app", "handler")
    assert props["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": "ReconcileDeadLetterQueue.Arn"}}
    (rule,) = props["Events"].values()
    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["Pattern"]["detail"]["stateMachineArn"] == [{"Ref": "NarrativePipeline"}]
    groups = [g["Properties"]["LogGroupName"] for g in resources_of_type("AWS::Logs::LogGroup").values()]
    assert {"Fn::Sub": "/aws/lambda/${ReconcilerFunction}"} in groups


def test_the_policy_allows_every_action_the_reconciler_performs(api, monkeypatch):
    from functions.reconciler.app import handler

    auth, _, job = job_never_started(api, monkeypatch)
    event = json.loads((REPO / "events/reconciler/execution_aborted.json").read_text())
    event["detail"]["input"] = json.dumps({"job_id": job["id"], "user_id": auth["user"]["id"]})

    performed: list[str] = []
    indexes: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        performed.extend(_iam_actions(client.meta.service_model.endpoint_prefix, operation, params))
        indexes.extend([params["IndexName"]] if "IndexName" in params else [])
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    assert handler(event, LambdaContext("ReconcilerFunction")) == {"settled": True}  # the refund path too
    monkeypatch.undo()

    assert performed
    assert set(performed) <= _allowed_actions(RECONCILER), sorted(set(performed) - _allowed_actions(RECONCILER))
    assert indexes == []  # the policy grants the table, not its indexes
