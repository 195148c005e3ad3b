"""Auth routes through real API Gateway events into the auth function's handler, under moto."""

from __future__ import annotations

import time
import unicodedata

import bcrypt
import jwt
import pytest

from tests.helpers import PASSWORD, error_fields, register, unique_email


def test_register_returns_the_reference_auth_response(api):
    email = unique_email()
    response = api.post("/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Ada"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    user = body["user"]
    assert user["email"] == email
    assert user["subscription_tier"] == "FREE"
    assert user["monthly_generation_limit"] == 5
    assert user["monthly_generations_used"] == 0
    assert user["full_name"] == "Ada"
    assert response.headers["x-request-id"]


def test_email_is_case_insensitive_and_unique(api):
    email = unique_email()
    register(api, email)
    again = api.post("/auth/register", json={"email": email.upper(), "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"

    login = api.post("/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["user"]["email"] == email


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Xq7-vb9_Lm2", "at least 12 characters"),  # 11 characters
        ("1qaz2wsx3edc", "common or breached"),  # SecLists' list of breached passwords
        ("Q1W2E3R4T5Y6", "common or breached"),  # compared case-insensitively
        ("ｑ１ｗ２ｅ３ｒ４ｔ５ｙ６", "common or breached"),  # full-width: the same once NFKC-normalised
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_weak_passwords_get_field_level_422(api, password, fragment):
    response = api.post("/auth/register", json={"email": unique_email(), "password": password})
    assert response.status_code == 422
    fields = error_fields(response.json())
    assert fields[0]["loc"] == ["body", "password"]
    assert fragment in fields[0]["msg"]
    assert password not in response.text  # the refused password is not echoed back


def test_no_composition_rules_a_lowercase_passphrase_is_accepted(api):
    email = unique_email()
    passphrase = "violet kettle harbour"
    assert api.post("/auth/register", json={"email": email, "password": passphrase}).status_code == 201
    assert api.post("/auth/login", json={"email": email, "password": passphrase}).status_code == 200
    # Length counts characters, not bytes: 100 two-byte letters (200 bytes) are fine.
    assert api.post("/auth/register", json={"email": unique_email(), "password": "ż" * 100}).status_code == 201


def test_password_equal_to_email_is_refused(api):
    email = "Name.Surname1@example.com"
    for password in ("name.surname1", "name.surname1@example.com"):
        response = api.post("/auth/register", json={"email": email, "password": password})
        assert response.status_code == 422
        assert "email" in error_fields(response.json())[0]["msg"]


def test_the_whole_password_is_verified_however_long(api):
    """bcrypt ignored every byte after the 72nd: a password that differs only in its tail logged in."""
    email = unique_email()
    head = "a-long-passphrase-" * 5  # 90 characters, past bcrypt's 72 bytes
    register(api, email, head + "tail-one")
    assert api.post("/auth/login", json={"email": email, "password": head + "tail-two"}).status_code == 401
    assert api.post("/auth/login", json={"email": email, "password": head + "tail-one"}).status_code == 200


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("Zażółć gęślą jaźń", unicodedata.normalize("NFD", "Zażółć gęślą jaźń")),  # composed / decomposed
        ("my passphrase 2024", "ｍｙ ｐａｓｓｐｈｒａｓｅ ２０２４"),  # ASCII / full-width
    ],
)
def test_a_password_logs_in_in_another_unicode_form(api, registered, typed):
    assert registered != typed
    email = unique_email()
    register(api, email, registered)
    assert api.post("/auth/login", json={"email": email, "password": typed}).status_code == 200


def test_a_bcrypt_hash_is_replaced_by_argon2id_at_login(api):
    from narraforge.data.models import UserItem

    email = unique_email()
    user_id = register(api, email)["user"]["id"]
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    UserItem(*UserItem.key(user_id)).update(actions=[UserItem.password_hash.set(legacy)])

    assert api.post("/auth/login", json={"email": email, "password": "Wrong-passw0rd-x"}).status_code == 401
    assert UserItem.get(*UserItem.key(user_id), consistent_read=True).password_hash == legacy
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    stored = UserItem.get(*UserItem.key(user_id), consistent_read=True).password_hash
    assert stored.startswith("$argon2id$")
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert api.post("/auth/login", json={"email": email, "password": "Wrong-passw0rd-x"}).status_code == 401


def test_login_with_wrong_password_or_unknown_email_is_the_same_401(api):
    email = unique_email()
    register(api, email)
    wrong = api.post("/auth/login", json={"email": email, "password": "Wrong-passw0rd"})
    unknown = api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_me_requires_a_token_and_returns_the_user(api):
    assert api.get("/auth/me").status_code == 401
    auth = register(api)
    me = api.as_user(auth["access_token"]).get("/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == auth["user"]["id"]


def test_refresh_rotates_and_reuse_revokes_the_family(api):
    auth = register(api)
    first = api.post("/auth/refresh", json={"refresh_token": auth["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != auth["refresh_token"]
    assert api.as_user(rotated["access_token"]).get("/auth/me").status_code == 200

    reuse = api.post("/auth/refresh", json={"refresh_token": auth["refresh_token"]})
    assert reuse.status_code == 401

    # The whole family is gone: the newest refresh token and its access token stop working.
    assert api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert api.as_user(rotated["access_token"]).get("/auth/me").status_code == 401


def test_logout_revokes_the_login_but_not_other_logins(api):
    email = unique_email()
    first = register(api, email)
    second = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()

    out = api.as_user(first["access_token"]).post("/auth/logout")
    assert out.status_code == 204
    assert api.as_user(first["access_token"]).get("/auth/me").status_code == 401
    assert api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert api.as_user(second["access_token"]).get("/auth/me").status_code == 200


def _forge(claims: dict, key: str = "test-signing-key-0123456789abcdef0123456789", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_forged_and_expired_tokens_are_401(api):
    auth = register(api)
    claims = jwt.decode(auth["access_token"], options={"verify_signature": False})
    expired = dict(claims, exp=int(time.time()) - 10, iat=int(time.time()) - 100)
    header, payload, signature = auth["access_token"].split(".")
    tampered_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"typ":"access"', b'"typ":"access" ')
    ).decode()
    cases = {
        "expired": _forge(expired),
        "wrong key": _forge(claims, key="another-key-of-sufficient-length-000000"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "refresh token as access": auth["refresh_token"],
        "wrong type": _forge(dict(claims, typ="refresh")),
        "garbage": "not-a-token",
    }
    for name, token in cases.items():
        response = api.as_user(token).get("/auth/me")
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name


def test_oauth_providers_answer_503_until_configured(api):
    for provider in ("google", "github"):
        response = api.get(f"/auth/oauth/{provider}")
        assert response.status_code == 503
        assert "not configured" in response.json()["detail"]
    assert api.get("/auth/oauth/myspace").status_code == 422


def test_malformed_json_and_wrong_types_are_422_not_500(api):
    bad_json = api.post("/auth/register", content=b'{"email": ', headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    wrong_type = api.post("/auth/login", json={"email": ["a"], "password": 5})
    assert wrong_type.status_code == 422
    assert {tuple(d["loc"]) for d in wrong_type.json()["errors"]} >= {("body", "email")}


def test_mass_assignment_on_register_is_ignored(api):
    response = api.post("/auth/register", json={
        "email": unique_email(), "password": PASSWORD, "subscription_tier": "ENTERPRISE",
        "monthly_generation_limit": 999, "id": "chosen",
    })
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["subscription_tier"] == "FREE"
    assert user["monthly_generation_limit"] == 5
    assert user["id"] != "chosen"
