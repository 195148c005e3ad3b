"""Access JWTs (HS256 pinned, short-lived) and opaque refresh tokens (stored only as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from narraforge.config import get_settings
from narraforge.data.keys import new_id
from narraforge.errors import Unauthorized
from narraforge.security.secrets import jwt_secret

ALGORITHM = "HS256"
ACCESS_TYPE = "access"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_family: str
    token_id: str
    expires_at: int


def create_access_token(user_id: str, session_family: str) -> str:
    settings = get_settings()
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "sid": session_family,
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
        "jti": new_id(),
        "typ": ACCESS_TYPE,
    }
    return jwt.encode(claims, jwt_secret(), algorithm=ALGORITHM)


def decode_access_token(token: str) -> AccessClaims:
    """Only HS256, only our issuer and audience, only access tokens; anything else is 401."""
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            jwt_secret(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "jti", "typ", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Access token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid access token") from exc
    if claims.get("typ") != ACCESS_TYPE or not isinstance(claims.get("sub"), str):
        raise Unauthorized("Invalid access token")
    return AccessClaims(
        user_id=claims["sub"],
        session_family=str(claims.get("sid", "")),
        token_id=claims["jti"],
        expires_at=int(claims["exp"]),
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
