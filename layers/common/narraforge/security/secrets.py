"""Secret lookup: the environment first (local stack, tests), then SSM through Powertools (cloud)."""

from __future__ import annotations

import hashlib

from narraforge.config import get_settings
from narraforge.errors import ServiceUnavailable

SSM_CACHE_SECONDS = 300


def jwt_secret() -> bytes:
    settings = get_settings()
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode("utf-8")
    if settings.jwt_secret_param:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_parameter(settings.jwt_secret_param, decrypt=True, max_age=SSM_CACHE_SECONDS)
        return str(value).encode("utf-8")
    raise ServiceUnavailable("Token signing key is not configured (set JWT_SECRET or JWT_SECRET_PARAM)")


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (cursors, OAuth state) derived from the JWT secret, so one secret is managed."""
    return hashlib.sha256(jwt_secret() + b"|" + purpose.encode("utf-8")).digest()
