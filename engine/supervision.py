"""Supervision of late work: the overdue tasks grouped per client (each with the reviews it opened), and a
supervisor moving a task's due date to an agreed new one, with a reason.

Moving a due date re-arms the task's escalation: the pending `task_overdue` job is dropped and a new one set
for the new time, so a task that is late again goes back to the supervisor (projection.sync_human_tasks
writes the first job when the task opens; the worker fires it through runtime.escalate_overdue, which starts
the overdue_escalation pathway).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit
from .access import TEAM_LEADS, Actor, is_record_id
from .day_models import DueDateChange
from .errors import FieldError, InvalidFormData, NotFound, TaskNotOpen
from .inbox import task_view
from .models import Client, HumanTask, TimerJob, User
from .states import JobKind, JobStatus, TaskStatus

REASON_MIN, REASON_MAX = 5, 1000


def _name(user: User | None) -> str | None:
    return (user.display_name or user.username) if user else None


def late_task(session: Session, review: HumanTask, now: datetime) -> dict[str, Any] | None:
    """The task an overdue review is about, with its holder's name and its due-date changes."""
    if review.about_task_id is None:
        return None
    ht = session.get(HumanTask, review.about_task_id)
    if ht is None:
        return None
    changes = session.execute(
        select(DueDateChange, User.username, User.display_name)
        .join(User, User.id == DueDateChange.changed_by)
        .where(DueDateChange.human_task_id == ht.id)
        .order_by(DueDateChange.id)
    ).all()
    return {
        **task_view(ht, now),
        "holder": _name(ht.assignee),
        "changes": [
            {
                "at": c.changed_at.isoformat(),
                "by": display or username,
                "reason": c.reason,
                "old_due_at": c.old_due_at.isoformat() if c.old_due_at else None,
                "new_due_at": c.new_due_at.isoformat(),
            }
            for c, username, display in changes
        ],
    }


def overdue_by_client(session: Session, actor: Actor, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Open overdue tasks, one group per client (most overdue first), each task with its open reviews.
    Supervisors; audited once per client shown. Raises NotAllowed."""
    actor.require(TEAM_LEADS, "review overdue work")
    rows = session.execute(
        select(HumanTask, Client)
        .join(Client, Client.id == HumanTask.client_id)
        .where(HumanTask.status == TaskStatus.OPEN, HumanTask.due_at < now)
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
    ).all()
    late_ids = [ht.id for ht, _c in rows]
    reviews: dict[int, list[int]] = {}
    if late_ids:
        for review_id, about in session.execute(
            select(HumanTask.id, HumanTask.about_task_id).where(
                HumanTask.about_task_id.in_(late_ids), HumanTask.status == TaskStatus.OPEN
            )
        ):
            if about is not None:  # (the IN above already excludes NULL; this tells the type checker)
                reviews.setdefault(about, []).append(review_id)
    groups: dict[int, dict[str, Any]] = {}
    for ht, client in rows:
        if ht.about_task_id is not None:
            continue  # a late review is listed with the task it is about
        group = groups.setdefault(
            client.id,
            {
                "client_id": client.id,
                "client_name": f"{client.given_name} {client.family_name}",
                "birth_date": client.birth_date.isoformat(),
                "tasks": [],
            },
        )
        group["tasks"].append(
            {**task_view(ht, now), "holder": _name(ht.assignee), "reviews": sorted(reviews.get(ht.id, []))}
        )
    for client_id in groups:
        audit.record(session, actor, "review", "overdue", client_id, client_id, now)
    return list(groups.values())


def set_due_date(
    session: Session, actor: Actor, task_id: object, new_due: datetime | None, reason: str, now: datetime
) -> dict[str, Any]:
    """Move an open task's due date (supervisors), with a reason; the escalation re-arms for the new time.
    Audited. Raises NotAllowed, NotFound, TaskNotOpen, InvalidFormData."""
    actor.require(TEAM_LEADS, "set a new due date")
    ht = session.get(HumanTask, task_id, with_for_update={"of": HumanTask}) if is_record_id(task_id) else None
    if ht is None:
        raise NotFound(f"No task {task_id}.")
    if ht.status != TaskStatus.OPEN:
        raise TaskNotOpen(f"This task was already {ht.status}; its due date no longer matters.")
    errors = []
    if new_due is None or new_due.tzinfo is None:
        errors.append(FieldError("due_at", "Give the new due date and time."))
    elif new_due <= now:
        errors.append(FieldError("due_at", "The new due date must be in the future."))
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        errors.append(FieldError("reason", f"Say why the date moves ({REASON_MIN} to {REASON_MAX} characters)."))
    if errors:
        raise InvalidFormData(f"{len(errors)} field(s) need attention.", errors)
    assert new_due is not None
    session.add(
        DueDateChange(
            human_task_id=ht.id,
            changed_by=actor.id,
            changed_at=now,
            old_due_at=ht.due_at,
            new_due_at=new_due,
            reason=text,
        )
    )
    escalates = session.scalar(
        select(TimerJob.id).where(TimerJob.human_task_id == ht.id, TimerJob.kind == JobKind.TASK_OVERDUE).limit(1)
    )
    session.execute(
        update(TimerJob)
        .where(TimerJob.human_task_id == ht.id, TimerJob.status == JobStatus.PENDING)
        .values(status=JobStatus.DROPPED)
        .execution_options(synchronize_session=False)
    )
    if escalates is not None:  # tasks that never escalate (the reviews themselves) get no job
        session.add(
            TimerJob(
                kind=JobKind.TASK_OVERDUE,
                human_task_id=ht.id,
                case_id=ht.case_id,
                due_at=new_due,
                status=JobStatus.PENDING,
                attempts=0,
            )
        )
    old = ht.due_at
    ht.due_at = new_due
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "task",
        ht.id,
        ht.client_id,
        now,
        detail={"due_at": new_due.isoformat(), "was": old.isoformat() if old else None},
    )
    return {**task_view(ht, now), "rearmed": escalates is not None}
