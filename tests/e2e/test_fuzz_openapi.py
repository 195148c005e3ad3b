"""Schemathesis over every operation of the OpenAPI document, sent to the local stack as a real user.

Checks: no server fault (5xx; the one allowed is the documented 503 of an OAuth provider this deployment
does not configure), status codes, content types, headers and bodies as documented, invalid input
rejected, protected operations refusing requests without the token, methods the spec does not list
answered 405 with a truthful `Allow`. Examples are bounded and derandomized so a run is repeatable.

Path ids are the fuzz user's real ones on every other positive example, so that item routes reach their
code rather than only 404. Operations that would end the shared user's session (logout, account
deletion) get a fresh user per example; project deletion gets a fresh project per example. Narrative
deletion and regeneration keep fuzzed ids only: real ones would delete the shared narrative or start
pipelines. Nothing is excluded from the run."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from narraforge.api.docs import openapi_document
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from tests.e2e.accounts import Writer, bearer, new_writer
from tests.helpers import register

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_dict(openapi_document(), config=schemathesis.Config.from_dict({
    "seed": 20261125,
    "generation": {"deterministic": True, "max-examples": 8, "with-security-parameters": False,
                   "allow-extra-parameters": True},
    "phases": {"stateful": {"enabled": False}},
}))

CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
    checks.allow_header_conformance,
]
FRESH_USER = {("POST", "/auth/logout"), ("DELETE", "/auth/me")}
FUZZED_IDS_ONLY = {("DELETE", "/narratives/{narrative_id}"), ("POST", "/narratives/{narrative_id}/regenerate")}
SESSION = requests.Session()
_turns: defaultdict[str, Iterator[int]] = defaultdict(itertools.count)


def no_server_fault(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """A 5xx means the server broke on client input, except OAuth's documented 'not configured' 503."""
    if response.status_code < 500:
        return
    unconfigured_oauth = (response.status_code == 503 and case.operation.path.startswith("/auth/oauth/")
                          and response.json()["code"] == "service_unavailable")
    assert unconfigured_oauth, f"{response.status_code} from {case.method} {case.formatted_path}: {response.text}"


@pytest.fixture(scope="module")
def fuzz_user(stack_url: str) -> Writer:
    with httpx.Client(base_url=stack_url, timeout=60) as client:
        return new_writer(client, "fuzz")


def test_the_fuzzed_document_is_the_one_the_stack_serves(stack_url: str) -> None:
    served = httpx.get(f"{stack_url}/openapi.json", timeout=30).json()
    assert served == openapi_document()


def _token_for(case: schemathesis.Case, user: Writer, stack_url: str) -> str:
    if (case.method, case.operation.path) not in FRESH_USER:
        return user.access_token
    with httpx.Client(base_url=stack_url, timeout=30) as client:
        return register(client, f"fuzz-fresh{next(_turns['fresh'])}-{user.user_id.lower()}@example.com")[
            "access_token"]


def _use_real_ids(case: schemathesis.Case, user: Writer, stack_url: str) -> None:
    operation = (case.method, case.operation.path)
    if (not case.path_parameters or operation in FUZZED_IDS_ONLY
            or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE
            or next(_turns[repr(operation)]) % 2):
        return
    real = {"project_id": user.project_id, "job_id": user.job_id, "narrative_id": user.narrative_id}
    if operation == ("DELETE", "/projects/{project_id}"):
        with httpx.Client(base_url=stack_url, timeout=30) as client:
            created = client.post("/projects/", json={"name": "doomed"}, headers=user.headers)
            real["project_id"] = created.json()["id"]
    for name in case.path_parameters:
        if name in real:
            case.path_parameters[name] = real[name]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_honours_its_contract(case: schemathesis.Case, fuzz_user: Writer, stack_url: str) -> None:
    _use_real_ids(case, fuzz_user, stack_url)
    # A case that carries its own Authorization is a probe with a bad token, generated on purpose.
    auth = {} if "Authorization" in (case.headers or {}) else bearer(_token_for(case, fuzz_user, stack_url))
    response = case.call(base_url=stack_url, session=SESSION, headers=auth, timeout=60)
    case.validate_response(response, checks=[no_server_fault, *CHECKS], headers=auth)
