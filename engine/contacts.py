"""Contacts: the calls, visits, collateral contacts and no-shows of a case manager's day, with the time spent and
the plan goals they worked on. Agencies bill and are audited on these.

A contact is recorded from the case file or from a task (then it also satisfies a step that requires one,
`x-requires-contact` in the form's UI hints). Its author may edit it for EDIT_HOURS; after that it can only be
amended, with a reason, and each amendment keeps what it replaced. Every read and change is audited; the note
itself is never logged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, carryover, forms
from .access import READ_EVERY_RECORD, Actor, is_record_id
from .careteam import require_client
from .clients import case_row
from .day_models import Contact, ContactVersion
from .errors import FieldError, InvalidFormData, NotAllowed, NotFound, TaskNotOpen
from .models import Client, HumanTask, User
from .states import CaseStatus, ContactModality

EDIT_HOURS = 24
MODALITY_TITLES: dict[str, str] = {
    ContactModality.PHONE: "Phone",
    ContactModality.VIDEO: "Video",
    ContactModality.HOME_VISIT: "Home visit",
    ContactModality.OFFICE: "Office",
    ContactModality.COLLATERAL: "Collateral (about the client)",
    ContactModality.NO_SHOW: "Attempted / no-show",
}
CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["at", "minutes", "modality"],
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
        "modality": {"type": "string", "enum": [m.value for m in ContactModality]},
        "with_whom": {"type": "string", "maxLength": 200},
        "goals": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 500}},
        "note": {"type": "string", "maxLength": 5000},
    },
    "additionalProperties": False,
}
FIELDS = ("at", "minutes", "modality", "with_whom", "goals", "note")
REASON_MIN = 5
CSV_COLUMNS = (
    "contact_id",
    "date",
    "start",
    "minutes",
    "modality",
    "staff",
    "staff_name",
    "client_id",
    "client_name",
    "case_id",
    "with_whom",
    "goals",
)


def _parse(data: Any, now: datetime) -> dict[str, Any]:
    """Checked contact fields. Raises InvalidFormData with a message per wrong field."""
    forms.check(CONTACT_SCHEMA, data)
    at = datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise InvalidFormData("1 field(s) need attention.", [FieldError("at", "Give the time with its time zone.")])
    if at > now + timedelta(minutes=5):
        raise InvalidFormData(
            "1 field(s) need attention.",
            [FieldError("at", "A contact is recorded once it has happened: the time is in the future.")],
        )
    return {
        "at": at,
        "minutes": int(data["minutes"]),
        "modality": data["modality"],
        "with_whom": (data.get("with_whom") or "").strip(),
        "note": (data.get("note") or "").strip(),
        "goals": [g.strip() for g in data.get("goals") or [] if g.strip()],
    }


def options(session: Session, actor: Actor, case_id: object, now: datetime) -> dict[str, Any]:
    """What the contact form offers: the client's name and the goals of their current treatment plan.
    Care team only (a write); audited as a read of the case. Raises NotFound, NotAllowed, NotOnCareTeam."""
    case = case_row(session, case_id)
    require_client(session, actor, case.client_id, now, write=True)
    client = session.get(Client, case.client_id)
    assert client is not None
    audit.record(session, actor, "read", "case", case.id, case.client_id, now)
    plan = carryover.latest(session, case.client_id, "treatment_plan") or {}
    goals = [str(g.get("goal")) for g in plan.get("goals") or [] if isinstance(g, dict) and g.get("goal")]
    return {
        "case_id": case.id,
        "client_id": client.id,
        "client_name": f"{client.given_name} {client.family_name}",
        "case_open": case.status == CaseStatus.OPEN,
        "goals": goals,
    }


def _contact(session: Session, contact_id: object) -> Contact:
    row = session.get(Contact, contact_id) if is_record_id(contact_id) else None
    if row is None:
        raise NotFound(f"No contact {contact_id}.")
    return row


def record(
    session: Session, actor: Actor, case_id: object, data: Any, now: datetime, task_id: int | None = None
) -> dict[str, Any]:
    """Record a contact in a case (optionally from one of its tasks). Care team only; audited.
    Raises NotFound, NotAllowed, NotOnCareTeam, InvalidFormData, TaskNotOpen (a closed case)."""
    case = case_row(session, case_id)
    require_client(session, actor, case.client_id, now, write=True)
    if case.status != CaseStatus.OPEN:
        raise TaskNotOpen("This case is closed; contacts are recorded in an open case.")
    if task_id is not None:
        ht = session.get(HumanTask, task_id) if is_record_id(task_id) else None
        if ht is None or ht.case_id != case.id:
            raise NotFound(f"No task {task_id} in this case.")
    fields = _parse(data, now)
    row = Contact(
        case_id=case.id,
        client_id=case.client_id,
        human_task_id=task_id,
        author_id=actor.id,
        created_at=now,
        updated_at=now,
        amended=0,
        **fields,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "contact", row.id, case.client_id, now)
    return _view(row, actor.username, actor.username, now, actor.id)


def change(
    session: Session, actor: Actor, contact_id: object, data: Any, now: datetime, reason: str | None = None
) -> dict[str, Any]:
    """The author edits a contact within EDIT_HOURS of recording it; later, they amend it with a reason and the
    old text is kept. Raises NotFound, NotAllowed, NotOnCareTeam, InvalidFormData."""
    row = _contact(session, contact_id)
    require_client(session, actor, row.client_id, now, write=True)
    if row.author_id != actor.id:
        raise NotAllowed("Only the person who recorded a contact may change it.")
    fields = _parse(data, now)
    if not editable(row, now):
        text = (reason or "").strip()
        if len(text) < REASON_MIN or len(text) > 1000:
            raise InvalidFormData(
                "1 field(s) need attention.",
                [
                    FieldError(
                        "reason",
                        f"This contact is older than {EDIT_HOURS} hours: say why you amend it "
                        f"({REASON_MIN} to 1000 characters). The earlier text is kept.",
                    )
                ],
            )
        session.add(
            ContactVersion(
                contact_id=row.id, amended_at=now, amended_by=actor.id, reason=text, before=_fields_json(row)
            )
        )
        row.amended += 1
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "update", "contact", row.id, row.client_id, now)
    return _view(row, actor.username, actor.username, now, actor.id)


def read(session: Session, actor: Actor, contact_id: object, now: datetime) -> dict[str, Any]:
    """One contact with its amendment history (oldest first). Audited. Raises NotFound, NotAllowed,
    NotOnCareTeam."""
    row = _contact(session, contact_id)
    require_client(session, actor, row.client_id, now)
    audit.record(session, actor, "read", "contact", row.id, row.client_id, now)
    author = session.get(User, row.author_id)
    view = _view(row, author.username if author else "", _name(author), now, actor.id)
    versions = session.execute(
        select(ContactVersion, User.username, User.display_name)
        .join(User, User.id == ContactVersion.amended_by)
        .where(ContactVersion.contact_id == row.id)
        .order_by(ContactVersion.id)
    ).all()
    view["history"] = [
        {"amended_at": v.amended_at.isoformat(), "by": display or username, "reason": v.reason, "before": v.before}
        for v, username, display in versions
    ]
    return view


def of_case(session: Session, case_id: int, now: datetime, viewer_id: int) -> list[dict[str, Any]]:
    """The case's contacts, newest first, for the case file's timeline. Not audited by itself: call it in the
    transaction of the audited case-file read."""
    rows = session.execute(
        select(Contact, User.username, User.display_name)
        .join(User, User.id == Contact.author_id)
        .where(Contact.case_id == case_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(500)
    ).all()
    return [_view(c, username, display or username, now, viewer_id) for c, username, display in rows]


def recorded_for_task(session: Session, task_id: int) -> bool:
    """Whether a contact has been recorded from this task (a step that requires one checks this)."""
    return session.scalar(select(Contact.id).where(Contact.human_task_id == task_id).limit(1)) is not None


def editable(row: Contact, now: datetime) -> bool:
    return now - row.created_at < timedelta(hours=EDIT_HOURS)


def billing_rows(
    session: Session, actor: Actor, start: datetime, end: datetime, username: str | None, now: datetime
) -> Iterator[str]:
    """CSV lines of the contacts in [start, end) (one staff member's, or everyone's), for billing: times,
    minutes, modality, who, client and goals, never the note. Supervisors and quality staff; the export is
    audited before the first line. Raises NotAllowed, NotFound (an unknown staff member)."""
    actor.require(READ_EVERY_RECORD, "export contacts for billing")
    stmt = (
        select(Contact, User.username, User.display_name, Client.given_name, Client.family_name)
        .join(User, User.id == Contact.author_id)
        .join(Client, Client.id == Contact.client_id)
        .where(Contact.at >= start, Contact.at < end)
    )
    if username:
        staff = session.scalar(select(User.id).where(User.username == username))
        if staff is None:
            raise NotFound(f"No staff member {username!r}.")
        stmt = stmt.where(Contact.author_id == staff)
    audit.record(
        session,
        actor,
        "export",
        "contacts",
        "contacts.csv",
        None,
        now,
        detail={"from": start.isoformat(), "to": end.isoformat(), "staff": username or "all"},
    )
    stmt = stmt.order_by(User.username, Contact.at, Contact.id).execution_options(yield_per=500)
    yield _csv_line(CSV_COLUMNS)
    for c, staff_name, display, given, family in session.execute(stmt):
        yield _csv_line(
            (
                c.id,
                c.at.date().isoformat(),
                c.at.isoformat(),
                c.minutes,
                c.modality,
                staff_name,
                display or staff_name,
                c.client_id,
                f"{given} {family}",
                c.case_id,
                c.with_whom,
                "; ".join(c.goals or []),
            )
        )


def _csv_line(values: tuple[Any, ...]) -> str:
    out = io.StringIO()
    # Cells a spreadsheet would run as a formula are quoted with a leading apostrophe.
    csv.writer(out).writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values])
    return out.getvalue()


def _fields_json(row: Contact) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(),
        "minutes": row.minutes,
        "modality": row.modality,
        "with_whom": row.with_whom,
        "goals": list(row.goals or []),
        "note": row.note,
    }


def _name(user: User | None) -> str:
    return (user.display_name or user.username) if user else ""


def _view(row: Contact, username: str, name: str, now: datetime, viewer_id: int) -> dict[str, Any]:
    mine = row.author_id == viewer_id
    return {
        "id": row.id,
        "case_id": row.case_id,
        "client_id": row.client_id,
        "task_id": row.human_task_id,
        **_fields_json(row),
        "modality_title": MODALITY_TITLES.get(row.modality, row.modality),
        "author": username,
        "author_name": name,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "amended": row.amended,
        "may_edit": mine and editable(row, now),
        "may_amend": mine and not editable(row, now),
    }
