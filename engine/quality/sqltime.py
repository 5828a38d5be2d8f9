"""Date arithmetic in SQL that works on both databases: SQLAlchemy has no portable "timestamp + interval".

SQLite keeps a timestamp as text, `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's storage format), so the sums
are written back in that same form and compare as text; PostgreSQL adds a real interval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from ..models import UTCDateTime


class plus_seconds(FunctionElement[Any]):
    """`moment + seconds` (a whole number of seconds), typed as a UTC timestamp."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, moment: ColumnElement[Any] | QueryableAttribute[Any], seconds: int) -> None:
        self.seconds = int(seconds)
        super().__init__(moment)


@compiles(plus_seconds)
def _plus_seconds_pg(element: plus_seconds, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    return f"({compiler.process(moment, **kw)} + make_interval(secs => {element.seconds}))"


@compiles(plus_seconds, "sqlite")
def _plus_seconds_sqlite(element: plus_seconds, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    # %f gives milliseconds; three zeros restore SQLAlchemy's six digits so text comparison stays exact.
    return f"(strftime('%Y-%m-%d %H:%M:%f', {compiler.process(moment, **kw)}, '{element.seconds:+d} seconds') || '000')"


class month_of(FunctionElement[str]):
    """The UTC month of a timestamp as `YYYY-MM` text (the trend chart's buckets)."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_of_pg(element: month_of, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    return f"to_char({compiler.process(moment, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    return f"substr({compiler.process(moment, **kw)}, 1, 7)"
