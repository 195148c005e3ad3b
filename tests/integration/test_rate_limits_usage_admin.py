"""Rate limits (429 + headers), the usage report, and the operator CLI."""

from __future__ import annotations

import time

import pytest
from narraforge import admin
from narraforge.config import reset_settings
from narraforge.security import rate_limits

from tests.helpers import PASSWORD, register, unique_email


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_AUTH_PER_MINUTE", "3")
    monkeypatch.setenv("RATE_LIMIT_DEFAULT_PER_MINUTE", "4")
    monkeypatch.setenv("RATE_LIMIT_GENERATION_PER_MINUTE", "2")
    # A minute boundary falling inside a test would reset the counts: start early in a window.
    left = 60 - time.time() % 60
    if left < 15:
        time.sleep(left + 0.1)
    reset_settings()
    yield
    reset_settings()


def test_login_is_limited_per_ip_and_email(api, small_limits):
    email = unique_email()
    register(api, email)  # 1st counted attempt for this IP+email
    codes = [api.post("/auth/login", json={"email": email, "password": "Wrong-passw0rd"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    refused = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == "3;w=60"
    assert "remaining=0" in refused.headers["ratelimit"]
    assert refused.json()["error"]["code"] == "rate_limited"
    # Another email from the same IP is unaffected.
    assert api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD}).status_code == 401


def test_ordinary_routes_are_limited_per_user_and_other_users_are_unaffected(api, small_limits):
    alice = api.as_user(register(api)["access_token"])
    bob = api.as_user(register(api)["access_token"])
    ok = [alice.get("/projects/") for _ in range(4)]
    assert [r.status_code for r in ok] == [200] * 4
    assert ok[0].headers["ratelimit-policy"] == "4;w=60"
    assert "remaining=3" in ok[0].headers["ratelimit"]
    assert alice.get("/projects/").status_code == 429
    assert bob.get("/projects/").status_code == 200


def test_job_creation_has_its_own_smaller_limit(api, small_limits):
    user = api.as_user(register(api)["access_token"])
    project = user.post("/projects/", json={"name": "P"}).json()["id"]
    body = {"project_id": project, "production_brief": {
        "production_type": "short_story", "genre": "drama", "subject": "A choir loses its conductor",
        "target_length": 500, "character_count": 2}}
    codes = [user.post("/jobs/", json=body).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_a_refused_request_is_not_counted(aws):
    for _ in range(2):
        rate_limits.enforce("subject-x", 2, now=1000.0)
    for _ in range(3):
        with pytest.raises(Exception, match="Too many requests"):
            rate_limits.enforce("subject-x", 2, now=1000.0)
    assert rate_limits.enforce("subject-x", 2, now=1061.0).remaining == 1  # next window starts fresh


def test_usage_reports_the_month(api):
    auth = register(api)
    user = api.as_user(auth["access_token"])
    project = user.post("/projects/", json={"name": "P"}).json()["id"]
    body = {"project_id": project, "production_brief": {
        "production_type": "short_story", "genre": "drama", "subject": "A choir loses its conductor",
        "target_length": 500, "character_count": 2}}
    assert user.post("/jobs/", json=body).status_code == 201
    usage = user.get("/usage").json()
    assert usage["generations_used"] == 1
    assert usage["generation_limit"] == 5
    assert usage["subscription_tier"] == "FREE"
    assert usage["resets_at"]
    assert set(usage["log"]) >= {"items", "total", "page", "page_size", "total_pages", "next_cursor"}
    assert api.get("/usage").status_code == 401


def test_admin_cli_sets_tier_and_cost_limit(api, capsys):
    email = unique_email()
    auth = register(api, email)
    assert admin.main(["--cloud", "set-tier", email, "pro"]) == 0
    assert admin.main(["--cloud", "set-cost-limit", email, "12.5"]) == 0
    me = api.as_user(auth["access_token"]).get("/auth/me").json()
    assert me["subscription_tier"] == "PRO"
    assert me["monthly_generation_limit"] == 100
    assert me["monthly_cost_limit_usd"] == 12.5
    assert admin.main(["--cloud", "set-cost-limit", email, "none"]) == 0
    assert api.as_user(auth["access_token"]).get("/auth/me").json()["monthly_cost_limit_usd"] is None
    assert "subscription_tier = PRO" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        admin.main(["--cloud", "set-tier", unique_email(), "PRO"])
    with pytest.raises(SystemExit):
        admin.main(["--cloud", "set-tier", email, "PLATINUM"])
