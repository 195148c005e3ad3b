"""Test helpers: an HTTP-like client over real Lambda handlers, and user/project factories."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_emails = count(1)
PASSWORD = "Correct-h0rse-battery"
REPO = Path(__file__).resolve().parents[1]
NO_ENVIRONMENT = {"PATH": "/usr/bin:/bin"}
# The runtime's own variables: with them Powertools enables its Tracer and the X-Ray SDK is live at import.
IN_LAMBDA = {**NO_ENVIRONMENT, "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "probe",
             "AWS_REGION": "us-east-1"}


def in_fresh_interpreter(code: str, env: dict[str, str]) -> Any:
    """Runs `code` in a new Python that sees only `env` and imports functions and the layer as Lambda
    does; returns the JSON that its last line prints."""
    path = f"import sys; sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'layers/common')!r}]\n"
    result = subprocess.run([sys.executable, "-c", path + code], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def reset_process_caches() -> None:
    from narraforge.config import reset_settings
    from narraforge.data.aws import reset_clients
    from narraforge.data.base import reset_connection

    reset_settings()
    reset_clients()
    reset_connection()


def stop_running_executions(timeout: float = 20.0) -> None:
    """Pipelines run on moto's threads: stop them before the mock goes away under their feet."""
    import time

    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    for machine in sfn.list_state_machines()["stateMachines"]:
        arn = machine["stateMachineArn"]
        for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            try:
                sfn.stop_execution(executionArn=execution["executionArn"])
            except AttributeError:  # moto: stopped before its worker thread started; it ends by itself
                continue
        while time.monotonic() < deadline and sfn.list_executions(
                stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            time.sleep(0.1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_emails)}@example.com"


@dataclass
class Result:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class HandlerClient:
    """Routes like API Gateway (from template.yaml) and invokes the owning function's `handler`."""

    token: str | None = None
    default_headers: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Result:
        import base64

        from narraforge_dev.local.apigw import build_event, load_handler, match_route, no_route
        from narraforge_dev.local.lambda_context import LambdaContext, call_handler

        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(k, str(v)) for k, v in (params or {}).items()]
        all_headers = {"host": "api.local", "user-agent": "pytest", **self.default_headers}
        if self.token:
            all_headers["authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            content = json.dumps(json_body).encode()
            all_headers["content-type"] = "application/json"
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        found = match_route(method, parts.path)
        if found is None:  # API Gateway's answer (its MISSING_AUTHENTICATION_TOKEN response, mapped to 404)
            return Result(*no_route(method, parts.path))
        route, path_params = found
        event = build_event(route, path_params, method=method, path=parts.path, stage_path=parts.path,
                            headers=list(all_headers.items()), query=query, body=content or b"",
                            source_ip="203.0.113.7")
        raw = call_handler(load_handler(route), event, LambdaContext(route.function))
        headers_out = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        for name, values in (raw.get("multiValueHeaders") or {}).items():
            headers_out[name.lower()] = ", ".join(values)
        body = raw.get("body") or ""
        data = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()
        return Result(raw["statusCode"], headers_out, data)

    def get(self, url: str, **kw: Any) -> Result:
        return self.request("GET", url, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Result:
        return self.request("POST", url, json_body=json, **kw)

    def put(self, url: str, json: Any = None, **kw: Any) -> Result:
        return self.request("PUT", url, json_body=json, **kw)

    def patch(self, url: str, json: Any = None, **kw: Any) -> Result:
        return self.request("PATCH", url, json_body=json, **kw)

    def delete(self, url: str, json: Any = None, **kw: Any) -> Result:
        return self.request("DELETE", url, json_body=json, **kw)

    def as_user(self, token: str) -> HandlerClient:
        return HandlerClient(token=token, default_headers=dict(self.default_headers))


def register(client: Any, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    """Registers through the API and returns the AuthResponse body."""
    response = client.post("/auth/register", json={"email": email or unique_email(), "password": password,
                                                   "full_name": "Test User"})
    assert response.status_code == 201, response.text
    return response.json()


def wait_for_execution(execution_arn: str, timeout: float = 90.0) -> dict[str, Any]:
    """Polls Step Functions until the execution leaves RUNNING; returns describe_execution."""
    import time

    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def execution_states(execution_arn: str) -> list[str]:
    """Names of the states entered, in order (what the Step Functions console shows)."""
    from narraforge_dev.local.history import execution_history

    return [e["stateEnteredEventDetails"]["name"] for e in execution_history(execution_arn)
            if "stateEnteredEventDetails" in e]


def writer_with_project(api: HandlerClient, project_name: str) -> HandlerClient:
    """A registered user's client, with `user_id` and the id of a fresh project as `project_id`."""
    auth = register(api)
    client = api.as_user(auth["access_token"])
    client.user_id = auth["user"]["id"]  # type: ignore[attr-defined]
    client.project_id = client.post("/projects/", json={"name": project_name}).json()["id"]  # type: ignore[attr-defined]
    return client


def generations_used(user_id: str) -> int:
    """This month's reserved generations, read straight from the usage counter."""
    from narraforge.data.models import UsageItem
    from narraforge.domain.quotas import current_month

    try:
        return int(UsageItem.get(*UsageItem.key(user_id, current_month()), consistent_read=True).generations_used)
    except UsageItem.DoesNotExist:
        return 0


def error_code(body: dict[str, Any]) -> str | None:
    """The machine-readable code of an error body (RFC 9457 problem details carry it as `code`)."""
    if "code" in body:
        return body["code"]
    return (body.get("error") or {}).get("code")


def error_detail(body: dict[str, Any]) -> str | None:
    """The human-readable message of an error body (RFC 9457 `detail`)."""
    if "detail" in body:
        return body["detail"]
    return (body.get("error") or {}).get("message")


def error_fields(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The field-level errors of a 422 (RFC 9457 extension `errors`: {loc, msg, type})."""
    if "errors" in body:
        return body["errors"]
    details = (body.get("error") or {}).get("details")
    return details if isinstance(details, list) else []


def job_never_started(api: HandlerClient, monkeypatch: Any) -> tuple[dict[str, Any], HandlerClient, dict[str, Any]]:
    """A new writer's QUEUED job whose Step Functions execution never started (the start is stubbed): what a
    reconciler or a restarted local stack finds. Returns (the AuthResponse, the writer's client, the job)."""
    monkeypatch.setattr("narraforge.services.executions.start", lambda job_id, user_id, retry: f"arn:x:{job_id}")
    auth = register(api)
    user = api.as_user(auth["access_token"])
    project_id = user.post("/projects/", json={"name": "R"}).json()["id"]
    brief = {"production_type": "short_story", "genre": "drama", "subject": "Two sisters sell the family farm",
             "target_length": 800, "character_count": 2}
    job = user.post("/jobs/", json={"project_id": project_id, "production_brief": brief}).json()
    return auth, user, job
