"""DynamoDB transactions with named operations.

PynamoDB sends a transaction's condition checks, then deletes, then puts, then updates — not in call
order — so a cancellation reason's index only means something once mapped back through that order.
`Transaction` does the mapping: `failed(exc)` names the operations whose condition failed."""

from __future__ import annotations

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


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Indexes (in PynamoDB's sending order) of the operations whose condition failed."""
    reasons = error.cancellation_reasons or []
    return [i for i, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"]


class Transaction:
    def __init__(self) -> None:
        self._tx = TransactWrite(connection=connection())
        self._names: dict[str, list[str]] = {"delete": [], "put": [], "update": []}

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
        order = self._names["delete"] + self._names["put"] + self._names["update"]
        return {order[i] for i in failed_conditions(error) if i < len(order)}

    def __enter__(self) -> Transaction:
        self._tx.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:
        return self._tx.__exit__(exc_type, exc, tb)
