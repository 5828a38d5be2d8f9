"""The case file's timeline, written for people: who did what and when (and whether it was late), what
happened to the case, and, on request, every engine step as well.

Each kind of entry comes from one source listed in SOURCES: a select of the case `:case_id`'s entries of that
kind in the columns of ENTRY_COLUMNS, newest first and at most LIMIT. `timeline()` reads every source in one
statement (their UNION ALL) and merges them newest first. A new kind of entry (contacts, notes) is one more
source.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypedDict

from sqlalchemy import Integer, String, and_, bindparam, case, cast, literal, null, or_, select, union_all
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import Cast
from sqlalchemy.sql.type_api import TypeEngine

from .models import Event, HumanTask, User, UTCDateTime
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


# What every source selects, in this order: the entry's kind, when, its row's id (the order within one
# instant), its title and the name that replaces the title when there is one (an activity's name over its id),
# pathway, who (display name, else username), role, due time, task and lifecycle.
ENTRY_COLUMNS = (
    *("kind", "at", "ref", "title", "name_of_title", "pathway"),
    *("name", "username", "role", "due_at", "task_id", "lifecycle"),
)
CASE_ID = bindparam("case_id", type_=Integer)


def _none(type_: TypeEngine[Any] | type[TypeEngine[Any]]) -> Cast[Any]:
    # A typed NULL: PostgreSQL matches a UNION's columns by type, and an untyped NULL in a subquery is text.
    return cast(null(), type_)


def completed_work(everything: bool) -> AnySelect:
    """Every task people completed in the case, with who completed it, when, and its due time (how late)."""
    who = aliased(User)
    return (
        select(
            literal("work", String).label("kind"),
            HumanTask.completed_at.label("at"),
            HumanTask.id.label("ref"),
            HumanTask.title.label("title"),
            _none(String).label("name_of_title"),
            HumanTask.process_id.label("pathway"),
            who.display_name.label("name"),
            who.username.label("username"),
            HumanTask.role.label("role"),
            HumanTask.due_at.label("due_at"),
            HumanTask.id.label("task_id"),
            _none(String).label("lifecycle"),
        )
        .outerjoin(who, who.id == HumanTask.completed_by)
        .where(HumanTask.case_id == CASE_ID, HumanTask.status == TaskStatus.COMPLETED)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(LIMIT)
    )


# The case's life among its events: opened, closed, risk, a crisis reported by someone, work gone overdue.
PERSONAL = or_(
    Event.activity.in_(CASE_EVENTS),
    and_(Event.lifecycle == Lifecycle.MESSAGE, Event.username.is_not(None)),
    and_(Event.lifecycle == Lifecycle.TIMER_FIRED, Event.human_task_id.is_not(None)),
)


def logged_events(everything: bool) -> AnySelect:
    """The event log: the case's life as `case` entries; with `everything`, every other pathway step as
    `engine` entries (without it they are not read at all)."""
    stmt = (
        select(
            case((PERSONAL, "case"), else_="engine").label("kind"),
            Event.at.label("at"),
            Event.id.label("ref"),
            Event.activity.label("title"),
            Event.activity_name.label("name_of_title"),
            Event.process_id.label("pathway"),
            User.display_name.label("name"),
            Event.username.label("username"),
            Event.role.label("role"),
            _none(UTCDateTime).label("due_at"),
            _none(Integer).label("task_id"),
            Event.lifecycle.label("lifecycle"),
        )
        .outerjoin(User, User.username == Event.username)
        .where(Event.case_id == CASE_ID)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(LIMIT)
    )
    return stmt if everything else stmt.where(PERSONAL)


SOURCES: list[Callable[[bool], AnySelect]] = [completed_work, logged_events]


@cache
def _every_source(everything: bool) -> AnySelect:
    """The entries of every source for the case `:case_id`, as one statement: each source's limit applies
    within its subquery, and the rows come source by source, each newest first (the merge keeps that order
    among entries of one instant)."""
    every = union_all(
        *(
            select(source(everything).subquery(), literal(i, Integer).label("position"))
            for i, source in enumerate(SOURCES)
        )
    ).subquery()
    return select(*(every.c[name] for name in ENTRY_COLUMNS)).order_by(
        every.c.position, every.c.at.desc(), every.c.ref.desc()
    )


def _entry(row: Row[Any]) -> TimelineEntry:
    late = int((row.at - row.due_at).total_seconds()) if row.due_at is not None and row.at > row.due_at else None
    return {
        "kind": row.kind,
        "at": row.at.isoformat(),
        "title": row.name_of_title or row.title,
        "pathway": row.pathway,
        "who": row.name or row.username,
        "role": row.role,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "late_seconds": late,
        "task_id": row.task_id,
        "lifecycle": row.lifecycle,
    }


def timeline(session: Session, case_id: int, everything: bool = False) -> list[TimelineEntry]:
    """The case's timeline, newest first: people's work and the case's life; with `everything`, engine steps too."""
    entries = [
        _entry(row)
        for row in session.execute(_every_source(everything), {"case_id": case_id})
        if everything or row.kind != "engine"
    ]
    # Work first within one instant: a completion reads before the steps it caused.
    return sorted(entries, key=lambda e: (e["at"], e["kind"] == "work"), reverse=True)[:LIMIT]
