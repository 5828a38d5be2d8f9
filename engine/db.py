"""Database connection: one SQLAlchemy engine and session factory per Carepath, tuned per backend, and the
unit of work every engine operation runs in."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Insert, Table, Update, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import PathwayFailed, StaleInstance
from .schema_base import Base


def make_engine(url: str) -> Engine:
    """The connection pool. `hide_parameters`: a statement's values (names, answers, payloads) never appear in
    an error's text, so no traceback or log line can carry them."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        _sqlite_tuning(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def _sqlite_tuning(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions late and cannot take the write lock up
    # front; a step that reads and then writes could then fail with "database is locked" instead of
    # waiting. Take the transaction ourselves with BEGIN IMMEDIATE so writers queue (busy timeout).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # a DB-API connection (sqlite3's)
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine | Connection) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def unit_of_work(db: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit at the end, roll back on any error.

    Losing a race to another step (the optimistic version guard, a unique row written at the same moment,
    a deadlock) becomes StaleInstance: the caller is told plainly that nothing of theirs was saved."""
    try:
        with db.begin() as session:
            yield session
    except StaleDataError:
        raise StaleInstance(
            "Someone else changed this pathway at the same moment; nothing of yours was saved. Reload and try again."
        ) from None
    except IntegrityError:
        # A unique row written by a simultaneous step (same task, same job): the other one won.
        raise StaleInstance("A simultaneous change got there first; nothing of yours was saved.") from None
    except OperationalError as exc:
        text = str(exc).lower()
        if "deadlock" in text or "could not serialize" in text:
            raise StaleInstance("A simultaneous change got in the way; nothing was saved. Try again.") from None
        raise
    except StatementError as exc:
        if isinstance(exc.orig, (TypeError, ValueError)):
            # Task data that JSON cannot hold (a set, an object) written by a pathway script.
            raise PathwayFailed(
                "A pathway script stored a value that cannot be saved (only text, numbers, "
                "true/false, lists and objects can be); nothing was saved."
            ) from None
        raise


def rows_updated(session: Session, statement: Update) -> int:
    """How many rows an UPDATE changed. (`Session.execute` is typed as returning a plain Result, which has no
    rowcount; an UPDATE's result is a CursorResult.)"""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


_Row = TypeVar("_Row", bound=Base)


def inserted(session: Session, row: _Row) -> _Row:
    """Insert a new row as one Core statement that reads back its id, and give the session the object as
    persistent, as if it had been loaded: no flush, and none of the unit of work's bookkeeping for it.

    For the rows a step creates and then works with (a case, a pathway instance). Every column must be set on
    the object (`None` where empty): the session treats a column the object lacks as not loaded, and would
    read it back from the database when asked."""
    table = cast(Table, row.__table__)
    (key,) = table.primary_key.columns
    values = {c.name: getattr(row, c.key) for c in table.columns if c is not key}
    setattr(row, key.key, session.connection().execute(_insert_returning_id(table), values).scalar_one())
    make_transient_to_detached(row)
    session.add(row)
    return row


@functools.cache
def _insert_returning_id(table: Table) -> Insert:
    (key,) = table.primary_key.columns
    return insert(table).returning(key)
