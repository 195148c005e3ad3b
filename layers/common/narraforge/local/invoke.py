"""`make invoke FN=auth EVENT=events/auth/register.json`: one function's real handler, one event.

Runs against the stack of `make run` when it is up (same data, same signing key), otherwise against a
fresh in-process one. `{{access_token}}` in an event is replaced by a token of the demo user."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from narraforge.local import stack
from narraforge.local.template import function_module, resources_of_type

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
        from narraforge.local import lambda_bridge, moto_isolation
        from narraforge.local.resources import create_resources

        moto_isolation.install()
        lambda_bridge.install()
        create_resources()
        print("(no local stack running: using a fresh in-process one)")
    try:
        raw = Path(event_path).read_text("utf-8")
        if "{{access_token}}" in raw:
            raw = raw.replace("{{access_token}}", _demo_token())
        event = json.loads(raw)
        name, handler = _handler_for(folder)
        from narraforge.local.apigw import LambdaContext

        result = handler(event, LambdaContext(name))
        print(json.dumps(result, indent=2))
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        return 0 if status < 500 else 1
    finally:
        if moto is not None:
            moto.stop()
