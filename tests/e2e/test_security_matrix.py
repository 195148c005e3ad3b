"""Security matrix over HTTP, with the OWASP API Security Top 10 (2023) as the checklist:

- API1 object-level authorization: every route that takes an id answers another user 404 and leaves the
  owner's data as it was; no token is 401.
- API2 authentication: forged access tokens (alg none, wrong key, tampered payload, expired, wrong type,
  wrong audience, a refresh token) are 401.
- API3 object-property authorization: owner, tier, counters, status and cost fields sent by a client are
  ignored on every write route; no response carries another user's data or the password hash.
- API4 resource consumption: oversized bodies are 413 on every route that takes one; page sizes are capped.
- API6 business flows: a regeneration cannot raise the brief past the plan's limit.
- API8 misconfiguration: security headers on every response, no stack trace or file path in any error,
  CORS allows the configured origins only.

Routes come from the OpenAPI document, so a new id-taking route is covered (or fails loudly here)."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from narraforge.api.docs import openapi_document

from tests.e2e.accounts import Writer, bearer, new_writer
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.e2e

SPEC = openapi_document()
OPERATIONS = [(method.upper(), path) for path, ops in SPEC["paths"].items() for method in ops]
ID_ROUTES = [(m, p) for m, p in OPERATIONS if re.search(r"\{\w+_id\}", p)]
PROTECTED = [(m, p) for m, p in OPERATIONS if SPEC["paths"][p][m.lower()].get("security")]
BODY_ROUTES = [(m, p) for m, p in OPERATIONS if "requestBody" in SPEC["paths"][p][m.lower()]]
# A body each write route accepts, so that a refusal comes from ownership rather than validation.
VALID_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/projects/{project_id}"): {"name": "taken over"},
    ("PATCH", "/projects/{project_id}"): {"name": "taken over"},
    ("PUT", "/projects/{project_id}/world"): {"summary": "taken over"},
    ("PATCH", "/projects/{project_id}/world"): {"summary": "taken over"},
    ("POST", "/narratives/{narrative_id}/regenerate"): {},
    ("PATCH", "/narratives/{narrative_id}"): {"title": "taken over"},
}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
}
LEAK_MARKERS = ("Traceback", 'File "', ".py\"", "/work/", "site-packages", "botocore", "pynamodb")


@pytest.fixture(scope="module")
def client(stack_url: str):
    with httpx.Client(base_url=stack_url, timeout=60) as http_client:
        yield http_client


@pytest.fixture(scope="module")
def owner(client: httpx.Client) -> Writer:
    return new_writer(client, "owner")


@pytest.fixture(scope="module")
def intruder(client: httpx.Client) -> dict[str, Any]:
    return register(client)


@pytest.fixture(scope="module")
def signing_key(local_stack) -> str:
    return json.loads(Path(local_stack[1]).read_text())["jwt_secret"]


def concrete(path: str, writer: Writer) -> str:
    values = {"project_id": writer.project_id, "job_id": writer.job_id, "narrative_id": writer.narrative_id,
              "format": "txt", "provider": "github"}
    names = re.findall(r"\{(\w+)\}", path)
    unknown = [name for name in names if name not in values]
    assert not unknown, f"add a value for {unknown} of {path} to this matrix"
    return path.format(**{name: values[name] for name in names})


def send(client: httpx.Client, method: str, url: str, headers: dict[str, str] | None = None,
         body: Any = None) -> httpx.Response:
    return client.request(method, url, headers=headers, json=body)


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url, dict(response.headers))
    assert response.headers.get("x-request-id"), response.request.url


def assert_no_leak(response: httpx.Response, *secrets: str) -> None:
    for marker in (*LEAK_MARKERS, *secrets):
        assert marker not in response.text, (marker, response.request.url, response.text[:500])


def assert_owner_intact(client: httpx.Client, owner: Writer) -> None:
    for url in (f"/projects/{owner.project_id}", f"/jobs/{owner.job_id}", f"/narratives/{owner.narrative_id}"):
        assert client.get(url, headers=owner.headers).status_code == 200, url
    project = client.get(f"/projects/{owner.project_id}", headers=owner.headers).json()
    assert project["name"] == "owner project"


def op_id(operation: tuple[str, str]) -> str:
    return f"{operation[0]} {operation[1]}"


# API1: broken object-level authorization


@pytest.mark.parametrize("operation", ID_ROUTES, ids=op_id)
def test_another_users_id_is_not_found(client, owner, intruder, operation):
    method, path = operation
    response = send(client, method, concrete(path, owner), bearer(intruder["access_token"]),
                    VALID_BODIES.get(operation))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    assert_security_headers(response)
    assert_no_leak(response, owner.email, owner.user_id, "owner project")
    assert_owner_intact(client, owner)


@pytest.mark.parametrize("export_format", ["txt", "md", "pdf", "epub", "docx"])
def test_another_users_export_is_not_found_in_any_format(client, owner, intruder, export_format):
    response = client.get(f"/narratives/{owner.narrative_id}/export/{export_format}",
                          headers=bearer(intruder["access_token"]))
    assert response.status_code == 404, response.text
    assert_no_leak(response, owner.email, owner.user_id)


@pytest.mark.parametrize("operation", PROTECTED, ids=op_id)
def test_no_token_is_unauthorized(client, owner, operation):
    method, path = operation
    response = send(client, method, concrete(path, owner), None, VALID_BODIES.get(operation))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"
    assert_security_headers(response)
    assert_no_leak(response, owner.email, owner.user_id)


def test_every_id_route_is_protected():
    """The two lists above only mean something if the spec declares the bearer scheme on id routes."""
    assert ID_ROUTES and set(ID_ROUTES) <= set(PROTECTED)


# API2: broken authentication


def _claims(owner: Writer, **changes: Any) -> dict[str, Any]:
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    claims.update(changes)
    return claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forge(kind: str, owner: Writer, intruder: dict[str, Any], key: str) -> str:
    now = int(time.time())
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(owner))}."
    if kind == "wrong_key":
        return jwt.encode(_claims(owner), "not-the-signing-key-0123456789abcdef", algorithm="HS256")
    if kind == "tampered_payload":
        header, _, signature = owner.access_token.split(".")
        return f"{header}.{_b64(_claims(owner, sub=intruder['user']['id']))}.{signature}"
    if kind == "expired":
        return jwt.encode(_claims(owner, iat=now - 7200, exp=now - 3600), key, algorithm="HS256")
    if kind == "wrong_type":
        return jwt.encode(_claims(owner, typ="refresh"), key, algorithm="HS256")
    if kind == "wrong_audience":
        return jwt.encode(_claims(owner, aud="someone-else"), key, algorithm="HS256")
    if kind == "hs512_with_the_key":
        return jwt.encode(_claims(owner), key, algorithm="HS512")
    if kind == "refresh_token_as_access":
        return owner.refresh_token
    if kind == "garbage":
        return "not.a.jwt"
    raise AssertionError(kind)


FORGERIES = ["alg_none", "wrong_key", "tampered_payload", "expired", "wrong_type", "wrong_audience",
             "hs512_with_the_key", "refresh_token_as_access", "garbage"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("route", ["/auth/me", "/projects/{project_id}"])
@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_token_is_unauthorized(client, owner, intruder, signing_key, kind, route):
    response = client.get(concrete(route, owner), headers=bearer(_forge(kind, owner, intruder, signing_key)))
    assert response.status_code == 401, (kind, response.text)
    assert response.headers["www-authenticate"] == "Bearer"
    assert_no_leak(response, owner.email, owner.user_id)


def test_the_genuine_token_works(client, owner, signing_key):
    """Control for the forgeries: the same claims re-signed with the real key are accepted."""
    resigned = jwt.encode(_claims(owner), signing_key, algorithm="HS256")
    assert client.get("/auth/me", headers=bearer(resigned)).json()["id"] == owner.user_id


# API3: broken object-property authorization (mass assignment, excessive data exposure)

FORBIDDEN_FIELDS = {
    "id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "user_id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "owner_id": "someone",
    "subscription_tier": "ENTERPRISE", "monthly_generation_limit": 100000, "monthly_generations_used": -50,
    "monthly_cost_limit_usd": 100000.0, "monthly_cost_used_usd": -5.0, "narrative_count": 99,
    "total_word_count": 99999, "total_cost_usd": -1.0, "status": "COMPLETED", "progress_percentage": 100,
    "actual_cost_usd": -3.0, "estimated_cost_usd": 123456.0, "tokens_used": -1,
    "narrative_id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:x:y", "retry_count": 7, "version": 42,
    "view_count": 1000, "download_count": 1000, "created_at": "2000-01-01T00:00:00Z",
}


def _assert_not_applied(body: dict[str, Any], defaults: dict[str, Any]) -> None:
    for name, value in defaults.items():
        assert body.get(name) == value, (name, body.get(name))
    for name, value in FORBIDDEN_FIELDS.items():
        if name not in defaults and name in body and name not in ("id", "user_id", "created_at"):
            assert body[name] != value, (name, body[name])
    assert body.get("created_at", "2026") != FORBIDDEN_FIELDS["created_at"]
    assert body.get("id") != FORBIDDEN_FIELDS["id"]


def test_mass_assignment_register(client):
    response = client.post("/auth/register", json={"email": f"mass{time.time_ns()}@example.com",
                                                   "password": PASSWORD, **FORBIDDEN_FIELDS})
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        user = response.json()["user"]
        _assert_not_applied(user, {"subscription_tier": "FREE", "monthly_generation_limit": 5,
                                   "monthly_generations_used": 0, "monthly_cost_used_usd": 0.0,
                                   "monthly_cost_limit_usd": None})
        assert "password_hash" not in response.text and PASSWORD not in response.text


def test_mass_assignment_create_project(client, owner):
    response = client.post("/projects/", json={"name": "mass", **FORBIDDEN_FIELDS}, headers=owner.headers)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        _assert_not_applied(response.json(), {"user_id": owner.user_id, "narrative_count": 0,
                                              "total_word_count": 0, "total_cost_usd": 0.0})


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_mass_assignment_update_project(client, owner, method):
    created = client.post("/projects/", json={"name": "to update"}, headers=owner.headers).json()
    response = client.request(method, f"/projects/{created['id']}", json={"description": "changed", **FORBIDDEN_FIELDS},
                              headers=owner.headers)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["description"] == "changed"
        _assert_not_applied(response.json(), {"id": created["id"], "user_id": owner.user_id, "narrative_count": 0,
                                              "total_word_count": 0, "total_cost_usd": 0.0,
                                              "created_at": created["created_at"]})


def test_mass_assignment_create_job(client, owner):
    from tests.e2e.accounts import BRIEF

    body = {"project_id": owner.project_id, "production_brief": {**BRIEF, **FORBIDDEN_FIELDS}, **FORBIDDEN_FIELDS}
    response = client.post("/jobs/", json=body, headers=owner.headers)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        job = response.json()
        _assert_not_applied(job, {"user_id": owner.user_id, "project_id": owner.project_id, "narrative_id": None,
                                  "tokens_used": 0, "actual_cost_usd": 0.0, "retry_count": 0})
        assert job["status"] in ("QUEUED", "RUNNING")
        assert job["estimated_cost_usd"] >= 0 and job["progress_percentage"] < 100
        assert client.post(f"/jobs/{job['id']}/cancel", headers=owner.headers).status_code in (200, 409)


def test_mass_assignment_regenerate(client, owner):
    route = ("POST", "/narratives/{narrative_id}/regenerate")
    if route not in OPERATIONS:
        pytest.fail("regenerate is documented (README, \"Exports, versions, regeneration\"); the API must serve it")
    before = client.get(f"/narratives/{owner.narrative_id}", headers=owner.headers).json()
    response = client.post(f"/narratives/{owner.narrative_id}/regenerate", json=FORBIDDEN_FIELDS, headers=owner.headers)
    assert response.status_code in (202, 422), response.text
    if response.status_code == 202:
        job = response.json()
        _assert_not_applied(job, {"user_id": owner.user_id, "tokens_used": 0, "actual_cost_usd": 0.0,
                                  "retry_count": 0})
        assert job["status"] in ("QUEUED", "RUNNING")
        client.post(f"/jobs/{job['id']}/cancel", headers=owner.headers)
    after = client.get(f"/narratives/{owner.narrative_id}", headers=owner.headers).json()
    assert after["user_id"] == owner.user_id and after["view_count"] == before["view_count"] + 1


def test_delete_account_body_cannot_name_another_user(client, owner):
    victim_check = client.get("/auth/me", headers=owner.headers)
    throwaway = register(client)
    response = client.request("DELETE", "/auth/me", headers=bearer(throwaway["access_token"]),
                              json={"password": PASSWORD, "user_id": owner.user_id, "id": owner.user_id,
                                    "email": owner.email})
    assert response.status_code == 204, response.text
    assert client.get("/auth/me", headers=owner.headers).json() == victim_check.json()
    assert client.get("/auth/me", headers=bearer(throwaway["access_token"])).status_code == 401


COLLECTIONS = ["/projects/", "/jobs/", "/narratives/", "/usage/"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_listings_hold_only_the_callers_data(client, owner, intruder, collection):
    response = client.get(collection, headers=bearer(intruder["access_token"]))
    assert response.status_code == 200, response.text
    assert_no_leak(response, owner.user_id, owner.project_id, owner.job_id, owner.narrative_id, owner.email)
    mine = client.get(collection, headers=owner.headers).text
    assert owner.project_id in mine or owner.job_id in mine  # control: the owner does see it


@pytest.mark.parametrize("url", ["/auth/me", "/auth/login"])
def test_no_password_hash_in_user_responses(client, owner, url):
    if url == "/auth/login":
        response = client.post(url, json={"email": owner.email, "password": PASSWORD})
    else:
        response = client.get(url, headers=owner.headers)
    assert response.status_code == 200
    assert "password" not in response.text and "$2b$" not in response.text


# API4: unrestricted resource consumption


@pytest.mark.parametrize("operation", BODY_ROUTES, ids=op_id)
def test_oversized_body_is_413(client, owner, stack_url, operation):
    method, path = operation
    url = concrete(path, owner) if "{" in path else path
    oversized = b'{"name": "' + b"x" * (1_048_576 + 16) + b'"}'
    response = client.request(method, url, content=oversized,
                              headers={**owner.headers, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "payload_too_large"
    assert_security_headers(response)
    assert_owner_intact(client, owner)


def test_oversized_chunked_body_is_413(client, owner):
    """No Content-Length to trust: the limit is enforced on the bytes received."""

    def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = client.post("/projects/", content=chunks(),
                           headers={**owner.headers, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text[:300]


def test_page_size_is_capped(client, owner):
    response = client.get("/projects/", params={"page_size": 1000}, headers=owner.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "page_size"]


# API6: business flows


def test_regeneration_cannot_lift_the_brief_past_the_plan(client, owner):
    """FREE briefs are capped at 10,000 words; overriding the brief on regeneration must not bypass it."""
    response = client.post(f"/narratives/{owner.narrative_id}/regenerate",
                           json={"brief_overrides": {"target_length": 15000}}, headers=owner.headers)
    assert response.status_code in (403, 422), response.text
    if response.status_code == 202:
        client.post(f"/jobs/{response.json()['id']}/cancel", headers=owner.headers)


# API8: security misconfiguration


def _probe_requests(owner: Writer) -> list[tuple[str, str, dict[str, str] | None, Any]]:
    """One request per documented operation, as the owner (GETs) or unauthenticated (writes: no side effect)."""
    probes = []
    for method, path in OPERATIONS:
        url = path.replace("{provider}", "github")
        url = concrete(url, owner) if "{" in url else url
        probes.append((method, url, owner.headers if method == "GET" else None, VALID_BODIES.get((method, path))))
    return probes


@pytest.mark.parametrize("index", range(len(OPERATIONS)), ids=[op_id(o) for o in OPERATIONS])
def test_security_headers_on_every_operation(client, owner, index):
    method, url, headers, body = _probe_requests(owner)[index]
    response = send(client, method, url, headers, body)
    assert response.status_code < 500 or url.startswith("/auth/oauth/"), response.text
    assert_security_headers(response)
    assert_no_leak(response)


MALFORMED = {
    "invalid_json": ("POST", "/projects/", b"{not json", "application/json"),
    "invalid_utf8": ("POST", "/projects/", b'{"name": "\xff\xfe"}', "application/json"),
    "wrong_types": ("POST", "/jobs/", b'{"project_id": [], "production_brief": "x"}', "application/json"),
    "deep_nesting": ("POST", "/projects/", b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    "huge_number": ("GET", "/projects/?page=" + "9" * 400, b"", "application/json"),
    "bad_cursor": ("GET", "/jobs/?cursor=eyJ4IjoxfQ.forged", b"", "application/json"),
    "nul_in_id": ("GET", "/projects/abc%00def", b"", "application/json"),
    "newline_in_id": ("GET", "/jobs/abc%0Adef/status", b"", "application/json"),
    "traversal_in_format": ("GET", "/narratives/{narrative_id}/export/..%5C..%5Cwin.ini", b"", "application/json"),
    "xml_body": ("POST", "/projects/", b"<name>x</name>", "application/xml"),
    "unknown_method": ("TRACE", "/projects/", b"", "application/json"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_input_gets_a_clean_4xx(client, owner, case):
    method, url, content, content_type = MALFORMED[case]
    url = url.replace("{narrative_id}", owner.narrative_id)
    response = client.request(method, url, content=content or None,
                              headers={**owner.headers, "Content-Type": content_type})
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert set(response.json()) >= {"type", "title", "status", "detail", "instance", "code"}
    assert response.json()["status"] == response.status_code
    assert_security_headers(response)
    assert_no_leak(response)


ALLOWED_ORIGIN = "https://app.narraforge.example"


@pytest.fixture
def cors_app(monkeypatch):
    """A function's app built as in Lambda, with CORS_ORIGINS from config (no stack needed)."""
    from fastapi.testclient import TestClient
    from narraforge.api.app_factory import create_app
    from narraforge.api.routers import health, projects
    from narraforge.config import reset_settings

    monkeypatch.setenv("CORS_ORIGINS", f"{ALLOWED_ORIGIN}, http://localhost:5173")
    reset_settings()
    try:
        yield TestClient(create_app([projects.router, health.router]))
    finally:
        monkeypatch.delenv("CORS_ORIGINS")
        reset_settings()


@pytest.mark.parametrize("origin", [ALLOWED_ORIGIN, "http://localhost:5173"])
def test_cors_allows_configured_origins(cors_app, origin):
    preflight = cors_app.options("/projects/", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    simple = cors_app.get("/health/live", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://app.narraforge.example.evil.example"])
def test_cors_does_not_echo_other_origins(cors_app, origin):
    preflight = cors_app.options("/projects/", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = cors_app.get("/health/live", headers={"Origin": origin})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers


def test_cors_is_off_without_configured_origins(client):
    """The local stack configures none: no origin is allowed, not '*'."""
    response = client.get("/health/live", headers={"Origin": ALLOWED_ORIGIN})
    assert "access-control-allow-origin" not in response.headers
