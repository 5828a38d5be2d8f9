"""Inboxes: the open tasks a person may see, one task with its form, and claiming and assigning work.

Everything here reads the human-task table (indexed), never the instance blobs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from . import audit, carryover
from .access import TEAM_LEADS, Actor, is_record_id, may_work_task
from .careteam import require_task
from .db import rows_updated
from .errors import BadRequest, NotAllowed, NotFound, NotOnCareTeam, TaskNotOpen
from .library import LoadedPathway, SpecCache
from .models import Client, Event, FormSubmission, HumanTask, PathwayInstance, User
from .paging import DEFAULT_LIMIT, Page
from .states import Lifecycle
from .task_lists import SORTS, VIEWS, TaskQuery, open_tasks, task_columns, task_view_of, visible_open
from .views import TaskView


def task_view(ht: HumanTask, now: datetime, client: Client | None = None) -> TaskView:
    view: TaskView = {
        "id": ht.id,
        "case_id": ht.case_id,
        "client_id": ht.client_id,
        "pathway": ht.process_id,
        "task": ht.bpmn_id,
        "title": ht.title,
        "role": ht.role,
        "assignee": ht.assignee.username if ht.assignee else None,
        "assignee_name": (ht.assignee.display_name or ht.assignee.username) if ht.assignee else None,
        "due_at": ht.due_at.isoformat() if ht.due_at else None,
        "created_at": ht.created_at.isoformat(),
        "form_id": ht.form_id,
        "status": ht.status,
        "overdue": bool(ht.status == "open" and ht.due_at and ht.due_at < now),
    }
    if client is not None:
        view["client_name"] = f"{client.given_name} {client.family_name}"
    return view


def list_tasks(
    session: Session,
    actor: Actor,
    now: datetime,
    case_id: int | None = None,
    role: str | None = None,
    mine: bool = False,
    pathway: str | None = None,
    client_id: int | None = None,
    view: str = "all",
    q: str = "",
    sort: str = "due",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[TaskView]:
    """One page of the open tasks the caller may see, in the list's order (`sort`: due, most urgent first;
    created; client), after `cursor`. Filtered, sorted and cut in SQL (engine/task_lists.py)."""
    query = TaskQuery(
        view=view if view in VIEWS else "all",
        mine=mine,
        case_id=case_id,
        client_id=client_id,
        role=role,
        pathway=pathway,
        q=q or "",
        sort=sort if sort in SORTS else "due",
    )
    return open_tasks(session, actor, now, query, limit, cursor)


def task_counts(session: Session, actor: Actor, now: datetime) -> dict[str, dict[str, int]]:
    """How many open tasks, and how many overdue, in each inbox view (counted in the database)."""
    counts = {}
    for view in VIEWS:
        total, overdue = session.execute(
            select(func.count(), func.count(sql_case((HumanTask.due_at < now, 1)))).where(
                HumanTask.status == "open", visible_open(actor, view)
            )
        ).one()
        counts[view] = {"open": total, "overdue": overdue}
    return counts


def completion_of(session: Session, task_id: int) -> dict[str, Any] | None:
    """Who completed a closed task, when, and what they submitted (for the page a latecomer sees)."""
    row = session.execute(
        select(HumanTask.completed_at, User.display_name, User.username, FormSubmission.data)
        .outerjoin(User, User.id == HumanTask.completed_by)
        .outerjoin(FormSubmission, FormSubmission.human_task_id == HumanTask.id)
        .where(HumanTask.id == task_id)
    ).first()
    if row is None:
        return None
    return {
        "at": row.completed_at.isoformat() if row.completed_at else None,
        "by": row.display_name or row.username,
        "data": row.data,
    }


def _task(session: Session, task_id: object) -> HumanTask:
    ht = session.get(HumanTask, task_id) if is_record_id(task_id) else None
    if ht is None:
        raise NotFound(f"No task {task_id}.")
    return ht


def _task_spec(pathway: LoadedPathway, bpmn_id: str) -> Any:  # a SpiffWorkflow task spec (untyped)
    for spec in [pathway.spec, *pathway.subprocess_specs.values()]:
        if bpmn_id in spec.task_specs:
            return spec.task_specs[bpmn_id]
    return None


def read_task(
    session: Session, specs: SpecCache, actor: Actor, task_id: int, now: datetime, after_conflict: bool = False
) -> dict[str, Any]:
    """One task with its form (schema, UI hints), instructions and prefill. Audited.

    Open to the people the task is offered to, and to those who may read the client's record (a completed
    task is part of the record). `after_conflict`: someone of the task's role submitted it just as another
    person completed it; outside the care team they get the bare task (title, form; no client, data or
    instructions) so the page can keep their own answers on screen. Raises NotFound, NotAllowed,
    NotOnCareTeam."""
    ht = _task(session, task_id)
    try:
        require_task(session, actor, ht, now)
        bare = False
    except NotOnCareTeam:
        if not (after_conflict and ht.status != "open" and ht.role in actor.roles):
            raise
        bare = True
    instance = session.get_one(PathwayInstance, ht.instance_id)
    pathway = specs.get(instance.pathway_version)
    spec = _task_spec(pathway, ht.bpmn_id)
    props = ((spec.extensions or {}).get("properties", {}) if spec else {}) or {}
    form_file = props.get("formJsonSchemaFilename")
    schema, ui = pathway.form(form_file) if form_file else (None, None)
    prefill: dict[str, Any] = {}
    if props.get("prefill") == "case" and ht.form_id:
        last = session.scalar(
            select(FormSubmission.data)
            .where(FormSubmission.case_id == ht.case_id, FormSubmission.form_id == ht.form_id)
            .order_by(FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
            .limit(1)
        )
        prefill = last or {}
    if ht.status == "open" and not bare:
        prefill = carryover.prefill(session, ht.client_id, ui, prefill)  # x-prefill: earlier forms' answers
    client = None if bare else session.get(Client, ht.client_id)
    audit.record(session, actor, "read", "task", ht.id, ht.client_id, now)
    view: dict[str, Any] = {**task_view(ht, now, client)}
    view.update(
        {
            "pathway_version": instance.pathway_version.version,
            "form": {"id": ht.form_id, "schema": schema, "ui_schema": ui},
            "data": {} if bare else prefill,
            "documentation": getattr(spec, "documentation", None) if spec else None,
            "instructions": None if bare else ht.instructions,
            "may_complete": ht.status == "open" and may_work_task(actor, ht.role, ht.assignee_id),
            "bare": bare,
        }
    )
    return view


def claim(session: Session, actor: Actor, task_id: int, now: datetime) -> TaskView:
    """Take an unassigned task of one's role. Raises NotFound, NotAllowed, TaskNotOpen (taken or closed)."""
    ht = _task(session, task_id)
    if ht.status != "open":
        raise TaskNotOpen(f"This task was already {ht.status}.")
    if ht.assignee_id == actor.id:
        return task_view(ht, now)
    if ht.role not in actor.roles:
        raise NotAllowed("This task belongs to another role.")
    done = rows_updated(
        session,
        update(HumanTask)
        .where(HumanTask.id == ht.id, HumanTask.status == "open", HumanTask.assignee_id.is_(None))
        .values(assignee_id=actor.id),
    )
    if not done:
        raise TaskNotOpen("Someone else took this task meanwhile.")
    _log_claim(session, actor, ht, now)
    session.refresh(ht)
    return task_view(ht, now)


