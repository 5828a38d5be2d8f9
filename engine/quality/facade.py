"""The quality part of the `Carepath` facade: measures, trend, drill-downs, per-case adherence and the heat
map. Each public method is one unit of work; only quality staff and supervisors see measures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor
from ..clock import Clock
from ..paging import Page, SortKey, keyset_page
from . import compute
from .compute import NO_FILTERS, Filters, MeasureResult, Period
from .heatmap import HeatMap, pathway_heatmap

_T = TypeVar("_T")

# Who reads measures and their drill-downs (the contract): quality staff and supervisors.
MEASURE_READERS = frozenset({"quality", "supervisor"})


class DrillRow(TypedDict):
    case_id: int
    client_id: int
    met: bool
    start: str
    due: str
    done: str | None
    pathway: str
    late_seconds: int | None  # how late it was done (or is, if not done); None when met


def _drill_row(row: Any, now: datetime) -> DrillRow:
    late = None if row.met else int(((row.done or now) - row.due).total_seconds())
    return {
        "case_id": row.case_id,
        "client_id": row.client_id,
        "met": bool(row.met),
        "start": row.start.isoformat(),
        "due": row.due.isoformat(),
        "done": row.done.isoformat() if row.done else None,
        "pathway": row.pathway,
        "late_seconds": late,
    }


class QualityFacade:
    """Mixed into Carepath, which provides `_do` (one transaction) and `clock`."""

    if TYPE_CHECKING:

        def _do(self, work: Callable[[Session, datetime], _T], now: datetime | None = None) -> _T: ...

    clock: Clock

    def quality_period(self, first: str | None, last: str | None) -> Period:
        """The period asked for (YYYY-MM-DD, UTC, inclusive). Raises BadRequest."""
        return Period.parse(first, last, self.clock.now().date())

    def quality_measures(self, actor: Actor, period: Period, filters: Filters = NO_FILTERS) -> list[MeasureResult]:
        """Every measure's numerator, denominator and rate. Raises NotAllowed."""
        actor.require(MEASURE_READERS, "see quality measures")
        return self._do(lambda s, now: compute.summary(s, now, period, filters))

    def quality_trend(
        self, actor: Actor, period: Period, filters: Filters = NO_FILTERS
    ) -> dict[str, list[dict[str, Any]]]:
        actor.require(MEASURE_READERS, "see quality measures")
        return self._do(lambda s, now: compute.trend(s, now, period, filters))

    def quality_cases(
        self,
        actor: Actor,
        measure_id: str,
        period: Period,
        filters: Filters = NO_FILTERS,
        limit: int = 50,
        cursor: str | None = None,
        channel_detail: str = "page",
    ) -> Page[DrillRow]:
        """One page of the cases in a measure's denominator, oldest start first. It lists clients, so every
        client on the page is recorded in the audit log as read by the caller. Raises NotAllowed, NotFound,
        BadRequest (a bad cursor)."""
        actor.require(MEASURE_READERS, "see quality measures")

        def work(session: Session, now: datetime) -> Page[DrillRow]:
            sub = compute.rows(session, now, measure_id, period, filters).order_by(None).subquery()
            page = keyset_page(
                session,
                select(sub),
                [SortKey(sub.c.start), SortKey(sub.c.ref)],
                limit,
                cursor,
                key_of=lambda r: (r.start, r.ref),
                view=lambda r: r,
            )
            for client_id in sorted({r.client_id for r in page.items}):
                audit.record(
                    session,
                    actor,
                    "read",
                    "quality_cases",
                    measure_id,
                    client_id,
                    now,
                    detail={
                        "measure": measure_id,
                        "from": period.first.isoformat(),
                        "to": period.last.isoformat(),
                        "as": channel_detail,
                    },
                )
            return Page([_drill_row(r, now) for r in page.items], page.next_cursor)

        return self._do(work)

    def pathway_heatmap(self, actor: Actor, pathway: str, period: Period) -> HeatMap:
        """Per element of the pathway's current diagram: reached, median wait, share late. Counts only, no
        client: not audited as a record read. Raises NotAllowed, NotFound."""
        actor.require(MEASURE_READERS, "see quality measures")
        return self._do(lambda s, now: pathway_heatmap(s, pathway, period))
