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

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    and_,
    bindparam,
    false,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
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


Branch = tuple[str, str | None]  # ("mine", None), ("team", role) or ("all", None): what one index answers


def _branches(actor: Actor, query: TaskQuery) -> list[Branch]:
    """The open tasks the person may see, as branches each answered by one index."""
    if not actor.has_any(RECORD_READERS):
        return []  # admins run the system and see no client's work
    mine: list[Branch] = [("mine", None)]
    team: list[Branch] = [("team", r) for r in sorted(actor.roles) if not query.role or r == query.role]
    if query.view == "mine" or query.mine:
        return mine
    if query.view == "team":
        return team
    if actor.has_any(TEAM_LEADS):
        return [("all", None)]
    return mine + team


def _branch_condition(
    kind: str, me: int | BindParameter[int], role: str | None | BindParameter[str]
) -> ColumnElement[bool]:
    """One branch as a condition; `me` and `role` are values, or bound parameters in a statement built once."""
    if kind == "mine":
        return HumanTask.assignee_id == me
    if kind == "team":
        return and_(HumanTask.assignee_id.is_(None), HumanTask.role == role)
    return true()


def _conditions(actor: Actor, branches: list[Branch]) -> list[ColumnElement[bool]]:
    return [_branch_condition(kind, actor.id, role) for kind, role in branches]


def visible_open(actor: Actor, view: str) -> ColumnElement[bool]:
    """One condition for a view's open tasks (the counts on the inbox tabs)."""
    branches = _conditions(actor, _branches(actor, TaskQuery(view=view)))
    return or_(*branches) if branches else false()


# The filters a list may have, by name, and the column each compares.
_FILTER_COLUMNS = {
    "case_id": HumanTask.case_id,
    "client_id": HumanTask.client_id,
    "role": HumanTask.role,
    "pathway": HumanTask.process_id,
}


def _filter_values(query: TaskQuery) -> dict[str, Any]:
    given = {"case_id": query.case_id, "client_id": query.client_id, "role": query.role, "pathway": query.pathway}
    return {name: value for name, value in given.items() if value is not None and value != ""}


def _filters(query: TaskQuery, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [HumanTask.status == TaskStatus.OPEN]
    where += [_FILTER_COLUMNS[name] == value for name, value in _filter_values(query).items()]
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
    if query.sort not in ("created", "client"):
        return _by_due(session, actor, branches, query, now, limit, cursor)
    where = _filters(query, session.get_bind().dialect.name)
    visible = or_(*_conditions(actor, branches))
    order, key = _CREATED if query.sort == "created" else _CLIENT
    return keyset_page(
        session, task_columns().where(visible, *where), order, limit, cursor, key, lambda r: task_view_of(r, now)
    )


# The other two orders: the sort columns, and a listed row's values of them (its cursor).
_CREATED = ([SortKey(HumanTask.created_at), SortKey(HumanTask.id)], lambda r: (r.created_at, r.id))
_CLIENT = (
    [SortKey(Client.family_name), SortKey(Client.given_name), SortKey(HumanTask.id)],
    lambda r: (r.family_name, r.given_name, r.id),
)


def _by_due(
    session: Session,
    actor: Actor,
    branches: list[Branch],
    query: TaskQuery,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> Page[TaskView]:
    """Most urgent first, tasks without a due time last: the inboxes' order, and the one staff use all day.

    The statement is built once per shape (its branches, the filters given, the kind of cursor) with bound
    parameters, and only the values change from one request to the next: building it (a union of subqueries,
    their column proxies) cost more than the database spent answering it. A search by name (`q`) is built
    each time, its condition depending on the words."""
    params: dict[str, Any] = {"me": actor.id, "rows": limit + 1}
    params.update({f"role_{i}": role for i, (kind, role) in enumerate(branches) if kind == "team"})
    filters = _filter_values(query)
    params.update({f"filter_{name}": value for name, value in filters.items()})
    after = None
    if cursor:
        due, task_id = decode_cursor(cursor, 2)
        after = "no_due" if due is None else "due"
        params.update(after_due=due, after_id=task_id)
    # A list of one case or one client is a handful of open tasks, found by that case's or client's own index:
    # one select with the branches' OR reads them all; separate branches would buy nothing.
    one_select = query.case_id is not None or query.client_id is not None
    shape = (tuple(kind for kind, _ in branches), tuple(filters), after, one_select)
    if query.q.strip():
        statement = _due_page(*shape, name_matches(query.q, session.get_bind().dialect.name))
    else:
        statement = _due_page_once(*shape)
    rows = session.connection().execute(statement, params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor((rows[-1].due_at, rows[-1].id)) if more and rows else None
    return Page([task_view_of(r, now) for r in rows], next_cursor)


@functools.lru_cache(maxsize=256)
def _due_page_once(kinds: tuple[str, ...], filters: tuple[str, ...], after: str | None, one_select: bool) -> AnySelect:
    return _due_page(kinds, filters, after, one_select)


def _due_page(
    kinds: tuple[str, ...],
    filters: tuple[str, ...],
    after: str | None,
    one_select: bool,
    *extra: ColumnElement[bool],
) -> AnySelect:
    """One page in due order, as one statement with bound parameters: me, role_<i> (the i-th branch's role),
    filter_<name>, after_due and after_id (the cursor), rows (the page and one more).

    Each branch reads one page from its own index in this order, and the union of those few pages is ordered
    and cut again: an OR of the branches would leave the planner to guess, and it may sort every open task.
    The shared keyset helper wants NOT NULL sort columns and due_at may be NULL (coalesce() would need an
    expression index, which SQLite cannot reflect), so the cursor is the helper's and "after" is spelled
    here: a row comparison on (due_at, id), which both databases answer from the index, then the tasks
    without a due time by id."""
    where: list[ColumnElement[bool]] = [HumanTask.status == TaskStatus.OPEN, *extra]
    where += [_FILTER_COLUMNS[name] == bindparam(f"filter_{name}") for name in filters]
    after_id = bindparam("after_id", type_=HumanTask.id.type)
    if after == "no_due":
        where += [HumanTask.due_at.is_(None), HumanTask.id > after_id]
    elif after == "due":
        after_due = bindparam("after_due", type_=HumanTask.due_at.type)
        where.append(
            or_(tuple_(HumanTask.due_at, HumanTask.id) > tuple_(after_due, after_id), HumanTask.due_at.is_(None))
        )
    me = bindparam("me", type_=HumanTask.assignee_id.type)
    branches = [
        _branch_condition(kind, me, bindparam(f"role_{i}", type_=HumanTask.role.type)) for i, kind in enumerate(kinds)
    ]
    order = [HumanTask.due_at.asc().nulls_last(), HumanTask.id]
    rows = bindparam("rows", type_=Integer)
    if one_select or len(branches) == 1:
        return task_columns().where(or_(*branches), *where).order_by(*order).limit(rows)
    parts = [task_columns().where(branch, *where).order_by(*order).limit(rows) for branch in branches]
    merged = union_all(*[select(sub).select_from(sub) for sub in (p.subquery() for p in parts)]).subquery()
    return select(merged).order_by(merged.c.due_at.asc().nulls_last(), merged.c.id).limit(rows)


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
