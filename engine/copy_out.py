"""Streaming a query's rows out of PostgreSQL with `COPY … TO STDOUT` (psycopg 3): the exports' fast path.

PostgreSQL formats the rows itself, many times faster than Python can; they arrive a row at a time and are
handed on in chunks of whole rows, so a chunk never splits a character or an escape sequence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


def window(since: datetime | None, before: datetime | None) -> tuple[str, list[Any]]:
    """The WHERE clause (empty when neither is given) and its parameters for events with since <= at < before."""
    where, params = [], []
    if since is not None:
        where.append("at >= %s")
        params.append(since)
    if before is not None:
        where.append("at < %s")
        params.append(before)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def stream(session: Session, copy_statement: str, params: list[Any], chunk: int) -> Iterator[str]:
    """The text `copy_statement` (a `COPY (…) TO STDOUT …`) writes, in chunks of about `chunk` bytes."""
    # psycopg 3. (A checked-out connection always has its DB-API connection; the pool types it as optional.)
    cursor: Any = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(copy_statement, params) as copy:
        pending: list[bytes] = []
        size = 0
        for data in copy:
            pending.append(bytes(data))
            size += len(data)
            if size >= chunk:
                yield b"".join(pending).decode("utf-8")
                pending, size = [], 0
        if pending:
            yield b"".join(pending).decode("utf-8")
