"""Keyset paging: every list the engine serves is read one page at a time, in a stable order, by index.

Offset paging (`OFFSET 5000`) makes the database walk and throw away every earlier row, and it shifts when
rows are inserted between two page reads (a task appears twice or never). A keyset cursor instead carries
the sort key of the last row shown; the next page is "rows after that key", which an index answers
directly and which new rows cannot disturb: a row inserted before the cursor is simply not on later pages,
one inserted after it is shown once, in its place.

The cursor is opaque to callers (URL-safe base64 of the last row's key). It is not signed: it only says
where to resume, and every page is read through the same access filter, so a forged cursor can at most
skip rows the caller may see anyway. Each sort expression must be NOT NULL (wrap nullable columns, e.g.
`coalesce(due_at, <far future>)`) and the last one must be unique (the primary key), so the order is total.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import QueryableAttribute, Session

from .errors import BadRequest

T = TypeVar("T")
# A SELECT of any columns (SQLAlchemy types a Select by the tuple of the columns it returns).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: the SQL expression and its direction."""

    expression: ColumnElement[Any] | QueryableAttribute[Any]
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def page_limit(raw: str | int | None) -> int:
    """`?limit=`: default 50, at most 500; anything else is the caller's mistake, said plainly."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return limit


def _encode_value(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return ["v", value]
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _decode_value(tagged: Any) -> Any:
    if not (isinstance(tagged, list) and len(tagged) == 2 and tagged[0] in ("dt", "d", "v")):
        raise ValueError("not a cursor value")
    tag, value = tagged
    if tag == "dt":
        return datetime.fromisoformat(value)
    if tag == "d":
        return date.fromisoformat(value)
    if isinstance(value, (list, dict)):
        raise ValueError("not a cursor value")
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> tuple[Any, ...]:
    """The sort key a cursor carries; a cursor that was not made here (or for another list) is a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return tuple(_decode_value(v) for v in values)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("This page link is not valid any more; start again from the first page.") from None


def _after(order: Sequence[SortKey], key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `key` in `order`: (a > x) or (a = x and b > y) or ..., each column in its direction.
    Spelled out rather than as a row-value comparison so that mixed directions work and both SQLite and
    PostgreSQL use the leading index column."""
    clauses = []
    for i, sort in enumerate(order):
        equal_before = [order[j].expression == key[j] for j in range(i)]
        step = sort.expression < key[i] if sort.descending else sort.expression > key[i]
        clauses.append(and_(*equal_before, step))
    return or_(*clauses)


def keyset_page(
    session: Session,
    stmt: AnySelect,
    order: Sequence[SortKey],
    limit: int,
    cursor: str | None,
    key_of: Callable[[Any], Sequence[Any]],
    view: Callable[[Any], T],
) -> Page[T]:
    """Run `stmt` for one page: ordered by `order`, resuming after `cursor`, `limit` rows at most.

    `key_of(row)` gives a row's values for `order` (same width, same order); `view(row)` turns a row into
    what the caller returns. One extra row is read to know whether a next page exists."""
    if cursor:
        stmt = stmt.where(_after(order, decode_cursor(cursor, len(order))))
    ordering = [s.expression.desc() if s.descending else s.expression.asc() for s in order]
    rows = session.execute(stmt.order_by(*ordering).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key_of(rows[-1])) if more and rows else None
    return Page([view(row) for row in rows], next_cursor)
