"""Helpers around DynamoDB transactions: one connection, and reading why a transaction was cancelled."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError

from narraforge.data.base import BaseItem


def connection() -> Connection:
    return BaseItem._get_connection().connection


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Indexes of the transaction's items whose condition failed."""
    reasons = error.cancellation_reasons or []
    return [i for i, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"]
