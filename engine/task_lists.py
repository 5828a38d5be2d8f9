"""Lists of open tasks (inboxes, team queues, the API's /tasks): filtered, searched, sorted and paged in SQL.

Every list is cut in the database, after every filter, so a filter never loses tasks that a cut-off hid.
The open tasks a person sees are a few "branches", each answered by a partial index on open tasks
(migration 0007_scale) in the list's order:

- tasks assigned to me: ix_human_tasks_open_mine (assignee_id, due_at, id);
- the team queue of each of my roles: ix_human_tasks_open_queue (role, due_at, id), unassigned only;
- all open work (supervisors): ix_human_tasks_open_due (due_at, id) or ix_human_tasks_open_created.

Pages are keyset pages (engine/paging.py): the cursor carries the sort key of the last task shown, so tasks
that open or close between two pages never shift the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, false, or_, select, true, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from .access import RECORD_READERS, TEAM_LEADS, Actor
from .models import Client, HumanTask, User
from .names import name_matches
from .paging import AnySelect, Page, SortKey, decode_cursor, encode_cursor, keyset_page
from .states import TaskStatus
from .views import TaskView

VIEWS = ("mine", "team", "all")
SORTS = ("due", "created", "client")


@dataclass(frozen=True)
class TaskQuery:
    """What a list shows. `view`: mine (assigned to me), team (unassigned tasks of my roles), all (everything
    I may see). `q` searches the client's name; `sort` is due (most urgent first, no due date last),
    created (oldest first) or client (by family name, then given name)."""

    view: str = "all"
    mine: bool = False
    case_id: int | None = None
    client_id: int | None = None
    role: str | None = None
    pathway: str | None = None
    q: str = ""
    sort: str = "due"


def _branches(actor: Actor, query: TaskQuery) -> list[ColumnElement[bool]]:
    """The open tasks the person may see, as conditions each answered by one index."""
    if not actor.has_any(RECORD_READERS):
        return []  # admins run the system and see no client's work
    mine: list[ColumnElement[bool]] = [HumanTask.assignee_id == actor.id]
    team: list[ColumnElement[bool]] = [
        and_(HumanTask.assignee_id.is_(None), HumanTask.role == r)
        for r in sorted(actor.roles)
        if not query.role or r == query.role
    ]
    if query.view == "mine" or query.mine:
        return mine
    if query.view == "team":
        return team
    if actor.has_any(TEAM_LEADS):
        return [true()]
    return mine + team


def visible_open(actor: Actor, view: str) -> ColumnElement[bool]:
    """One condition for a view's open tasks (the counts on the inbox tabs)."""
    branches = _branches(actor, TaskQuery(view=view))
    return or_(*branches) if branches else false()


def _filters(query: TaskQuery, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [HumanTask.status == TaskStatus.OPEN]
    if query.case_id is not None:
        where.append(HumanTask.case_id == query.case_id)
    if query.client_id is not None:
        where.append(HumanTask.client_id == query.client_id)
    if query.role:
        where.append(HumanTask.role == query.role)
    if query.pathway:
        where.append(HumanTask.process_id == query.pathway)
    if query.q.strip():
        where.append(name_matches(query.q, dialect))
    return where


def open_tasks(
    session: Session, actor: Actor, now: datetime, query: TaskQuery, limit: int, cursor: str | None
) -> Page[TaskView]:
    """One page of the list `query` describes, after `cursor`. Raises BadRequest (a cursor not made here)."""
    branches = _branches(actor, query)
    if not branches:
        return Page([], None)
    where = _filters(query, session.get_bind().dialect.name)
    if query.sort == "created":
        order = [SortKey(HumanTask.created_at), SortKey(HumanTask.id)]
        return keyset_page(
            session,
            task_columns().where(or_(*branches), *where),
            order,
            limit,
            cursor,
            lambda r: (r.created_at, r.id),
            lambda r: task_view_of(r, now),
        )
    if query.sort == "client":
        order = [SortKey(Client.family_name), SortKey(Client.given_name), SortKey(HumanTask.id)]
        return keyset_page(
            session,
            task_columns().where(or_(*branches), *where),
            order,
            limit,
            cursor,
            lambda r: (r.family_name, r.given_name, r.id),
            lambda r: task_view_of(r, now),
        )
    return _by_due(session, branches, where, now, limit, cursor)


def _by_due(
    session: Session,
    branches: list[ColumnElement[bool]],
    where: list[ColumnElement[bool]],
    now: datetime,
    limit: int,
    cursor: str | None,
) -> Page[TaskView]:
    """Most urgent first, tasks without a due time last: the inboxes' order, and the one staff use all day.

    Each branch reads one page from its own index in this order, and the union of those few pages is ordered
    and cut again: an OR of the branches would leave the planner to guess, and it may sort every open task.
    The shared keyset helper wants NOT NULL sort columns and due_at may be NULL (coalesce() would need an
    expression index, which SQLite cannot reflect), so the cursor is the helper's and "after" is spelled
    here: a row comparison on (due_at, id), which both databases answer from the index, then the tasks
    without a due time by id."""
    if cursor:
        due, task_id = decode_cursor(cursor, 2)
        if due is None:
            where = [*where, HumanTask.due_at.is_(None), HumanTask.id > task_id]
        else:
            where = [*where, or_(tuple_(HumanTask.due_at, HumanTask.id) > (due, task_id), HumanTask.due_at.is_(None))]
    order = [HumanTask.due_at.asc().nulls_last(), HumanTask.id]
    parts = [task_columns().where(branch, *where).order_by(*order).limit(limit + 1) for branch in branches]
    if len(parts) == 1:
        rows = session.execute(parts[0]).all()
    else:
        merged = union_all(*[select(sub).select_from(sub) for sub in (p.subquery() for p in parts)]).subquery()
        rows = session.execute(
            select(merged).order_by(merged.c.due_at.asc().nulls_last(), merged.c.id).limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor((rows[-1].due_at, rows[-1].id)) if more and rows else None
    return Page([task_view_of(r, now) for r in rows], next_cursor)


_ASSIGNEE = aliased(User, name="assignee")  # made once: a new alias per call costs more than the query


def task_columns() -> AnySelect:
    """What a listed task shows: columns only, one query (no ORM objects, no lazy loads)."""
    assignee = _ASSIGNEE
    return (
        select(
            HumanTask.id,
            HumanTask.case_id,
            HumanTask.client_id,
            HumanTask.process_id,
            HumanTask.bpmn_id,
            HumanTask.title,
            HumanTask.role,
            assignee.username,
            assignee.display_name,
            HumanTask.due_at,
            HumanTask.created_at,
            HumanTask.form_id,
            HumanTask.status,
            Client.given_name,
            Client.family_name,
        )
        .join(Client, Client.id == HumanTask.client_id)
        .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
    )


def task_view_of(r: Row[Any], now: datetime) -> TaskView:
    return {
        "id": r.id,
        "case_id": r.case_id,
        "client_id": r.client_id,
        "pathway": r.process_id,
        "task": r.bpmn_id,
        "title": r.title,
        "role": r.role,
        "assignee": r.username,
        "assignee_name": (r.display_name or r.username) if r.username else None,
        "due_at": r.due_at.isoformat() if r.due_at else None,
        "created_at": r.created_at.isoformat(),
        "form_id": r.form_id,
        "status": r.status,
        "overdue": bool(r.status == TaskStatus.OPEN and r.due_at and r.due_at < now),
        "client_name": f"{r.given_name} {r.family_name}",
    }
