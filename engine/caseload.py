"""My caseload and my week: the clients a case manager holds, each with risk, last contact, next due work and
open plan items, and the work falling due in a week.

Every figure comes from an indexed query (clients by case manager, contacts by client and time, open tasks by
client, status and due time, plan submissions by case and form), one page of clients at a time; the plan's
answers are read only for the clients on the page, and only to count what is still open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, carryover
from .access import Actor
from .day_models import Contact
from .inbox import task_view
from .models import Case, Client, HumanTask, PathwayInstance
from .paging import Page, SortKey, keyset_page
from .states import CaseStatus, InstanceStatus, TaskStatus

CRISIS_PATHWAYS = ("crisis_response",)
CRISIS = "crisis"  # the risk shown while a crisis pathway runs in the case, whatever the last assessment said


def current_risk(session: Session, case_ids: list[int], risk_levels: dict[int, str | None]) -> dict[int, str | None]:
    """The risk to show per case: "crisis" while a crisis pathway is running in it, else the assessed level."""
    if not case_ids:
        return {}
    in_crisis = set(
        session.scalars(
            select(PathwayInstance.case_id).where(
                PathwayInstance.case_id.in_(case_ids),
                PathwayInstance.process_id.in_(CRISIS_PATHWAYS),
                PathwayInstance.status == InstanceStatus.RUNNING,
            )
        )
    )
    return {cid: CRISIS if cid in in_crisis else risk_levels.get(cid) for cid in case_ids}


def shown_risk(risk_level: str | None, running_pathways: Iterable[str]) -> str | None:
    """`current_risk` of one case whose running pathway instances the caller has read already (the case file)."""
    return CRISIS if any(p in CRISIS_PATHWAYS for p in running_pathways) else risk_level


def my_caseload(
    session: Session, actor: Actor, now: datetime, limit: int = 50, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """The clients whose case manager is the caller, by name. Each listed client is audited as a read."""
    stmt = select(Client).where(Client.case_manager_id == actor.id)
    order = [SortKey(Client.family_name), SortKey(Client.given_name), SortKey(Client.id)]
    page = keyset_page(
        session,
        stmt,
        order,
        limit,
        cursor,
        key_of=lambda row: (row[0].family_name, row[0].given_name, row[0].id),
        view=lambda row: row[0],
    )
    clients: list[Client] = page.items
    ids = [c.id for c in clients]
    if not ids:
        return Page([], None)
    cases = {
        c.client_id: c
        for c in session.scalars(
            select(Case).where(Case.client_id.in_(ids), Case.status == CaseStatus.OPEN).order_by(Case.opened_at)
        )
    }
    risk = current_risk(session, [c.id for c in cases.values()], {c.id: c.risk_level for c in cases.values()})
    last_contact = dict(
        session.execute(
            select(Contact.client_id, func.max(Contact.at))
            .where(Contact.client_id.in_(ids))
            .group_by(Contact.client_id)
        ).all()
    )
    next_due = _next_due(session, ids, now)
    rows = []
    for client in clients:
        case = cases.get(client.id)
        plan = carryover.latest(session, client.id, "treatment_plan")
        rows.append(
            {
                "client_id": client.id,
                "name": f"{client.given_name} {client.family_name}",
                "birth_date": client.birth_date.isoformat(),
                "case_id": case.id if case else None,
                "risk": risk.get(case.id) if case else None,
                "last_contact": last_contact[client.id].isoformat() if client.id in last_contact else None,
                "next_task": next_due.get(client.id),
                "plan_items": open_plan_items(plan, now.date()),
            }
        )
        audit.record(session, actor, "read", "caseload", client.id, client.id, now)
    return Page(rows, page.next_cursor)


def _next_due(session: Session, client_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Per client, the open task due soonest (by ix_human_tasks_client_open)."""
    first = (
        select(HumanTask.client_id, func.min(HumanTask.due_at).label("due"))
        .where(HumanTask.client_id.in_(client_ids), HumanTask.status == TaskStatus.OPEN, HumanTask.due_at.is_not(None))
        .group_by(HumanTask.client_id)
        .subquery()
    )
    rows = session.scalars(
        select(HumanTask)
        .join(first, (first.c.client_id == HumanTask.client_id) & (first.c.due == HumanTask.due_at))
        .where(HumanTask.status == TaskStatus.OPEN)
        .order_by(HumanTask.id)
    )
    out: dict[int, dict[str, Any]] = {}
    for ht in rows:
        out.setdefault(ht.client_id, dict(task_view(ht, now)))
    return out


def open_plan_items(plan: dict[str, Any] | None, today: date) -> list[dict[str, str]]:
    """The treatment plan's objectives still ahead (target date today or later), soonest first."""
    items = []
    for goal in (plan or {}).get("goals") or []:
        for objective in goal.get("objectives") or []:
            target = objective.get("target_date") or ""
            if target >= today.isoformat():
                items.append(
                    {"goal": goal.get("goal", ""), "objective": objective.get("objective", ""), "target_date": target}
                )
    return sorted(items, key=lambda i: i["target_date"])


def my_week(session: Session, actor: Actor, start: datetime, now: datetime) -> list[dict[str, Any]]:
    """My open tasks due before `start` + 7 days (the overdue ones included), soonest first, by the
    ix_human_tasks_open_assignee index. Audited once per client listed."""
    end = start + timedelta(days=7)
    rows = session.execute(
        select(HumanTask, Client)
        .join(Client, Client.id == HumanTask.client_id)
        .where(
            HumanTask.status == TaskStatus.OPEN,
            HumanTask.assignee_id == actor.id,
            HumanTask.due_at.is_not(None),
            HumanTask.due_at < end,
        )
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(500)
    ).all()
    for client_id in sorted({client.id for _ht, client in rows}):
        audit.record(session, actor, "read", "caseload", client_id, client_id, now)
    return [dict(task_view(ht, now, client)) for ht, client in rows]
