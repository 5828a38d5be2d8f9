"""Per-case adherence: each promise the pathways made for one case (every measure's rows for it, pending ones
included), with how it stands now: met, pending with the time left, or missed by how much."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy.orm import Session

from . import compute
from .measures import MEASURES


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


def case_promises(session: Session, now: datetime, case_id: int) -> list[Promise]:
    """Every promise for the case, pending first (soonest due), then the rest newest first."""
    out: list[Promise] = []
    for m in MEASURES:
        if m.id == "reviews_on_time":  # its tasks are listed under tasks_on_time already
            continue
        for row in session.execute(compute.rows(session, now, m.id, None, case_id=case_id, pending=True)):
            status, seconds = promise_status(bool(row.met), row.due, row.done, now)
            out.append(
                {
                    "measure": m.id,
                    "title": m.title,
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
