"""Every function imports with no environment at all and in Lambda's (where the X-Ray SDK is live); API
functions stay free of the LLM client, the export libraries and httpx, and the stage runner free of the web
stack (each is cold-start weight the other does not need)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
API_FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py") if p.parent.name != "stage_runner")

PROBE = """
import json, sys
sys.path[:0] = [{repo!r}, {layer!r}]
import functions.{name}.app as module
print(json.dumps({{"handler": callable(module.handler),
                   "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""
NOT_FOR_API = ("openai", "fpdf", "ebooklib", "docx", "moto", "httpx")
NOT_FOR_RUNNER = ("fastapi", "starlette", "mangum", "moto")
EMPTY = {"PATH": "/usr/bin:/bin"}
# The runtime's own variables make Powertools enable its Tracer and the X-Ray SDK patch at import.
IN_LAMBDA = {**EMPTY, "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "probe",
             "AWS_REGION": "us-east-1"}
ENVIRONMENTS = pytest.mark.parametrize("env", [EMPTY, IN_LAMBDA], ids=["empty", "lambda"])


def _import_report(name: str, heavy: tuple[str, ...], env: dict[str, str]) -> dict:
    code = PROBE.format(repo=str(REPO), layer=str(REPO / "layers/common"), name=name, heavy=heavy)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@ENVIRONMENTS
@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_api_functions_import_without_heavy_libraries(name, env):
    assert _import_report(name, NOT_FOR_API, env) == {"handler": True, "heavy": []}


@ENVIRONMENTS
def test_stage_runner_imports_without_the_web_stack(env):
    assert _import_report("stage_runner", NOT_FOR_RUNNER, env) == {"handler": True, "heavy": []}




TRACED_OAUTH = """
import json, sys
sys.path[:0] = [{repo!r}, {layer!r}]
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
print(json.dumps({{"httpx_at_init": at_init, "traced_after_first_call": traced}}))
"""


def test_oauth_calls_are_traced_without_httpx_at_init():
    """httpx is imported and patched by the first provider call, not by the auth function's cold start."""
    code = TRACED_OAUTH.format(repo=str(REPO), layer=str(REPO / "layers/common"))
    result = subprocess.run([sys.executable, "-c", code], env=IN_LAMBDA, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"httpx_at_init": False,
                                                                   "traced_after_first_call": True}
