"""Messages people may send into a case: an explicit allow-list, with who may send each and what it carries.

Pathways hand over to each other with messages (intake_completed, assessment_completed, review_scheduled,
safety_plan_needed, task_overdue, …). Those are the engine's own: a person sending one would start a
pathway out of turn (an assessment before intake has ended, a discharge nobody decided), so only the
messages below may come from people, through the API or the staff pages. Anything else is NotAllowed (403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import forms
from .access import CLINICAL_ROLES, TEAM_LEADS, Actor
from .careteam import require_client
from .errors import NotAllowed
from .models import Case, Client

REASON = {"type": "string", "minLength": 1, "maxLength": 1000}
SOURCE = {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[a-z_]+$"}


@dataclass(frozen=True)
class Sendable:
    """A message people may send: who (`may_send`, given the case) and the JSON Schema of its payload."""

    name: str
    senders: str  # in words, for the README and the 403 message
    may_send: Callable[[Session, Actor, Case, datetime], bool]
    payload: dict[str, Any]


def _any_clinical_role(session: Session, actor: Actor, case: Case, now: datetime) -> bool:
    # An alarm must never wait for access: any clinical role may raise it, on the care team or not. Sending
    # it reveals nothing of the record (the answer names only the pathways that started) and is audited.
    return actor.has_any(CLINICAL_ROLES)


def _case_manager_or_supervisor(session: Session, actor: Actor, case: Case, now: datetime) -> bool:
    if actor.has_any(TEAM_LEADS):
        return True
    manager = session.scalar(select(Client.case_manager_id).where(Client.id == case.client_id))
    return manager is not None and manager == actor.id and "case_manager" in actor.roles


SENDABLE: dict[str, Sendable] = {
    m.name: m
    for m in (
        Sendable(
            "crisis_reported",
            "any clinical role (intake, case manager, clinician, supervisor, crisis team)",
            _any_clinical_role,
            {
                "type": "object",
                "required": ["reason"],
                "additionalProperties": False,
                "properties": {"reason": REASON, "source": SOURCE},
            },
        ),
        Sendable(
            "discharge_requested",
            "the client's case manager, or a supervisor",
            _case_manager_or_supervisor,
            {
                "type": "object",
                "required": ["reason"],
                "additionalProperties": False,
                "properties": {"reason": REASON, "source": SOURCE},
            },
        ),
    )
}


def check_sender(
    session: Session, actor: Actor, case: Case, name: object, payload: Any, now: datetime
) -> dict[str, Any]:
    """Check that the person may send this message into this case, and its payload. Returns the payload.

    Raises NotAllowed (not a message people send, or not theirs to send), NotOnCareTeam (a discharge request
    from outside the care team), InvalidFormData (the payload, field by field)."""
    sendable = SENDABLE.get(name) if isinstance(name, str) else None
    if sendable is None:
        raise NotAllowed(
            f"{str(name)[:100]!r} is not a message people may send; the pathways send it themselves. "
            f"People may send: {', '.join(sorted(SENDABLE))}."
        )
    if not sendable.may_send(session, actor, case, now):
        raise NotAllowed(f"{name} may be sent by {sendable.senders}.")
    if sendable.may_send is not _any_clinical_role:
        require_client(session, actor, case.client_id, now, write=True)
    forms.check(sendable.payload, payload if payload is not None else {})
    return dict(payload or {})
