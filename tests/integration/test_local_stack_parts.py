"""The local-stack pieces moto upgrades could break: the Lambda bridge, the state machine from the
template, `make invoke`; and the EventBridge reconciler (moto emits no such events)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from narraforge_dev.local import lambda_bridge
from narraforge_dev.local.resources import state_machine_definition
from tests.helpers import job_never_started, register

REPO = Path(__file__).resolve().parents[2]


class Boom(Exception):
    pass


def test_bridge_runs_our_handler_and_reports_errors_like_lambda(aws):
    def echo(event, context):
        if event.get("fail"):
            raise Boom("asked to fail")
        return {"echo": event, "function": context.function_name}

    lambda_bridge.install({"EchoFunction": echo})
    client = boto3.client("lambda", region_name="us-east-1")
    ok = client.invoke(FunctionName=lambda_bridge.function_arn("EchoFunction", "us-east-1"),
                       Payload=json.dumps({"x": 1}))
    assert "FunctionError" not in ok
    assert json.load(ok["Payload"]) == {"echo": {"x": 1}, "function": "EchoFunction"}
    failed = client.invoke(FunctionName="EchoFunction", Payload=json.dumps({"fail": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.load(failed["Payload"]) == {"errorType": "Boom", "errorMessage": "asked to fail"}


def test_state_machine_comes_from_the_template_with_substitutions(aws):
    _, definition = state_machine_definition({"SegmentMapConcurrency": 3}, "us-east-1")
    parsed = json.loads(definition)
    assert "${" not in definition
    # Numbers reach the ASL inside strings (valid JSON as committed) and are converted by the state machine.
    convert = "States.StringToJson('3')"
    assert parsed["States"]["Prepare"]["Parameters"]["Payload"]["max_concurrency.$"] == convert
    assert parsed["States"]["Prepare"]["ResultSelector"]["max_concurrency.$"] == convert
    assert parsed["States"]["SegmentPlanning"]["ResultSelector"]["max_concurrency.$"] == convert
    judging, styling = (branch["States"] for branch in parsed["States"]["ReviewAndStylize"]["Branches"])
    assert judging["CoherenceValidation"]["MaxConcurrencyPath"] == "$.run.max_concurrency"
    assert styling["LanguageStylization"]["MaxConcurrencyPath"] == "$.run.max_concurrency"
    assert parsed["States"]["SegmentGeneration"]["MaxConcurrencyPath"] == "$.run.map_concurrency"
    assert parsed["States"]["BriefInterpretation"]["Parameters"]["FunctionName"].endswith(":StageRunnerFunction")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = os.environ["STATE_MACHINE_ARN"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["name"] == "NarrativePipeline"


def test_reconciler_settles_an_aborted_execution(api, monkeypatch):
    from functions.reconciler.app import handler as reconcile

    # The execution "was stopped from the console" before any stage ran: the job is still QUEUED.
    auth, user, job = job_never_started(api, monkeypatch)
    event = json.loads((REPO / "events/reconciler/execution_aborted.json").read_text())
    event["detail"]["input"] = json.dumps({"job_id": job["id"], "user_id": auth["user"]["id"]})
    event["detail"]["executionArn"] = job["execution_arn"]

    from narraforge_dev.local.lambda_context import LambdaContext

    assert user.get("/auth/me").json()["monthly_generations_used"] == 1
    assert reconcile(event, LambdaContext("ReconcilerFunction")) == {"settled": True}
    after = user.get(f"/jobs/{job['id']}").json()
    assert after["status"] == "CANCELLED" and after["can_resume"] is True
    assert reconcile(event, LambdaContext("ReconcilerFunction")) == {"settled": False}  # idempotent
    assert user.get("/auth/me").json()["monthly_generations_used"] == 0  # refunded once


def _invoke(tmp_path, function: str, event_file: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "BUCKET_", "JWT_"))}
    env.update(PYTHONPATH=f"{REPO}:{REPO / 'layers/common'}", NARRAFORGE_LOCAL_STATE=str(tmp_path / "none.json"),
               ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="64", POWERTOOLS_LOG_LEVEL="ERROR")
    return subprocess.run([sys.executable, "-m", "narraforge_dev.local", "invoke", function, event_file],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_make_invoke_runs_a_handler_with_a_sample_event(tmp_path):
    result = _invoke(tmp_path, "auth", "events/auth/me.json")
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert payload["statusCode"] == 200
    assert json.loads(payload["body"])["email"] == "demo@example.com"


@pytest.mark.parametrize("event_file", sorted(p.relative_to(REPO).as_posix()
                                              for p in (REPO / "events/stage_runner").glob("*.json")))
def test_make_invoke_runs_every_stage_runner_sample_event(tmp_path, event_file):
    """The stage runner's samples get a real demo job (and the stages before theirs), not a traceback."""
    result = _invoke(tmp_path, "stage_runner", event_file)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    payload = json.loads(result.stdout[result.stdout.index("{\n"):])
    event = json.loads((REPO / event_file).read_text())
    assert payload.get("stage", "prepare") == event.get("stage", "prepare")
    assert payload.get("segment") == event.get("segment")


