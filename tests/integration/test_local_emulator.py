"""The API Gateway emulator's own answers: the source IP of the event, unknown routes, CORS settings."""

from __future__ import annotations

import re

from narraforge.api.app_factory import CORS_HEADERS, CORS_METHODS, cors_origin_regex

from narraforge_dev.local.apigw import build_event, cors_settings, match_route
from tests.helpers import error_code, error_detail


def test_source_ip_is_the_peer_and_x_forwarded_for_is_appended_to():
    route, params = match_route("POST", "/auth/login")
    event = build_event(route, params, method="POST", path="/auth/login", stage_path="/auth/login",
                        headers=[("host", "api.local"), ("X-Forwarded-For", "198.51.100.9")], query=[], body=b"",
                        source_ip="203.0.113.7")
    assert event["requestContext"]["identity"]["sourceIp"] == "203.0.113.7"
    assert event["headers"]["x-forwarded-for"] == "198.51.100.9, 203.0.113.7"
    assert event["multiValueHeaders"]["x-forwarded-for"] == ["198.51.100.9, 203.0.113.7"]
    bare = build_event(route, params, method="POST", path="/auth/login", stage_path="/auth/login",
                       headers=[("host", "api.local")], query=[], body=b"", source_ip="203.0.113.7")
    assert bare["headers"]["x-forwarded-for"] == "203.0.113.7"


def test_the_test_client_answers_unknown_routes_like_the_gateway(api):
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert error_code(response.json()) == "not_found"
    assert error_detail(response.json()) == "No route for GET /no/such/route"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_gateway_preflight_allows_what_the_functions_allow():
    """API Gateway answers preflights (template.yaml) and the functions' CORSMiddleware real requests: a
    method or header allowed by one and not the other would fail in the browser only."""
    settings = cors_settings()
    assert settings["access-control-allow-methods"].split(",") == CORS_METHODS
    assert settings["access-control-allow-headers"].split(",") == CORS_HEADERS
    assert int(settings["access-control-max-age"]) > 0


def test_any_port_origins():
    pattern = re.compile(cors_origin_regex(["http://localhost:*", "https://app.example.com"]))
    assert pattern.fullmatch("http://localhost:5173") and pattern.fullmatch("http://localhost")
    for origin in ("https://localhost:5173", "http://localhost.evil.example", "http://localhost:5173.evil.example",
                   "https://app.example.com"):  # exact origins are matched as they are, not by the pattern
        assert not pattern.fullmatch(origin), origin
    assert cors_origin_regex(["https://app.example.com"]) is None
