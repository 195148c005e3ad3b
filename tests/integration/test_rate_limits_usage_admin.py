"""Rate limits (429 + headers), the usage report, and the operator CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from narraforge.config import reset_settings
from narraforge.security import rate_limits

from narraforge_dev import admin
from tests.helpers import PASSWORD, error_code, register, unique_email, wait_for_execution


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
    assert refused.json()["code"] == "rate_limited"
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


@pytest.fixture
def per_ip_limits(monkeypatch, small_limits):
    monkeypatch.setenv("RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE", "4")
    monkeypatch.setenv("RATE_LIMIT_REGISTER_PER_IP_PER_HOUR", "3")
    reset_settings()


def test_logins_across_many_emails_from_one_ip_are_limited(api, per_ip_limits):
    """Password spraying: one guess per account stays under the per-email limit, not under the per-IP one."""
    codes = [api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD}).status_code
             for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    refused = api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == "4;w=60"
    assert error_code(refused.json()) == "rate_limited"


def test_registrations_per_ip_are_limited_per_hour(api, per_ip_limits):
    codes = [api.post("/auth/register", json={"email": unique_email(), "password": PASSWORD}).status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    refused = api.post("/auth/register", json={"email": unique_email(), "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == "3;w=3600"
    assert int(refused.headers["retry-after"]) >= 1


def test_the_password_check_of_account_deletion_is_limited_like_a_login(api, small_limits, monkeypatch):
    """A stolen access token must not become an oracle for guessing the account's password."""
    monkeypatch.setenv("RATE_LIMIT_DEFAULT_PER_MINUTE", "100")
    reset_settings()
    user = api.as_user(register(api)["access_token"])
    codes = [user.delete("/auth/me", json={"password": f"Wrong-guess-{n:04d}"}).status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = user.delete("/auth/me", json={"password": PASSWORD})  # even the right one, until the window ends
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == "3;w=60"
    assert int(refused.headers["retry-after"]) >= 1
    assert user.get("/auth/me").status_code == 200  # the account is still there


def test_the_password_check_of_account_deletion_uses_the_ips_login_budget(api, per_ip_limits, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_DEFAULT_PER_MINUTE", "100")
    reset_settings()
    users = [api.as_user(register(api)["access_token"]) for _ in range(2)]
    codes = [users[n % 2].delete("/auth/me", json={"password": "Wrong-guess-0000"}).status_code for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]  # 2 users x 2 guesses stay under the per-user limit of 3
    assert api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD}).status_code == 429


def writer_with_finished_jobs(api, count: int):
    """A new writer (email, client) whose `count` jobs have finished: deleting an account while its jobs run
    would stop them and give their generations back."""
    email = unique_email()
    user = api.as_user(register(api, email)["access_token"])
    project = user.post("/projects/", json={"name": "P"}).json()["id"]
    body = {"project_id": project, "production_brief": {
        "production_type": "short_story", "genre": "drama", "subject": "A choir loses its conductor",
        "target_length": 500, "character_count": 2}}
    jobs = [user.post("/jobs/", json=body) for _ in range(count)]
    assert [job.status_code for job in jobs] == [201] * count
    assert [wait_for_execution(job.json()["execution_arn"])["status"] for job in jobs] == ["SUCCEEDED"] * count
    return email, user


def test_a_deleted_email_registered_again_keeps_the_months_generations(api):
    email, user = writer_with_finished_jobs(api, 2)
    cost = user.get("/auth/me").json()["monthly_cost_used_usd"]
    assert user.delete("/auth/me", json={"password": PASSWORD}).status_code == 204

    again = register(api, email)
    assert again["user"]["monthly_generations_used"] == 2
    me = api.as_user(again["access_token"]).get("/auth/me").json()
    assert me["monthly_generations_used"] == 2
    assert me["monthly_cost_used_usd"] == cost
    assert api.as_user(again["access_token"]).get("/usage").json()["generations_used"] == 2
    # Another email starts from zero.
    assert register(api)["user"]["monthly_generations_used"] == 0


def test_the_usage_kept_after_deletion_holds_no_personal_data(api):
    from narraforge.data.base import BaseItem
    from narraforge.data.models import DeletedUsageItem

    email, user = writer_with_finished_jobs(api, 1)
    assert user.delete("/auth/me", json={"password": PASSWORD}).status_code == 204

    kept = [item for item in BaseItem.scan() if isinstance(item, DeletedUsageItem)]
    assert len(kept) == 1
    assert email.split("@")[0] not in repr(kept[0].attribute_values) + kept[0].pk
    assert kept[0].generations_used == 1
    assert kept[0].ttl > datetime.now(UTC)
