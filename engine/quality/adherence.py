"""Per-case adherence: each promise the pathways made for one case (every measure's rows for it, pending ones
included), with how it stands now: met, pending with the time left, or missed by how much."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import TypedDict

from sqlalchemy import Integer, bindparam, literal, union_all
from sqlalchemy.orm import Session

from ..paging import AnySelect
from . import compute
from .measures import MEASURES

# Measures left off the case's list: reviews_on_time's tasks are listed under tasks_on_time already.
NOT_LISTED = frozenset({"reviews_on_time"})


class Promise(TypedDict):
    measure: str
    title: str
    pathway: str
    start: str
    due: str
    done: str | None
    status: str  # met | pending | missed
    seconds: int  # met: time to spare; pending: time left; missed: how late (or overdue so far)


def promise_status(met: bool, due: datetime, done: datetime | None, now: datetime) -> tuple[str, int]:
    """met / pending / missed, with the seconds that go with it (see Promise)."""
    if met and done is not None:
        return "met", int((due - done).total_seconds())
    if done is None and now <= due:
        return "pending", int((due - now).total_seconds())
    return "missed", int(((done or now) - due).total_seconds())


@cache
def _measures_of_a_case(measure_ids: tuple[str, ...]) -> AnySelect:
    """The named measures' rows for the case `:case_id`, as one statement, in measure order then oldest start
    first. Built once per process for each set of measures: the case file shows it on every read, and
    building the measures' selects cost several times what the database takes to answer them (each is a few
    index lookups once the case filter is applied, so the planner needs no help and the JIT is not
    considered). What remains is mostly planning, which grows with every measure asked."""
    case_id = bindparam("case_id", type_=Integer)
    parts = [
        compute.case_rows(m, case_id).add_columns(literal(m.id).label("measure"), literal(i).label("position"))
        for i, m in enumerate(MEASURES)
        if m.id in measure_ids
    ]
    every = union_all(*parts).subquery()
    return every.select().order_by(every.c.position, every.c.start, every.c.ref)


def case_promises(
    session: Session, now: datetime, case_id: int, pathways: Collection[str] | None = None
) -> list[Promise]:
    """Every promise for the case, pending first (soonest due), then the rest newest first. `pathways`, when
    the caller has read them: every pathway the case has an instance of; measures that count only cases with
    an instance of another pathway are then not asked (they would find nothing)."""
    asked = tuple(
        m.id
        for m in MEASURES
        if m.id not in NOT_LISTED and (pathways is None or m.only_with is None or m.only_with in pathways)
    )
    titles = {m.id: m.title for m in MEASURES}
    out: list[Promise] = []
    for row in session.execute(_measures_of_a_case(asked), {"case_id": case_id}):
        status, seconds = promise_status(bool(row.met), row.due, row.done, now)
        out.append(
            {
                "measure": row.measure,
                "title": titles[row.measure],
                "pathway": row.pathway,
                "start": row.start.isoformat(),
                "due": row.due.isoformat(),
                "done": row.done.isoformat() if row.done else None,
                "status": status,
                "seconds": seconds,
            }
        )
    pending = sorted((p for p in out if p["status"] == "pending"), key=lambda p: p["due"])
    rest = sorted((p for p in out if p["status"] != "pending"), key=lambda p: p["start"], reverse=True)
    return pending + rest
