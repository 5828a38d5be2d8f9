"""The case file's timeline, written for people: who did what and when (and whether it was late), what
happened to the case, and, on request, every engine step as well.

Each kind of entry comes from one source function `(session, case_id) -> list[TimelineEntry]` listed in
SOURCES; `timeline()` merges them newest first. A new kind of entry (contacts, notes) is one more source.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypedDict

from sqlalchemy import Integer, and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from .models import Event, HumanTask, User
from .paging import AnySelect
from .safety.case_work import RISK_EVENT
from .states import Lifecycle, TaskStatus

LIMIT = 500
# Events people want to see beside their own work: the case's life and its risk.
CASE_EVENTS = frozenset({"case_opened", "case_closed", RISK_EVENT})


class TimelineEntry(TypedDict):
    kind: str  # work (a task someone completed) | case (the case's life) | engine (a pathway step)
    at: str
    title: str
    pathway: str | None
    who: str | None  # the person's name
    role: str | None
    due_at: str | None
    late_seconds: int | None  # work done after its due time: by how much
    task_id: int | None  # a completed task: its read-only page shows what was written
    lifecycle: str | None  # engine steps: the event log's lifecycle


def completed_work(session: Session, case_id: int, everything: bool = False) -> list[TimelineEntry]:
    """Every task people completed in the case, with who, when and how late."""
    out: list[TimelineEntry] = []
    for task in session.execute(_completed_work(), {"case_id": case_id}):
        late = (
            int((task.completed_at - task.due_at).total_seconds())
            if task.due_at is not None and task.completed_at > task.due_at
            else None
        )
        out.append(
            {
                "kind": "work",
                "at": task.completed_at.isoformat(),
                "title": task.title,
                "pathway": task.process_id,
                "who": task.name or task.username,
                "role": task.role,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "late_seconds": late,
                "task_id": task.id,
                "lifecycle": None,
            }
        )
    return out


@cache
def _completed_work() -> AnySelect:
    """The columns shown of the case `:case_id`'s completed tasks, newest first, with who completed each."""
    who = aliased(User)
    return (
        select(
            HumanTask.id,
            HumanTask.title,
            HumanTask.process_id,
            HumanTask.role,
            HumanTask.due_at,
            HumanTask.completed_at,
            who.display_name.label("name"),
            who.username,
        )
        .outerjoin(who, who.id == HumanTask.completed_by)
        .where(HumanTask.case_id == bindparam("case_id", type_=Integer), HumanTask.status == TaskStatus.COMPLETED)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(LIMIT)
    )


# The case's life among its events: opened, closed, risk, a crisis reported by someone, work gone overdue.
PERSONAL = or_(
    Event.activity.in_(CASE_EVENTS),
    and_(Event.lifecycle == Lifecycle.MESSAGE, Event.username.is_not(None)),
    and_(Event.lifecycle == Lifecycle.TIMER_FIRED, Event.human_task_id.is_not(None)),
)


def logged_events(session: Session, case_id: int, everything: bool) -> list[TimelineEntry]:
    """The event log: the case's life as `case` entries; with `everything`, every other pathway step as
    `engine` entries (without it they are not read at all)."""
    out: list[TimelineEntry] = []
    for e in session.execute(_logged_events(everything), {"case_id": case_id}):
        out.append(
            {
                "kind": "case" if e.personal else "engine",
                "at": e.at.isoformat(),
                "title": e.activity_name or e.activity,
                "pathway": e.process_id,
                "who": e.name or e.username,
                "role": e.role,
                "due_at": None,
                "late_seconds": None,
                "task_id": None,
                "lifecycle": e.lifecycle,
            }
        )
    return out


@cache
def _logged_events(everything: bool) -> AnySelect:
    """The columns shown of the case `:case_id`'s events (all, or only its life), newest first, with the
    name of the person each names."""
    stmt = (
        select(
            Event.at,
            Event.activity,
            Event.activity_name,
            Event.process_id,
            Event.username,
            Event.role,
            Event.lifecycle,
            User.display_name.label("name"),
            PERSONAL.label("personal"),
        )
        .outerjoin(User, User.username == Event.username)
        .where(Event.case_id == bindparam("case_id", type_=Integer))
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(LIMIT)
    )
    return stmt if everything else stmt.where(PERSONAL)


SOURCES: list[Callable[[Session, int, bool], list[TimelineEntry]]] = [completed_work, logged_events]


def timeline(session: Session, case_id: int, everything: bool = False) -> list[TimelineEntry]:
    """The case's timeline, newest first: people's work and the case's life; with `everything`, engine steps too."""
    entries = [
        entry
        for source in SOURCES
        for entry in source(session, case_id, everything)
        if everything or entry["kind"] != "engine"
    ]
    # Work first within one instant: a completion reads before the steps it caused.
    return sorted(entries, key=lambda e: (e["at"], e["kind"] == "work"), reverse=True)[:LIMIT]
