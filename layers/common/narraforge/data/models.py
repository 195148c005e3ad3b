"""Entities of the single table (DESIGN §5). Keys come from `keys`; nothing here knows HTTP."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from narraforge.data import keys
from narraforge.data.base import BaseItem, utcnow


class UserItem(BaseItem, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    full_name = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    subscription_tier = UnicodeAttribute(default="FREE")
    monthly_cost_limit_usd = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.PROFILE_SK


class EmailMarkerItem(BaseItem, discriminator="email"):
    """Holds an email so a transaction can make it unique across users."""

    user_id = UnicodeAttribute()

    @classmethod
    def key(cls, email: str) -> tuple[str, str]:
        return keys.email_pk(email), keys.EMAIL_SK


class ProjectItem(BaseItem, discriminator="project"):
    project_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    world_id = UnicodeAttribute(null=True)
    default_genre = UnicodeAttribute(null=True)
    default_production_type = UnicodeAttribute(null=True)
    narrative_count = NumberAttribute(default=0)
    total_word_count = NumberAttribute(default=0)
    total_cost_usd = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, project_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.project_sk(project_id)


class SessionItem(BaseItem, discriminator="session"):
    """A refresh-token family: one login. Revoking it ends every token it ever issued."""

    family = UnicodeAttribute()
    user_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, family: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.session_sk(family)


class RefreshTokenItem(BaseItem, discriminator="refresh_token"):
    """One refresh token, stored by its SHA-256. `used` marks a rotated token: seeing it again is reuse."""

    user_id = UnicodeAttribute()
    family = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    expires_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, token_hash: str) -> tuple[str, str]:
        return keys.refresh_token_pk(token_hash), keys.REFRESH_TOKEN_SK


class UsageItem(BaseItem, discriminator="usage"):
    """Monthly usage counter: changed only by conditional ADDs (quota reservations and refunds)."""

    generations_used = NumberAttribute(default=0)
    cost_used_usd = NumberAttribute(default=0)

    @classmethod
    def key(cls, user_id: str, month: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.usage_sk(month)


class StatsItem(BaseItem, discriminator="stats"):
    """Platform counters for /health/metrics, kept with atomic ADDs next to the writes they count."""

    users = NumberAttribute(default=0)
    projects = NumberAttribute(default=0)

    @classmethod
    def key(cls) -> tuple[str, str]:
        return keys.STATS_PK, keys.STATS_SK