def test_moto_dynamodb_transactions_are_isolated_under_threads(aws):
    """Without narraforge_dev.local.moto_isolation, concurrent moto transactions lose writes or crash."""
    from concurrent.futures import ThreadPoolExecutor

    from narraforge.data.models import ProjectItem, StatsItem, UsageItem
    from narraforge.data.transactions import Transaction

    for i in range(300):  # a table with some content makes moto's unlocked table copy race reliably
        ProjectItem(f"USER#filler{i}", "PROJECT#1", project_id="1", user_id=f"filler{i}", name="n").save()

    def bump(i: int) -> None:
        with Transaction() as tx:
            tx.update("usage", UsageItem(*UsageItem.key("U", "2026-11")),
                      actions=[UsageItem.generations_used.add(1), UsageItem.tag()])
            tx.update("stats", StatsItem(*StatsItem.key()), actions=[StatsItem.jobs_created.add(1), StatsItem.tag()])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(200)))
    assert UsageItem.get(*UsageItem.key("U", "2026-11")).generations_used == 200
    assert StatsItem.get(*StatsItem.key()).jobs_created == 200


@pytest.mark.parametrize("event_file", sorted(p.relative_to(REPO).as_posix() for p in (REPO / "events").rglob("*.json")
                                              if '"httpMethod"' in p.read_text()))
def test_every_sample_api_event_is_served_by_its_function(api, event_file):
    """The events/ samples (for `make invoke` and `sam local invoke`) route to the function of their folder."""
    from narraforge_dev.local.apigw import load_handler, match_route
    from narraforge_dev.local.lambda_context import LambdaContext, call_handler

    token = register(api)["access_token"]
    event = json.loads((REPO / event_file).read_text().replace("{{access_token}}", token))
    route, _ = match_route(event["httpMethod"], event["path"])
    assert route.module == f"functions.{event_file.split('/')[1]}.app"
    result = call_handler(load_handler(route), event, LambdaContext(route.function))
    assert 200 <= result["statusCode"] < 500 or result["statusCode"] == 503, result  # 503: OAuth not configured


def test_a_transaction_cancelled_by_a_concurrent_one_is_sent_again(aws, monkeypatch):
    """Real DynamoDB cancels a transaction that meets another on the same item (TransactionConflict); moto
    never does, so the conflict is injected: the transaction is sent again and lands exactly once, while a
    failed condition is still raised at once."""
    from narraforge.data.models import StatsItem, UsageItem
    from narraforge.data.transactions import Transaction
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError
    from pynamodb.transactions import TransactWrite

    original = TransactWrite._commit
    sent = {"n": 0}

    def conflicting(self):
        sent["n"] += 1
        if sent["n"] <= 2:
            cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
                                       "TransactWriteItems",
                                       cancellation_reasons=[CancellationReason("TransactionConflict"), None])
            raise TransactWriteError("Failed to write transaction items", cause=cause)
        return original(self)

    monkeypatch.setattr(TransactWrite, "_commit", conflicting)
    with Transaction() as tx:
        tx.update("usage", UsageItem(*UsageItem.key("U", "2026-11")), actions=[UsageItem.generations_used.add(1),
                                                                              UsageItem.tag()])
        tx.update("stats", StatsItem(*StatsItem.key()), actions=[StatsItem.jobs_created.add(1), StatsItem.tag()])
    assert sent["n"] == 3
    assert UsageItem.get(*UsageItem.key("U", "2026-11")).generations_used == 1

    sent["n"] = 0
    tx = Transaction()
    with pytest.raises(TransactWriteError), tx:
        tx.update("usage", UsageItem(*UsageItem.key("U", "2026-11")), actions=[UsageItem.generations_used.add(1)],
                  condition=UsageItem.generations_used < 1)
    assert sent["n"] == 3  # two injected conflicts, then the real condition failure: raised, not retried
