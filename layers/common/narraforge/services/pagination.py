"""Page/page_size and signed-cursor pagination over any DynamoDB query, newest first (README, "API conventions")."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.pagination import ResultIterator

from narraforge.schemas.common import Page
from narraforge.security.cursors import decode_cursor, encode_cursor

Query = Callable[..., ResultIterator[Any]]


@dataclass(frozen=True)
class PageResult[T]:
    items: list[T]
    total: int
    page: int
    page_size: int
    next_cursor: str | None

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.page_size) if self.total else 0

    def to_page(self, convert: Callable[[T], Any]) -> Page[Any]:
        """The API's list shape, each item converted to its response model."""
        return Page[Any](items=[convert(item) for item in self.items], total=self.total, page=self.page,
                         page_size=self.page_size, total_pages=self.total_pages, next_cursor=self.next_cursor)


def fetch_page(
    query: Query,
    count: Callable[[], int],
    *,
    page: int,
    page_size: int,
    cursor: str | None,
    scope: str,
    key_attributes: Sequence[str],
) -> PageResult[Any]:
    """`query(limit=, last_evaluated_key=, attributes_to_get=)` runs the listing's query (reverse order).

    With a cursor, the page starts right after it. Without one, page N skips (N-1)*page_size items with
    a keys-only query. One extra item is read to know whether a next page exists.
    """
    start: dict[str, Any] | None = None
    if cursor:
        start = decode_cursor(cursor, scope)
    elif page > 1:
        skip = (page - 1) * page_size
        skipped = query(limit=skip, attributes_to_get=[*key_attributes, "entity"])
        if sum(1 for _ in skipped) < skip:
            return PageResult([], count(), page, page_size, None)
        start = skipped.last_evaluated_key
    rows = list(query(limit=page_size + 1, last_evaluated_key=start))
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        position = {name: {"S": getattr(last, name)} for name in key_attributes}
        next_cursor = encode_cursor(position, scope)
    return PageResult(rows, count(), page, page_size, next_cursor)
