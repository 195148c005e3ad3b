"""Every function imports with no environment at all and in Lambda's (where the X-Ray SDK is live); API
functions stay free of the LLM client, the export libraries and httpx, the stage runner free of the web
stack, and the EventBridge reconciler free of both (each is cold-start weight the other does not need)."""

from __future__ import annotations

import pytest

from tests.helpers import IN_LAMBDA, NO_ENVIRONMENT, REPO, in_fresh_interpreter

NOT_API = ("stage_runner", "reconciler")
API_FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py") if p.parent.name not in NOT_API)

PROBE = """
import json, sys
import functions.{name}.app as module
print(json.dumps({{"handler": callable(module.handler),
                   "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""
NOT_FOR_API = ("openai", "fpdf", "ebooklib", "docx", "moto", "httpx")
NOT_FOR_RUNNER = ("fastapi", "starlette", "mangum", "moto")
NOT_FOR_RECONCILER = tuple(sorted(set(NOT_FOR_API) | set(NOT_FOR_RUNNER) | {"narraforge.api", "narraforge.pipeline"}))
ENVIRONMENTS = pytest.mark.parametrize("env", [NO_ENVIRONMENT, IN_LAMBDA], ids=["empty", "lambda"])


def _import_report(name: str, heavy: tuple[str, ...], env: dict[str, str]) -> dict:
    return in_fresh_interpreter(PROBE.format(name=name, heavy=heavy), env)


@ENVIRONMENTS
@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_api_functions_import_without_heavy_libraries(name, env):
    assert _import_report(name, NOT_FOR_API, env) == {"handler": True, "heavy": []}


@ENVIRONMENTS
def test_stage_runner_imports_without_the_web_stack(env):
    assert _import_report("stage_runner", NOT_FOR_RUNNER, env) == {"handler": True, "heavy": []}


@ENVIRONMENTS
def test_reconciler_imports_neither_the_web_stack_nor_the_pipeline(env):
    """An EventBridge handler: no FastAPI, no jobs router, no LLM client at its cold start."""
    assert _import_report("reconciler", NOT_FOR_RECONCILER, env) == {"handler": True, "heavy": []}


@ENVIRONMENTS
def test_realtime_function_imports_neither_the_web_stack_nor_the_pipeline(env):
    """The WebSocket function is a plain handler: no FastAPI on its cold start, no LLM client."""
    heavy = tuple(sorted(set(NOT_FOR_RECONCILER) - {"narraforge.api"}))  # narraforge.api.websocket is its adapter
    assert _import_report("realtime", heavy, env) == {"handler": True, "heavy": []}




TRACED_OAUTH = """
import json, sys
import functions.auth.app
from narraforge.enums import OAuthProvider
from narraforge.errors import BadGateway
from narraforge.security import oauth
at_init = "httpx" in sys.modules
url = "http://127.0.0.1:9/"
config = oauth.ProviderConfig(OAuthProvider.GITHUB, "id", None, None, url, url, url, url, url)
try:
    oauth._request(config, "GET", url)
except BadGateway:
    pass
import httpx
from aws_xray_sdk.ext.httpx.patch import SyncInstrumentedTransport
with httpx.Client() as client:
    traced = isinstance(client._transport, SyncInstrumentedTransport)
print(json.dumps({"httpx_at_init": at_init, "traced_after_first_call": traced}))
"""


def test_oauth_calls_are_traced_without_httpx_at_init():
    """httpx is imported and patched by the first provider call, not by the auth function's cold start."""
    assert in_fresh_interpreter(TRACED_OAUTH, IN_LAMBDA) == {"httpx_at_init": False,
                                                             "traced_after_first_call": True}
