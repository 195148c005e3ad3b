"""Passwords, tokens and cursors, without AWS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import unicodedata

import bcrypt
import jwt
import pytest
from narraforge.config import reset_settings
from narraforge.errors import InvalidInput, Unauthorized
from narraforge.security import cursors, passwords, tokens


def test_password_rules_are_length_and_blocklist_without_composition():
    assert passwords.password_problems("Correct-h0rse-battery") == []
    assert passwords.password_problems("violet kettle harbour") == []  # all lowercase, no digit: accepted
    assert "must be at least 12 characters" in passwords.password_problems("Xq7-vb9_Lm2")
    assert passwords.password_problems("Xq7-vb9_Lm2k") == []
    assert any("common or breached" in p for p in passwords.password_problems("1qaz2wsx3edc"))
    assert any("common or breached" in p for p in passwords.password_problems("1QAZ2WSX3EDC"))  # case-folded
    assert "must not be your email address" in passwords.password_problems(
        "jan.kowalski-1", "Jan.Kowalski-1@example.com")
    assert "must not be your email address" in passwords.password_problems(
        "jan.kowalski-1@example.com", "Jan.Kowalski-1@example.com")
    assert passwords.password_problems("ż" * 100) == []  # 200 bytes in UTF-8: bytes do not matter
    assert any("at most 1024" in p for p in passwords.password_problems("a" * 1025))


def test_length_and_blocklist_apply_to_the_nfkc_form():
    # Full-width letters normalise to ASCII: "１ｑａｚ２ｗｓｘ３ｅｄｃ" is the blocklisted "1qaz2wsx3edc".
    assert any("common or breached" in p for p in passwords.password_problems("１ｑａｚ２ｗｓｘ３ｅｄｃ"))
    # U+FDFA is one character that NFKC expands to 18: long enough once normalised.
    assert passwords.password_problems("\ufdfa") == []


def test_blocklist_has_at_least_100k_entries_and_refuses_every_one_of_them():
    entries = passwords.blocklist_path().read_text("utf-8", errors="replace").splitlines()
    assert len(entries) >= 100_000
    sample = [entry for entry in entries[::997] if entry.strip()]
    assert len(sample) > 1000
    accepted = [entry for entry in sample if not passwords.password_problems(entry)]
    assert accepted == []


def test_the_blocklist_is_not_loaded_at_import():
    code = ("import narraforge.security.passwords as p, narraforge.schemas.auth\n"
            "assert p._blocklist.cache_info().currsize == 0\n"
            "p.password_problems('Correct-h0rse-battery')\n"
            "assert p._blocklist.cache_info().currsize == 1\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr


def test_argon2id_hash_and_verify_the_whole_password():
    hashed = passwords.hash_password("Correct-h0rse-battery")
    assert hashed.startswith("$argon2id$v=19$m=64,t=1,p=1$")  # ARGON2_* of the test environment
    assert passwords.verify_password("Correct-h0rse-battery", hashed)
    assert not passwords.verify_password("correct-h0rse-battery", hashed)
    assert not passwords.verify_password("anything", None)
    assert not passwords.needs_rehash(hashed)
    long = "x" * 80
    long_hash = passwords.hash_password(long + "-one")
    assert passwords.verify_password(long + "-one", long_hash)
    assert not passwords.verify_password(long + "-two", long_hash)  # bytes after 72 count


def test_nfkc_forms_of_one_password_verify_against_each_other():
    composed, decomposed = "Zażółć gęślą jaźń", unicodedata.normalize("NFD", "Zażółć gęślą jaźń")
    assert composed != decomposed
    assert passwords.verify_password(decomposed, passwords.hash_password(composed))
    full_width = "ｐａｓｓｐｈｒａｓｅ ｏｆ ｍｉｎｅ"
    assert passwords.verify_password(full_width, passwords.hash_password("passphrase of mine"))


def test_legacy_bcrypt_hashes_verify_and_need_a_rehash():
    legacy = bcrypt.hashpw(b"Correct-h0rse-battery", bcrypt.gensalt(rounds=4)).decode()
    assert passwords.verify_password("Correct-h0rse-battery", legacy)
    assert not passwords.verify_password("Correct-h0rse-batterY", legacy)
    assert passwords.needs_rehash(legacy)
    # bcrypt sees 72 bytes only; a longer candidate was never a registered password and must not match.
    prefix = b"y" * 72
    truncated = bcrypt.hashpw(prefix, bcrypt.gensalt(rounds=4)).decode()
    assert passwords.verify_password(prefix.decode(), truncated)
    assert not passwords.verify_password(prefix.decode() + "tail", truncated)


def test_changed_argon2_parameters_need_a_rehash(monkeypatch):
    hashed = passwords.hash_password("Correct-h0rse-battery")
    monkeypatch.setenv("ARGON2_TIME_COST", "2")
    reset_settings()
    try:
        assert passwords.needs_rehash(hashed)
        assert passwords.verify_password("Correct-h0rse-battery", hashed)
    finally:
        monkeypatch.undo()
        reset_settings()


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