def _log_claim(session: Session, actor: Actor, ht: HumanTask, now: datetime) -> None:
    session.add(
        Event(**ht.event_fields(), at=now, activity_name=ht.title, lifecycle=Lifecycle.CLAIMED, username=actor.username)
    )


def release(session: Session, actor: Actor, task_id: int, now: datetime) -> TaskView:
    """Give a claimed task back to the team queue. Raises NotFound, NotAllowed, TaskNotOpen."""
    ht = _task(session, task_id)
    if ht.status != "open":
        raise TaskNotOpen(f"This task was already {ht.status}.")
    if ht.assignee_id != actor.id and not actor.has_any(TEAM_LEADS):
        raise NotAllowed("Only the person holding a task (or a supervisor) can release it.")
    ht.assignee_id = None
    session.flush()
    session.refresh(ht)
    return task_view(ht, now)


def assign(session: Session, actor: Actor, task_id: int, username: str | None, now: datetime) -> TaskView:
    """A supervisor hands a task to a named person of its role. Raises NotFound, NotAllowed, BadRequest."""
    actor.require(TEAM_LEADS, "reassign tasks")
    ht = _task(session, task_id)
    if ht.status != "open":
        raise TaskNotOpen(f"This task was already {ht.status}.")
    if not username:
        ht.assignee_id = None
    else:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise NotFound(f"No user {username!r}.")
        if ht.role not in user.role_names:
            raise BadRequest(f"{username} does not have the role {ht.role}.")
        ht.assignee_id = user.id
    session.flush()
    session.refresh(ht)
    return task_view(ht, now)


def take_next(session: Session, actor: Actor, now: datetime) -> TaskView | None:
    """The most urgent open task the person may do: one assigned to them, else the oldest-due unassigned
    task of their roles, which is claimed for them. None when nothing waits."""
    candidates = (
        list_tasks(session, actor, now, view="mine", limit=1).items
        + list_tasks(session, actor, now, view="team", limit=50).items
    )
    candidates.sort(key=lambda t: (t["due_at"] is None, t["due_at"] or "", t["created_at"], t["id"]))
    for task in candidates:
        if task["assignee"] is not None:
            return task
        taken = rows_updated(
            session,
            update(HumanTask)
            .where(HumanTask.id == task["id"], HumanTask.status == "open", HumanTask.assignee_id.is_(None))
            .values(assignee_id=actor.id),
        )
        if taken:  # else someone took it a moment ago: try the next one
            _log_claim(session, actor, _task(session, task["id"]), now)
            return {**task, "assignee": actor.username}
    return None


# Built once (every completion answers with it): the ids are one expanding parameter.
_TASKS_BY_ID = task_columns().where(HumanTask.id.in_(bindparam("ids", expanding=True))).order_by(HumanTask.id)


def tasks_by_id(session: Session, ids: list[int], now: datetime) -> list[TaskView]:
    """The tasks' views, by id: one column query (no ORM objects, no lazy loads of people and their roles)."""
    if not ids:
        return []
    rows = session.connection().execute(_TASKS_BY_ID, {"ids": ids}).all()
    return [task_view_of(r, now) for r in rows]
