"""Lists of open tasks (inboxes, team queues, the API's /tasks): filtered, searched, sorted and paged in SQL.

Every list is cut in the database, after every filter, so a filter never loses tasks that a cut-off hid.
The open tasks a person sees are the union of a few "branches", each answered by one partial index on
open tasks (migration 0007_scale) in the order of the list:

- tasks assigned to me: ix_human_tasks_open_mine (assignee_id, due_at, id);
- the team queue of each of my roles: ix_human_tasks_open_queue (role, due_at, id), unassigned only;
- all open work (supervisors): ix_human_tasks_open_due (due_at, id) or ix_human_tasks_open_created.

Each branch reads at most one page plus one row from its index; the union is then ordered and cut again.
Paging is by keyset: the sort key of the last row shown (`after`), never an offset, so tasks that open or
close between pages do not shift the next page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from .access import RECORD_READERS, TEAM_LEADS, Actor
from .models import Client, HumanTask, User
from .names import name_matches
from .states import TaskStatus
from .views import TaskView

VIEWS = ("mine", "team", "all")
SORTS = ("due", "created", "client")


@dataclass(frozen=True)
class TaskQuery:
    """What a list shows. `view`: mine (assigned to me), team (unassigned tasks of my roles), all (everything
    I may see). `q` searches the client's name; `sort` is due (most urgent first, no due date last),
    created (oldest first) or client (by family name)."""
    view: str = "all"
    mine: bool = False
    case_id: int | None = None
    client_id: int | None = None
    role: str | None = None
    pathway: str | None = None
    q: str = ""
    sort: str = "due"


Key = tuple[Any, ...]


def _sort_columns(sort: str) -> list[ColumnElement[Any]]:
    if sort == "created":
        return [HumanTask.created_at, HumanTask.id]
    if sort == "client":
        return [Client.family_name, Client.given_name, HumanTask.id]
    return [HumanTask.due_at, HumanTask.id]


def _order(sort: str, cols: list[Any]) -> list[Any]:
    if sort == "due":
        # No due date last, on both databases (PostgreSQL's ascending default; SQLite needs telling).
        return [cols[0].asc().nulls_last(), cols[1]]
    return list(cols)


def _after(sort: str, cols: list[Any], key: Key) -> ColumnElement[bool]:
    """Rows strictly after `key` in the list's order."""
    if sort != "due":
        return tuple_(*cols) > tuple_(*key)
    due, task_id = key
    if due is None:  # already among the tasks without a due date
        return and_(cols[0].is_(None), cols[1] > task_id)
    return or_(tuple_(*cols) > tuple_(due, task_id), cols[0].is_(None))


def _branches(actor: Actor, query: TaskQuery) -> list[ColumnElement[bool]]:
    """The open tasks the person may see, as conditions each answered by one index."""
    if not actor.has_any(RECORD_READERS):
        return []  # admins run the system and see no client's work
    roles = sorted(actor.roles)
    if query.role:
        roles = [r for r in roles if r == query.role]
    mine = [HumanTask.assignee_id == actor.id]
    team = [and_(HumanTask.assignee_id.is_(None), HumanTask.role == r) for r in roles]
    if query.view == "mine" or query.mine:
        return mine
    if query.view == "team":
        return team
    if actor.has_any(TEAM_LEADS):
        return [true()]
    return mine + team


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


def _branch_select(branch: ColumnElement[bool], query: TaskQuery, dialect: str, after: Key | None,
                   limit: int) -> Select[Any]:
    cols = _sort_columns(query.sort)
    stmt = select(HumanTask.id.label("task_id"), *[c.label(f"k{i}") for i, c in enumerate(cols[:-1])])
    if query.sort == "client" or query.q.strip():
        stmt = stmt.join(Client, Client.id == HumanTask.client_id)
    stmt = stmt.where(branch, *_filters(query, dialect))
    if after is not None:
        stmt = stmt.where(_after(query.sort, cols, after))
    return stmt.order_by(*_order(query.sort, cols)).limit(limit)


def open_task_ids(session: Session, actor: Actor, query: TaskQuery, after: Key | None, limit: int) -> list[int]:
    """Ids of the next `limit` open tasks of the list after `after`, in the list's order."""
    branches = _branches(actor, query)
    if not branches or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if len(branches) == 1:
        return list(session.scalars(_branch_select(branches[0], query, dialect, after, limit)))
    # Each branch cut to one page on its own index, then the union ordered and cut again.
    parts = [select(sub).select_from(sub) for sub in
             (_branch_select(b, query, dialect, after, limit).subquery() for b in branches)]
    merged = union_all(*parts).subquery()
    keys = [merged.c[f"k{i}"] for i in range(len(_sort_columns(query.sort)) - 1)] + [merged.c.task_id]
    order = _order(query.sort, keys)
    # One task can sit in two branches only if it were both mine and unassigned: never, so no DISTINCT.
    return list(session.scalars(select(merged.c.task_id).order_by(*order).limit(limit)))


def sort_key(task: TaskView, sort: str) -> Key:
    """The key of a listed task in the list's order: what a cursor carries."""
    if sort == "created":
        return (datetime.fromisoformat(task["created_at"]), task["id"])
    if sort == "client":
        return (task["client_family_name"], task["client_given_name"], task["id"])
    return (datetime.fromisoformat(task["due_at"]) if task["due_at"] else None, task["id"])


def task_rows(session: Session, ids: list[int], now: datetime) -> list[TaskView]:
    """The listed tasks' views, in the order of `ids`: columns only, one query (no ORM objects, no lazy loads)."""
    if not ids:
        return []
    assignee = aliased(User)
    rows = session.execute(
        select(HumanTask.id, HumanTask.case_id, HumanTask.client_id, HumanTask.process_id, HumanTask.bpmn_id,
               HumanTask.title, HumanTask.role, assignee.username, HumanTask.due_at, HumanTask.created_at,
               HumanTask.form_id, HumanTask.status, Client.given_name, Client.family_name)
        .join(Client, Client.id == HumanTask.client_id)
        .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
        .where(HumanTask.id.in_(ids))).all()
    by_id = {r.id: r for r in rows}
    views: list[TaskView] = []
    for task_id in ids:
        r = by_id.get(task_id)
        if r is None:
            continue
        views.append({
            "id": r.id, "case_id": r.case_id, "client_id": r.client_id, "pathway": r.process_id, "task": r.bpmn_id,
            "title": r.title, "role": r.role, "assignee": r.username,
            "due_at": r.due_at.isoformat() if r.due_at else None, "created_at": r.created_at.isoformat(),
            "form_id": r.form_id, "status": r.status,
            "overdue": bool(r.status == TaskStatus.OPEN and r.due_at and r.due_at < now),
            "client_name": f"{r.given_name} {r.family_name}",
            "client_given_name": r.given_name, "client_family_name": r.family_name,
        })
    return views


def visible_open(actor: Actor, view: str) -> ColumnElement[bool]:
    """One condition for counting a view's open tasks (the counts on the inbox tabs)."""
    branches = _branches(actor, TaskQuery(view=view))
    return or_(*branches) if branches else false()
