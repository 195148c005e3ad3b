"""`make invoke FN=auth EVENT=events/auth/register.json`: one function's real handler, one event.

Runs against the stack of `make run` when it is up (same data, same signing key), otherwise against a
fresh in-process one. `{{access_token}}` in an event is replaced by a token of the demo user; `{{user_id}}`
and `{{job_id}}` (the stage runner's events) by the demo user and its newest job not yet finished, created
QUEUED when there is none; before a stage event, the stages it reads are run first (offline, instant; they
are skipped when their checkpoints exist), so every sample event works on its own, in any order. An error
the handler raises is printed as Lambda reports it (`errorType`, `errorMessage`)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from narraforge_dev.local import stack
from narraforge_dev.local.lambda_context import LambdaContext
from narraforge_dev.local.template import function_module, resources_of_type

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-passw0rd-local"  # local-only demo account, never deployed


def _handler_for(folder: str) -> tuple[str, Any]:
    for name, resource in resources_of_type("AWS::Serverless::Function").items():
        props = resource["Properties"]
        if props["CodeUri"].strip("/") == f"functions/{folder}" and props["Handler"] == "app.handler":
            module, attribute = function_module(name)
            return name, getattr(importlib.import_module(module), attribute)
    raise SystemExit(f"no function with CodeUri functions/{folder}/ in template.yaml")


def _demo_token() -> str:
    from narraforge.errors import Conflict
    from narraforge.services import auth

    try:
        return auth.register(DEMO_EMAIL, DEMO_PASSWORD, "Demo User").access_token
    except Conflict:
        return auth.login(DEMO_EMAIL, DEMO_PASSWORD).access_token


def _demo_job() -> tuple[str, str]:
    """The demo user's newest QUEUED/RUNNING job, or a new QUEUED one (reserved, not started: the stage
    runner's `prepare` event starts it)."""
    from narraforge.enums import JobStatus
    from narraforge.schemas.briefs import ProductionBrief
    from narraforge.schemas.projects import ProjectCreateRequest
    from narraforge.services import jobs, projects
    from narraforge.services.auth import user_by_email
    from narraforge.services.identity import authenticate

    current = authenticate(_demo_token())
    user = user_by_email(DEMO_EMAIL)
    assert user is not None
    for status in (JobStatus.RUNNING, JobStatus.QUEUED):
        page = jobs.list_page(user.user_id, project_id=None, status=status, page=1, page_size=1, cursor=None)
        if page.items:
            return user.user_id, page.items[0].job_id
    listed = projects.list_page(user.user_id, page=1, page_size=1, cursor=None)
    project_id = listed.items[0].project_id if listed.items else projects.create(
        user.user_id, ProjectCreateRequest(name="make invoke")).project_id
    brief = ProductionBrief(production_type="short_story", genre="fantasy", target_length=600,
                            subject="A wizard apprentice discovers forbidden magic")
    job, _ = jobs.reserve(current, project_id, brief, None, jobs.body_hash(brief.model_dump(mode="json")))
    return user.user_id, job.job_id


def _run_stages_before(event: dict[str, Any]) -> None:
    """What the state machine would have run before this stage event: prepare, then every earlier stage
    (Map stages segment by segment, then their finalize step)."""
    from narraforge.enums import Stage
    from narraforge.pipeline.handler import handle
    from narraforge.pipeline.runner import MAP_STAGES

    ids = {"user_id": event["user_id"], "job_id": event["job_id"]}
    handle({"action": "prepare", **ids})
    segments: list[int] = []
    for stage in Stage:
        if stage.value == event.get("stage"):
            return
        if stage in MAP_STAGES:
            for index in segments:
                handle({"action": "stage", "stage": stage.value, "segment": index, **ids})
        result = handle({"action": "stage", "stage": stage.value, **ids})
        segments = result.get("segments", segments)


def invoke_function(folder: str, event_path: str) -> int:
    state = stack.read_state()
    moto = None
    if state:
        os.environ["JWT_SECRET"] = state["jwt_secret"]
        stack.configure_environment(state["moto_url"])
        print(f"(using the running local stack at {state['api_url']})")
    else:
        moto = stack.start_moto()
        stack.configure_environment(moto.url)
        from narraforge_dev.local import lambda_bridge, moto_isolation
        from narraforge_dev.local.resources import create_resources

        moto_isolation.install()
        lambda_bridge.install()
        create_resources()
        print("(no local stack running: using a fresh in-process one)")
    try:
        raw = Path(event_path).read_text("utf-8")
        if "{{access_token}}" in raw:
            raw = raw.replace("{{access_token}}", _demo_token())
        demo_job = "{{job_id}}" in raw
        if demo_job:
            user_id, job_id = _demo_job()
            raw = raw.replace("{{user_id}}", user_id).replace("{{job_id}}", job_id)
            print(f"(demo job {job_id})")
        event = json.loads(raw)
        if demo_job and event.get("action") == "stage":
            _run_stages_before(event)
        name, handler = _handler_for(folder)
        try:
            result = handler(event, LambdaContext(name))
        except Exception as exc:  # shown as Lambda reports an unhandled error, not as a traceback
            print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
            return 1
        print(json.dumps(result, indent=2))
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        return 0 if status < 500 else 1
    finally:
        if moto is not None:
            moto.stop()
