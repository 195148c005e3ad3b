"""Passwords, tokens and cursors, without AWS."""

from __future__ import annotations

import time

import jwt
import pytest
from narraforge.errors import InvalidInput, Unauthorized
from narraforge.security import cursors, passwords, tokens


def test_password_rules():
    assert passwords.password_problems("Correct-h0rse") == []
    assert "must contain a digit" in passwords.password_problems("NoDigitsHere")
    assert "must contain a letter" in passwords.password_problems("12345678901")
    assert "is too common" in passwords.password_problems("Password123")
    assert "must not be your email address" in passwords.password_problems("jan12345", "Jan12345@example.com")
    assert any("bytes" in p for p in passwords.password_problems("ż" * 40 + "1"))
    assert any("at most 128" in p for p in passwords.password_problems("a1" * 65))


def test_hash_and_verify():
    hashed = passwords.hash_password("Correct-h0rse")
    assert hashed.startswith("$2b$04$")  # BCRYPT_ROUNDS=4 in tests
    assert passwords.verify_password("Correct-h0rse", hashed)
    assert not passwords.verify_password("correct-h0rse", hashed)
    assert not passwords.verify_password("anything", None)


def test_access_token_round_trip_and_claims():
    token = tokens.create_access_token("U1", "F1")
    claims = tokens.decode_access_token(token)
    assert (claims.user_id, claims.session_family) == ("U1", "F1")
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["typ"] == "access" and raw["iss"] == "narraforge" and raw["aud"] == "narraforge-api"
    assert raw["exp"] - raw["iat"] == 1800
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_tokens_with_other_algorithms_audiences_or_expiry_are_rejected():
    raw = jwt.decode(tokens.create_access_token("U1", "F1"), options={"verify_signature": False})
    key = "test-signing-key-0123456789abcdef0123456789"
    bad = [
        jwt.encode(raw, key, algorithm="HS512"),
        jwt.encode(dict(raw, aud="someone-else"), key, algorithm="HS256"),
        jwt.encode(dict(raw, iss="someone-else"), key, algorithm="HS256"),
        jwt.encode(dict(raw, exp=int(time.time()) - 1), key, algorithm="HS256"),
        jwt.encode({k: v for k, v in raw.items() if k != "jti"}, key, algorithm="HS256"),
    ]
    for token in bad:
        with pytest.raises(Unauthorized):
            tokens.decode_access_token(token)


def test_refresh_tokens_are_random_and_hashed():
    a, b = tokens.new_refresh_token(), tokens.new_refresh_token()
    assert a != b and len(a) >= 48
    assert tokens.hash_refresh_token(a) == tokens.hash_refresh_token(a)
    assert len(tokens.hash_refresh_token(a)) == 64


def test_cursor_round_trip_and_tamper_detection():
    position = {"pk": {"S": "USER#1"}, "sk": {"S": "PROJECT#2"}}
    cursor = cursors.encode_cursor(position, "projects:1")
    assert cursors.decode_cursor(cursor, "projects:1") == position
    with pytest.raises(InvalidInput):
        cursors.decode_cursor(cursor, "projects:2")
    with pytest.raises(InvalidInput):
        cursors.decode_cursor(cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "projects:1")
    for junk in ("", "!!!", "a"):
        with pytest.raises(InvalidInput):
            cursors.decode_cursor(junk, "projects:1")
