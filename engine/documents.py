"""Client copies: the safety plan (Stanley-Brown layout), the treatment plan (with signature lines) and the
discharge summary, as the latest answers of their forms for one client, for a printable page.

Reading one is a read of the record (care team, supervisors, quality) and is audited as a print.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .access import Actor
from .careteam import require_client
from .casefile import _form_of
from .clients import client_row, client_view
from .errors import NotFound
from .library import SpecCache
from .models import Case, FormSubmission, User

DOCUMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "safety-plan": ("Safety plan", ("safety_plan", "crisis_safety_plan")),
    "treatment-plan": ("Treatment plan", ("treatment_plan", "service_plan", "care_plan")),
    "discharge-summary": ("Discharge summary", ("discharge_summary",)),
}


def client_copy(
    session: Session, specs: SpecCache, actor: Actor, client_id: object, kind: str, now: datetime
) -> dict[str, Any]:
    """The client, and the latest answers (with the form they were given in) of the document `kind`.
    Audited. Raises NotFound (no such client or document, or none written yet), NotAllowed, NotOnCareTeam."""
    if kind not in DOCUMENTS:
        raise NotFound(f"No document {kind!r}.")
    client = client_row(session, client_id)
    require_client(session, actor, client.id, now)
    title, form_ids = DOCUMENTS[kind]
    row = session.execute(
        select(FormSubmission, User.username, User.display_name)
        .join(Case, Case.id == FormSubmission.case_id)
        .join(User, User.id == FormSubmission.submitted_by)
        .where(Case.client_id == client.id, FormSubmission.form_id.in_(form_ids))
        .order_by(FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"No {title.lower()} has been written for this client yet.")
    sub, username, display = row
    schema, ui = _form_of(session, specs, sub)
    audit.record(session, actor, "print", kind.replace("-", "_"), sub.id, client.id, now)
    return {
        "kind": kind,
        "title": title,
        "client": client_view(client, [], now.date()),
        "submitted_at": sub.submitted_at.isoformat(),
        "submitted_by": display or username,
        "case_id": sub.case_id,
        "data": sub.data,
        "schema": schema,
        "ui_schema": ui,
    }
