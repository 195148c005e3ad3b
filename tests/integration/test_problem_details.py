"""Every error is an RFC 9457 problem (`application/problem+json`), also those answered before the app runs
(413, too-deep JSON) and the unexpected ones (500) — through the functions' real handlers."""

from __future__ import annotations

import pytest

from tests.helpers import register

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy", "strict-transport-security",
                    "content-security-policy", "cache-control")


@pytest.fixture
def writer(api):
    return api.as_user(register(api)["access_token"])


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status and body["code"] == code
    assert body["title"] and body["detail"]
    assert body["instance"] == response.headers["x-request-id"]
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), name
    return body


def test_validation_errors_carry_field_level_errors(writer):
    body = assert_problem(writer.post("/projects/", json={"name": ""}), 422, "validation_error")
    assert body["title"] == "Unprocessable Content"
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_not_found_and_unauthorized_are_problems(api, writer):
    assert assert_problem(writer.get("/projects/01J0000000000000000000000"), 404, "not_found")["detail"] == \
        "Project not found"
    unauthorized = api.get("/auth/me")
    assert_problem(unauthorized, 401, "unauthorized")
    assert unauthorized.headers["www-authenticate"] == "Bearer"


def test_error_details_become_extension_members(api, writer, monkeypatch):
    from narraforge.config import reset_settings

    monkeypatch.setenv("MAX_BODY_BYTES", "100")
    reset_settings()
    body = assert_problem(writer.post("/projects/", json={"name": "x" * 200}), 413, "payload_too_large")
    assert body["max_bytes"] == 100


@pytest.mark.parametrize("route", ["/narratives/01J0000000000000000000000/regenerate", "/jobs/", "/projects/"])
def test_deeply_nested_json_is_422_not_500(writer, route):
    deep: object = "x"
    for _ in range(600):
        deep = {"a": deep}
    body = assert_problem(writer.post(route, json={"brief_overrides": deep, "production_brief": deep}), 422,
                          "validation_error")
    assert body["errors"][0]["type"] == "json_too_deep"


def test_nesting_within_the_limit_reaches_validation(writer):
    """The depth guard is not a blanket refusal: a shallow body gets the route's own validation."""
    body = assert_problem(writer.post("/projects/", json={"name": [[["deep but fine"]]]}), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_an_unexpected_error_is_a_500_problem_with_security_headers(writer, monkeypatch):
    from narraforge.services import projects

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(projects, "list_page", broken)
    response = writer.get("/projects/")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert body["detail"] == "Internal server error"


def test_openapi_documents_errors_as_problem_details(api):
    spec = api.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["ErrorResponse"]
    assert {"type", "title", "status", "detail", "instance", "code", "errors"} <= set(problem["properties"])
    responses = spec["paths"]["/projects/"]["post"]["responses"]
    assert "application/problem+json" in responses["422"]["content"]
