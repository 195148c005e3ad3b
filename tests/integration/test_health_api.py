"""Health, metrics and docs through the health function's handler."""

from __future__ import annotations

import boto3

from tests.helpers import register


def test_health_live_and_ready(api):
    for path in ("/health/", "/health", "/health/live"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.json()["status"] == "ok"
    ready = api.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"table": "ok", "bucket": "ok", "state_machine": "ok"}


def test_ready_names_the_failing_dependency(api):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.delete_bucket(Bucket="narraforge-test")
    ready = api.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["bucket"].startswith("unavailable")
    assert ready.json()["checks"]["table"] == "ok"


def test_metrics_count_users_and_projects(api):
    user = api.as_user(register(api)["access_token"])
    register(api)
    user.post("/projects/", json={"name": "one"})
    text = api.get("/health/metrics")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert "narraforge_users 2.0" in text.text
    assert "narraforge_projects 1.0" in text.text


def test_combined_openapi_documents_every_router(api):
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/auth/register", "/auth/login", "/auth/refresh", "/auth/me", "/projects/",
                 "/projects/{project_id}", "/health/ready"):
        assert path in paths, path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_docs_follow_the_stage_base_path(api):
    from narraforge_dev.local.apigw import build_event, load_handler, match_route
    from narraforge_dev.local.lambda_context import LambdaContext, call_handler

    route, params = match_route("GET", "/docs")
    event = build_event(route, params, method="GET", path="/docs", stage_path="/v1/docs",
                        headers=[("host", "abc.execute-api.us-east-1.amazonaws.com")], query=[], body=b"",
                        source_ip="203.0.113.9")
    result = call_handler(load_handler(route), event, LambdaContext(route.function))
    assert result["statusCode"] == 200
    assert "/v1/openapi.json" in result["body"]
    assert api.get("/redoc").status_code == 200


def test_every_response_has_request_id_and_security_headers(api):
    for response in (api.get("/health/live"), api.get("/auth/me"), api.get("/projects/xyz")):
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    supplied = api.get("/health/live", headers={"X-Request-ID": "trace-123"})
    assert supplied.headers["x-request-id"] == "trace-123"


def test_docs_pages_load_their_assets_from_this_api_only(api):
    """Swagger UI and ReDoc work offline: every script, style and icon they reference is served here."""
    import re

    for page in ("/docs", "/redoc"):
        response = api.get(page)
        assert response.status_code == 200
        urls = re.findall(r'(?:src|href)\s*[=:]\s*["\']([^"\']+)["\']', response.text)
        assert urls, page
        assert "fonts.googleapis" not in response.text and "cdn." not in response.text
        for url in urls:
            assert not url.startswith(("http:", "https:", "//")), (page, url)
            if url.endswith("openapi.json"):
                continue
            asset = api.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "http" not in policy
    assert api.get("/docs/static/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    assert api.get("/docs/static/..%2F__init__.py").status_code == 404
