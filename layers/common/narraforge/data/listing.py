"""A listing as a repository hands it out: the query of one page (newest first), the count, and the key
attributes a cursor needs. `services.pagination.fetch_page` pages through it without knowing the keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.pagination import ResultIterator


@dataclass(frozen=True)
class Listing:
    query: Callable[..., ResultIterator[Any]]  # called with limit=, last_evaluated_key=, attributes_to_get=
    count: Callable[[], int]
    key_attributes: tuple[str, ...]
