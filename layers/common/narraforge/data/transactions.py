"""DynamoDB transactions with named operations.

PynamoDB sends a transaction's condition checks, then deletes, then puts, then updates — not in call
order — so a cancellation reason's index only means something once mapped back through that order.
`Transaction` does the mapping: `failed(exc)` names the operations whose condition failed.

DynamoDB also cancels a transaction that touches an item another transaction is writing at that moment
(`TransactionConflict`): the parallel segments of one job bill and checkpoint its head at once. Nothing was
written, so `Transaction` sends it again, a few times, after a short random pause (moto never conflicts;
a test injects the conflict)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from narraforge.data.base import BaseItem


def connection() -> Connection:
    return BaseItem._get_connection().connection


CONFLICT_ATTEMPTS = 6


def only_conflicts(error: TransactWriteError) -> bool:
    """Cancelled for a concurrent transaction only (no condition failed): safe to send again."""
    codes = {reason.code for reason in error.cancellation_reasons or [] if reason}
    return codes == {"TransactionConflict"}


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Indexes (in PynamoDB's sending order) of the operations whose condition failed."""
    reasons = error.cancellation_reasons or []
    return [i for i, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"]


class Transaction:
    def __init__(self) -> None:
        self._tx = TransactWrite(connection=connection())
        self._names: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}

    def check(self, name: str, model_cls: type[Model], key: tuple[str, str], condition: Condition) -> None:
        """A condition on an item the transaction does not write (the parent it writes under, say)."""
        self._names["check"].append(name)
        self._tx.condition_check(model_cls, *key, condition=condition)

    def delete(self, name: str, model: Model, condition: Condition | None = None) -> None:
        self._names["delete"].append(name)
        self._tx.delete(model, condition=condition)

    def save(self, name: str, model: Model, condition: Condition | None = None) -> None:
        self._names["put"].append(name)
        self._tx.save(model, condition=condition)

    def update(self, name: str, model: Model, actions: list[Action], condition: Condition | None = None) -> None:
        self._names["update"].append(name)
        self._tx.update(model, actions=actions, condition=condition)

    def failed(self, error: TransactWriteError) -> set[str]:
        order = self._names["check"] + self._names["delete"] + self._names["put"] + self._names["update"]
        return {order[i] for i in failed_conditions(error) if i < len(order)}

    def __enter__(self) -> Transaction:
        self._tx.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:
        if exc_type is not None:
            return self._tx.__exit__(exc_type, exc, tb)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return self._tx.__exit__(None, None, None)
            except TransactWriteError as error:
                if attempt == CONFLICT_ATTEMPTS - 1 or not only_conflicts(error):
                    raise
                time.sleep(random.uniform(0, 0.025 * 2**attempt))  # full jitter
        return None


def delete_all(items: Iterable[Model]) -> None:
    """Deletes the items in batches (BatchWriteItem, no conditions): what hangs under a deleted parent."""
    with BaseItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
