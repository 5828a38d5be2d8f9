"""Counting the measures for a period: numerator, denominator and rate, the trend by month, and the rows
behind each number (the drill-down). One SQL statement per measure; rows are never loaded to be counted.

A row is in a period when its start falls in [from, to] (UTC dates, inclusive). A row is pending, and left
out, while its deadline has not passed and it is not done. It is met when done at or before its deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from ..errors import BadRequest
from ..models import Case, Client, User
from ..paging import AnySelect
from .measures import MEASURES, Measure, measure
from .sqltime import month_of

DEFAULT_DAYS = 90  # the period shown when none is asked for: the last 90 days, today included
MAX_DAYS = 366 * 10


class MeasureResult(TypedDict):
    id: str
    title: str
    numerator: int
    denominator: int
    rate: float | None


class EpisodeRow(TypedDict):
    ref: str
    case_id: int
    client_id: int
    pathway: str
    met: bool
    start: datetime
    due: datetime
    done: datetime | None


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=UTC)

    @property
    def before(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=UTC)

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date) -> Period:
        """`from` and `to` as YYYY-MM-DD (either may be missing: to defaults to today, from to 90 days
        before `to`). Raises BadRequest for a malformed date or a period that ends before it starts."""

        def day(text: str | None, name: str) -> date | None:
            if text is None or text == "":
                return None
            try:
                return date.fromisoformat(text.strip()) if len(text.strip()) == 10 else _bad(name)
            except ValueError:
                return _bad(name)

        end = day(last, "to") or today
        start = day(first, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise BadRequest("The period's 'from' date is after its 'to' date.")
        if (end - start).days > MAX_DAYS:
            raise BadRequest("The period is longer than ten years.")
        return cls(start, end)


def _bad(name: str) -> date:
    raise BadRequest(f"'{name}' must be a date written YYYY-MM-DD.")


@dataclass(frozen=True)
class Filters:
    """Narrow the counts to one pathway, one case manager (username) or one current risk level."""

    pathway: str | None = None
    case_manager: str | None = None
    risk_level: str | None = None


NO_FILTERS = Filters()  # every case: the default (a module constant, so no default argument is built per call)


def _scoped(
    m: Measure,
    now: datetime | None,
    period: Period | None,
    filters: Filters,
    case_id: int | BindParameter[int] | None = None,
    pending: bool = False,
) -> AnySelect:
    ep = m.episodes().subquery()
    rows = select(ep)
    if period is not None:
        rows = rows.where(ep.c.start >= period.since, ep.c.start < period.before)
    if case_id is not None:
        rows = rows.where(ep.c.case_id == case_id)
    if filters.pathway:
        rows = rows.where(ep.c.pathway == filters.pathway)
    if filters.risk_level:
        rows = rows.where(ep.c.case_id.in_(select(Case.id).where(Case.risk_level == filters.risk_level)))
    if filters.case_manager:
        rows = rows.where(
            ep.c.client_id.in_(
                select(Client.id)
                .join(User, User.id == Client.case_manager_id)
                .where(User.username == filters.case_manager)
            )
        )
    # OFFSET 0 keeps the database from merging this select into the ones around it, which would compute
    # each row's `done` (a subquery) once per mention: here, then for met, then for pending.
    fenced = rows.offset(0).subquery()
    stmt = select(fenced)
    if not pending:
        assert now is not None, "leaving pending rows out needs the time they are pending at"
        stmt = stmt.where(or_(fenced.c.done.is_not(None), fenced.c.due < now))
    return stmt


def case_rows(m: Measure, case_id: int | BindParameter[int]) -> AnySelect:
    """A measure's rows for one case (`case_id`: a number or a bind parameter), pending ones included, in
    no order: the same rows as `rows(..., case_id=..., pending=True)`, built without a session or a time so
    that a caller may build it once and run it for every case."""
    return _row_columns(_scoped(m, None, None, NO_FILTERS, case_id, pending=True).subquery())


def _analytic(session: Session) -> None:
    """Counting over millions of rows is one pass each: PostgreSQL's JIT compiler costs more (seconds) than it
    saves on these statements, so it is off for the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _met(sub: Any) -> Any:
    return and_(sub.c.done.is_not(None), sub.c.done <= sub.c.due)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def summary(session: Session, now: datetime, period: Period, filters: Filters = Filters()) -> list[MeasureResult]:
    """Every measure's numerator, denominator and rate for the period."""
    _analytic(session)
    results: list[MeasureResult] = []
    for m in MEASURES:
        sub = _scoped(m, now, period, filters).subquery()
        numerator, denominator = session.execute(
            select(func.coalesce(func.sum(sql_case((_met(sub), 1), else_=0)), 0), func.count())
        ).one()
        results.append(
            {
                "id": m.id,
                "title": m.title,
                "numerator": int(numerator),
                "denominator": int(denominator),
                "rate": _rate(int(numerator), int(denominator)),
            }
        )
    return results


def trend(
    session: Session, now: datetime, period: Period, filters: Filters = Filters()
) -> dict[str, list[dict[str, Any]]]:
    """Per measure, per UTC month of the period (oldest first): numerator, denominator and rate."""
    _analytic(session)
    months = _months(period)
    out: dict[str, list[dict[str, Any]]] = {}
    for m in MEASURES:
        sub = _scoped(m, now, period, filters).subquery()
        bucket = month_of(sub.c.start).label("month")
        counted = {
            row.month: (int(row.numerator), int(row.denominator))
            for row in session.execute(
                select(
                    bucket,
                    func.sum(sql_case((_met(sub), 1), else_=0)).label("numerator"),
                    func.count().label("denominator"),
                ).group_by(bucket)
            )
        }
        out[m.id] = [
            {
                "month": month,
                "numerator": counted.get(month, (0, 0))[0],
                "denominator": counted.get(month, (0, 0))[1],
                "rate": _rate(*counted.get(month, (0, 0))),
            }
            for month in months
        ]
    return out


def _months(period: Period) -> list[str]:
    months, cursor = [], period.first.replace(day=1)
    while cursor <= period.last:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def rows(
    session: Session,
    now: datetime,
    measure_id: str,
    period: Period | None,
    filters: Filters = Filters(),
    case_id: int | None = None,
    pending: bool = False,
) -> AnySelect:
    """The select of a measure's rows in the denominator (with `pending`, the pending ones too), oldest
    start first. Raises NotFound for an unknown measure."""
    _analytic(session)
    sub = _scoped(measure(measure_id), now, period, filters, case_id, pending).subquery()
    return _row_columns(sub).order_by(sub.c.start, sub.c.ref)


def _row_columns(sub: Any) -> AnySelect:
    """A drill-down row: the episode's columns and whether it was met."""
    return select(
        sub.c.ref,
        sub.c.case_id,
        sub.c.client_id,
        sub.c.pathway,
        sub.c.start,
        sub.c.due,
        sub.c.done,
        _met(sub).label("met"),
    )


def episode_row(row: Any) -> EpisodeRow:
    return {
        "ref": row.ref,
        "case_id": row.case_id,
        "client_id": row.client_id,
        "pathway": row.pathway,
        "met": bool(row.met),
        "start": row.start,
        "due": row.due,
        "done": row.done,
    }
