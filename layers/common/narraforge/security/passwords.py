"""Password rules (DESIGN §9) and bcrypt hashing."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import bcrypt

from narraforge.config import get_settings

MIN_LENGTH = 8
MAX_LENGTH = 128
BCRYPT_MAX_BYTES = 72


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("narraforge.security").joinpath("common_passwords.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Every rule the password breaks, in words a user can act on (empty when it is acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        problems.append(f"must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8")
    if not any(ch.isalpha() for ch in password):
        problems.append("must contain a letter")
    if not any(ch.isdigit() for ch in password):
        problems.append("must contain a digit")
    folded = password.lower()
    if folded in _common_passwords():
        problems.append("is too common")
    if email:
        address = email.strip().lower()
        if folded == address or folded == address.split("@", 1)[0]:
            problems.append("must not be your email address")
    return problems


def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the user exists, so timing does not reveal registered emails."""
    candidate = password.encode("utf-8")[:BCRYPT_MAX_BYTES]
    if not password_hash:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    return bcrypt.checkpw(candidate, password_hash.encode("ascii"))


@lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    return bcrypt.hashpw(b"narraforge-dummy-password-1", bcrypt.gensalt(rounds=get_settings().bcrypt_rounds))
