"""Limits per client and the password rule, over HTTP against the local stack (issue #10, items 4 and 6)."""

from __future__ import annotations

import time
import unicodedata

import httpx
import pytest

from tests.e2e.accounts import BRIEF, bearer, wait_until_finished
from tests.helpers import PASSWORD, error_code, error_fields, register, unique_email

pytestmark = pytest.mark.e2e


def _fresh_email(prefix: str) -> str:
    return f"{prefix}{time.time_ns()}@example.com"


def test_password_spraying_and_mass_sign_ups_from_one_ip_are_refused(start_stack):
    stack = start_stack(env={"RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE": "5", "RATE_LIMIT_REGISTER_PER_IP_PER_HOUR": "2"})
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        # A window boundary inside the test would reset the login count: start early in a minute.
        left = 60 - time.time() % 60
        if left < 15:
            time.sleep(left + 0.1)
        sprayed = [http.post("/auth/login", json={"email": _fresh_email("spray"), "password": PASSWORD})
                   for _ in range(6)]
        assert [r.status_code for r in sprayed] == [401] * 5 + [429]
        assert int(sprayed[-1].headers["retry-after"]) >= 1
        assert error_code(sprayed[-1].json()) == "rate_limited"

        signups = [http.post("/auth/register", json={"email": _fresh_email("signup"), "password": PASSWORD})
                   for _ in range(3)]
        assert [r.status_code for r in signups] == [201, 201, 429]
        assert signups[-1].headers["ratelimit-policy"] == "2;w=3600"


def test_deleting_the_account_does_not_reset_the_months_generations(http):
    email = unique_email("tombstone")
    auth = register(http, email)
    headers = bearer(auth["access_token"])
    project = http.post("/projects/", json={"name": "Spent"}, headers=headers).json()["id"]
    for _ in range(2):
        job = http.post("/jobs/", json={"project_id": project, "production_brief": BRIEF}, headers=headers)
        assert job.status_code == 201, job.text
        assert wait_until_finished(http, headers, job.json()["id"])["status"] == "COMPLETED"
    assert http.get("/auth/me", headers=headers).json()["monthly_generations_used"] == 2

    deleted = http.request("DELETE", "/auth/me", json={"password": PASSWORD}, headers=headers)
    assert deleted.status_code == 204

    again = register(http, email)
    me = http.get("/auth/me", headers=bearer(again["access_token"])).json()
    assert me["monthly_generations_used"] == 2
    assert me["monthly_generation_limit"] == 5


def test_password_rules_a_user_meets(http):
    refused = http.post("/auth/register", json={"email": unique_email("pw"), "password": "1qaz2wsx3edc"})
    assert refused.status_code == 422
    assert error_fields(refused.json())[0]["loc"] == ["body", "password"]
    assert "common or breached" in error_fields(refused.json())[0]["msg"]

    email = unique_email("pw")
    head = "a-long-passphrase-" * 5  # past bcrypt's 72 bytes: only the tail differs
    register(http, email, head + "tail-one")
    assert http.post("/auth/login", json={"email": email, "password": head + "tail-two"}).status_code == 401
    assert http.post("/auth/login", json={"email": email, "password": head + "tail-one"}).status_code == 200

    email = unique_email("pw")
    register(http, email, "Zażółć gęślą jaźń")
    decomposed = unicodedata.normalize("NFD", "Zażółć gęślą jaźń")
    assert http.post("/auth/login", json={"email": email, "password": decomposed}).status_code == 200
