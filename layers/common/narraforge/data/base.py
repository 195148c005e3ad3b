"""The PynamoDB base of every entity: one table, a discriminator, one shared connection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

from pynamodb.attributes import (
    DiscriminatorAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from narraforge.config import get_settings

_shared_connection: TableConnection | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Gsi1(GlobalSecondaryIndex):
    """Parent → children by time (project → jobs, narratives)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex):
    """Facet lists (jobs by status, narratives by genre)."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


def applied(write: Callable[[], object]) -> bool:
    """Runs one conditional write: False when its condition did not hold (the item is gone, taken or not as
    the write expected), any other failure raised."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


class BaseItem(Model):
    """Every item of the table. The table name is read from settings at first use, not at import."""

    class Meta:
        table_name = "narraforge"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute(attr_name="entity")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()

    @classmethod
    def find(cls, hash_key: str, range_key: str, *, consistent_read: bool = False) -> Self | None:
        """The item at that key, or None: what every repository read needs, where `get` raises DoesNotExist."""
        try:
            return cls.get(hash_key, range_key, consistent_read=consistent_read)
        except DoesNotExist:
            return None

    @classmethod
    def tag(cls) -> Action:
        """The update action that stamps the discriminator: counters created by an ADD need it too."""
        return cls.entity.set(cls)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """All entity classes share one connection (and so one botocore client and pool)."""
        global _shared_connection
        settings = get_settings()
        if _shared_connection is None or _shared_connection.table_name != settings.table_name:
            BaseItem.Meta.table_name = settings.table_name
            BaseItem.Meta.region = settings.aws_region
            BaseItem._connection = None
            _shared_connection = super(BaseItem, BaseItem)._get_connection()
        return _shared_connection


def reset_connection() -> None:
    """Drop the shared connection (tests and the local stack switch endpoints)."""
    global _shared_connection
    _shared_connection = None
    BaseItem._connection = None
