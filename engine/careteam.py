"""Who may open a client's record: the care team, supervisors and quality staff, and break the glass.

The record of a client (the client, their cases, tasks and event logs) is open to:

- the client's **care team**: the assigned case manager; whoever registered the client or opened one of
  their cases (intake goes on with the referral it just took); whoever holds an open task, or has completed
  a task, in one of the client's cases; and whoever broke the glass for the client in the last 12 hours;
- **supervisors** (read and write) and **quality** staff (read only), for every client;
- nobody else: other clinical roles get NotOnCareTeam (403, with the way to break the glass), and admins,
  who run the system, get NotAllowed.

One task is also open to the people it is offered to: an open task in the queue of one's role, or assigned
to one. That is how a crisis worker acts on the crisis task just put in the crisis team's queue, and a
clinician on a clinical review: opening and claiming or completing the task needs no other access, and
holding or completing it puts them on the client's care team.

Every question is answered in SQL from indexed columns (ix_clients_case_manager_id, ix_clients_registered_by,
ix_cases_opened_by, ix_human_tasks_holder, ix_human_tasks_done_by, ix_break_glass_user), so a search or a
check costs the same however many clients the agency has.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, literal, select, union
from sqlalchemy.orm import QueryableAttribute, Session

from . import audit
from .access import CLINICAL_ROLES, READ_EVERY_RECORD, RECORD_READERS, TEAM_LEADS, Actor, may_work_task
from .access_models import BreakGlass
from .errors import FieldError, InvalidFormData, NotAllowed, NotOnCareTeam
from .models import Case, Client, HumanTask, User
from .states import TaskStatus

BREAK_GLASS_HOURS = 12
REASON_MIN, REASON_MAX = 10, 1000


def team_client_ids(actor: Actor, now: datetime, client_id: int | None = None) -> CompoundSelect[int]:
    """A SELECT of the ids of the clients whose care team the person is on (optionally only `client_id`)."""
    return _team_client_ids(actor.id, now, client_id)


def _team_client_ids(me: Any, now: Any, client_id: Any) -> CompoundSelect[int]:
    """team_client_ids with values, or with bound parameters in a statement built once."""

    def only(column: QueryableAttribute[int]) -> ColumnElement[bool]:
        return column == client_id if client_id is not None else literal(True)

    return union(
        select(Client.id).where(Client.case_manager_id == me, only(Client.id)),
        select(Client.id).where(Client.registered_by == me, only(Client.id)),
        select(Case.client_id).where(Case.opened_by == me, only(Case.client_id)),
        select(HumanTask.client_id).where(
            HumanTask.assignee_id == me, HumanTask.status == TaskStatus.OPEN, only(HumanTask.client_id)
        ),
        select(HumanTask.client_id).where(HumanTask.completed_by == me, only(HumanTask.client_id)),
        select(BreakGlass.client_id).where(
            BreakGlass.user_id == me, BreakGlass.expires_at > now, only(BreakGlass.client_id)
        ),
    )


# Is this person on this client's care team: asked before most reads and changes of a record (every case
# opened), so built once with bound parameters; building the union each time cost more than answering it.
_ON_CARE_TEAM = _team_client_ids(
    bindparam("me", type_=Client.case_manager_id.type),
    bindparam("now", type_=BreakGlass.expires_at.type),
    bindparam("client_id", type_=Client.id.type),
).limit(1)


def on_care_team(session: Session, actor: Actor, client_id: int, now: datetime) -> bool:
    found = session.connection().execute(_ON_CARE_TEAM, {"me": actor.id, "now": now, "client_id": client_id})
    return found.first() is not None


def reads_every_record(actor: Actor) -> bool:
    return actor.has_any(READ_EVERY_RECORD)


def visible_clients(actor: Actor, now: datetime) -> ColumnElement[bool]:
    """A condition on Client.id: the clients whose records the person may open (for searches and lists)."""
    if not actor.has_any(RECORD_READERS):
        return literal(False)
    if reads_every_record(actor):
        return literal(True)
    return Client.id.in_(team_client_ids(actor, now))


def require_client(session: Session, actor: Actor, client_id: int, now: datetime, write: bool = False) -> None:
    """Check that the person may read (or, with `write`, change) the client's record.

    Raises NotAllowed (admins; quality staff changing anything) or NotOnCareTeam (break the glass)."""
    if not actor.has_any(RECORD_READERS):
        raise NotAllowed("Administrators run the system and do not open client records.")
    if write and not actor.has_any(CLINICAL_ROLES):
        raise NotAllowed("Quality staff read records; they do not change them.")
    if actor.has_any(TEAM_LEADS) or (not write and reads_every_record(actor)):
        return
    if on_care_team(session, actor, client_id, now):
        return
    raise NotOnCareTeam(
        "You are not on this client's care team. If you must open the record (an emergency, "
        "covering for a colleague), break the glass: say why, and it opens for "
        f"{BREAK_GLASS_HOURS} hours. Supervisors review every such access.",
        client_id,
    )


def require_task(session: Session, actor: Actor, ht: HumanTask, now: datetime) -> None:
    """Reading a task: the people it is offered to (open, in their role's queue or assigned to them), and
    whoever may read the client's record. Raises NotAllowed, NotOnCareTeam."""
    if not actor.has_any(RECORD_READERS):
        raise NotAllowed("Administrators run the system and do not open client records.")
    if ht.status == TaskStatus.OPEN and may_work_task(actor, ht.role, ht.assignee_id):
        return
    require_client(session, actor, ht.client_id, now)


def break_glass(session: Session, actor: Actor, client_id: int, reason: object, now: datetime) -> dict[str, Any]:
    """Open a client's record to someone outside the care team for BREAK_GLASS_HOURS, with their reason.
    Audited, and listed for supervisors and quality staff. Raises NotAllowed, InvalidFormData."""
    if not actor.has_any(CLINICAL_ROLES):
        raise NotAllowed("Only clinical staff may break the glass.")
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) < REASON_MIN or len(text) > REASON_MAX:
        raise InvalidFormData(
            "1 field(s) need attention.",
            [FieldError("reason", f"Say why you need this record, in {REASON_MIN} to {REASON_MAX} characters.")],
        )
    grant = BreakGlass(
        user_id=actor.id, client_id=client_id, reason=text, at=now, expires_at=now + timedelta(hours=BREAK_GLASS_HOURS)
    )
    session.add(grant)
    session.flush()
    audit.record(session, actor, "break_glass", "client", client_id, client_id, now)
    return {
        "id": grant.id,
        "client_id": client_id,
        "username": actor.username,
        "reason": text,
        "at": now.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
    }


def break_glass_log(session: Session, actor: Actor, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Recent break-the-glass accesses, newest first, for supervisors and quality staff. The review is
    audited. Raises NotAllowed."""
    actor.require(READ_EVERY_RECORD, "review break-the-glass accesses")
    rows = session.execute(
        select(BreakGlass, User.username, User.display_name, Client.given_name, Client.family_name)
        .join(User, User.id == BreakGlass.user_id)
        .join(Client, Client.id == BreakGlass.client_id)
        .order_by(BreakGlass.at.desc(), BreakGlass.id.desc())
        .limit(limit)
    ).all()
    audit.record(session, actor, "review", "break_glass", "list", None, now)
    return [
        {
            "id": g.id,
            "client_id": g.client_id,
            "client_name": f"{given} {family}",
            "username": username,
            "name": display or username,
            "reason": g.reason,
            "at": g.at.isoformat(),
            "expires_at": g.expires_at.isoformat(),
            "active": g.expires_at > now,
        }
        for g, username, display, given, family in rows
    ]
