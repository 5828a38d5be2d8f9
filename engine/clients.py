"""Client and case records: registering, reading (always audited, care team only) and the case summary the
API shows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defaultload
from sqlalchemy.orm.interfaces import ORMOption

from . import audit, forms
from .access import RECORD_READERS, REGISTRARS, TEAM_LEADS, Actor, is_record_id
from .careteam import require_client, visible_clients
from .errors import BadRequest, FieldError, InvalidFormData, NotAllowed, NotFound
from .models import Case, Client, Event, PathwayInstance, PathwayVersion, Score, User
from .names import name_matches
from .paging import DEFAULT_LIMIT, Page, SortKey, keyset_page
from .states import CaseStatus
from .views import CaseView, ClientView, EventView

CLIENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["given_name", "family_name", "birth_date"],
    "properties": {
        "given_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "family_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "birth_date": {"type": "string", "format": "date"},
        "preferred_language": {"type": ["string", "null"], "maxLength": 50},
        "phone": {"type": ["string", "null"], "maxLength": 40},
        "email": {"type": ["string", "null"], "maxLength": 200},
        "address": {"type": ["string", "null"], "maxLength": 500},
        "case_manager": {"type": ["string", "null"], "maxLength": 64},
        "contacts": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "relationship": {"type": "string", "maxLength": 100},
                    "phone": {"type": "string", "maxLength": 40},
                    "may_contact": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

_EDITABLE = ("given_name", "family_name", "preferred_language", "phone", "email", "address", "contacts")


def _birth_date(text: str, today: date) -> date:
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise BadRequest("birth_date must be a date, YYYY-MM-DD.") from None
    if born > today:
        raise InvalidFormData(
            "1 field(s) need attention.", [FieldError("birth_date", "A birth date cannot be in the future.")]
        )
    return born


def _case_manager_id(session: Session, username: str | None) -> int | None:
    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None or "case_manager" not in user.role_names:
        raise InvalidFormData(
            "1 field(s) need attention.", [FieldError("case_manager", f"{username!r} is not a case manager.")]
        )
    return user.id


def create_client(session: Session, actor: Actor, data: dict[str, Any], now: datetime) -> ClientView:
    """Register a client. Raises NotAllowed, InvalidFormData (with the wrong fields)."""
    actor.require(REGISTRARS, "register clients")
    forms.check(CLIENT_SCHEMA, data)
    client = Client(
        given_name=data["given_name"].strip(),
        family_name=data["family_name"].strip(),
        birth_date=_birth_date(data["birth_date"], now.date()),
        contacts=data.get("contacts") or [],
        created_at=now,
        case_manager_id=_case_manager_id(session, data.get("case_manager")),
        registered_by=actor.id,
        **{k: data.get(k) for k in ("preferred_language", "phone", "email", "address")},
    )
    session.add(client)
    session.flush()
    audit.record(session, actor, "create", "client", client.id, client.id, now)
    return client_view(client, [], now.date())


def update_client(
    session: Session, actor: Actor, client_id: int, data: dict[str, Any] | None, now: datetime
) -> ClientView:
    """Change contact details or the case manager. Raises NotFound, NotAllowed, InvalidFormData."""
    actor.require(REGISTRARS, "change client records")
    client = client_row(session, client_id)
    require_client(session, actor, client.id, now, write=True)
    data = data or {}
    merged = {**client_view(client, [], now.date()), **data}
    merged = {k: v for k, v in merged.items() if k in CLIENT_SCHEMA["properties"]}
    forms.check(CLIENT_SCHEMA, merged)
    for key in _EDITABLE:
        if key in data:
            setattr(client, key, data[key])
    if "birth_date" in data:
        client.birth_date = _birth_date(data["birth_date"], now.date())
    if "case_manager" in data:
        if not actor.has_any(TEAM_LEADS | {"intake"}):
            raise NotAllowed("Only supervisors and intake staff assign case managers.")
        client.case_manager_id = _case_manager_id(session, data["case_manager"])
    audit.record(session, actor, "update", "client", client.id, client.id, now)
    return read_client(session, actor, client_id, now, audited=False)


def client_row(session: Session, client_id: object, options: Sequence[ORMOption] = ()) -> Client:
    client = session.get(Client, client_id, options=options) if is_record_id(client_id) else None
    if client is None:
        raise NotFound(f"No client {client_id}.")
    return client


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def client_view(client: Client, cases: list[Case], today: date) -> ClientView:
    return {
        "id": client.id,
        "given_name": client.given_name,
        "family_name": client.family_name,
        "birth_date": client.birth_date.isoformat(),
        "age": age_on(client.birth_date, today),
        "preferred_language": client.preferred_language,
        "phone": client.phone,
        "email": client.email,
        "address": client.address,
        "contacts": client.contacts or [],
        "case_manager": client.case_manager.username if client.case_manager else None,
        "created_at": client.created_at.isoformat(),
        "cases": [
            {
                "id": c.id,
                "status": c.status,
                "risk_level": c.risk_level,
                "opened_at": c.opened_at.isoformat(),
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            }
            for c in cases
        ],
    }


def read_client(session: Session, actor: Actor, client_id: int, now: datetime, audited: bool = True) -> ClientView:
    """The client record with its cases. Every read is audited. Raises NotFound, NotAllowed, NotOnCareTeam."""
    client = client_row(session, client_id)
    require_client(session, actor, client.id, now)
    cases = session.scalars(select(Case).where(Case.client_id == client.id).order_by(Case.opened_at)).all()
    if audited:
        audit.record(session, actor, "read", "client", client.id, client.id, now)
    return client_view(client, list(cases), now.date())


def search_clients(
    session: Session, actor: Actor, query: str, now: datetime, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[ClientView]:
    """One page of the clients whose name matches `query` (or all, without one), among those the person may
    open (filtered in the query, never after it), by family name, then given name, then id. Name matching and
    its indexes: engine/names.py. The search is audited: one entry per client found, each with the SHA-256 of
    the query (never the query: it is a name), or one entry without a client when nothing matched."""
    actor.require(RECORD_READERS, "search client records")
    # The case manager's name is shown; their roles are not (loaded only if something asks).
    stmt = (
        select(Client).where(visible_clients(actor, now)).options(defaultload(Client.case_manager).lazyload(User.roles))
    )
    q = (query or "").strip()
    if q:
        stmt = stmt.where(name_matches(q, session.get_bind().dialect.name))
    order = [SortKey(Client.family_name), SortKey(Client.given_name), SortKey(Client.id)]
    today = now.date()
    page = keyset_page(
        session,
        stmt,
        order,
        limit,
        cursor,
        key_of=lambda r: (r.Client.family_name, r.Client.given_name, r.Client.id),
        view=lambda r: client_view(r.Client, [], today),
    )
    audit.record_many(
        session,
        actor,
        "search",
        "client",
        query_hash(q),
        [c["id"] for c in page.items] or [None],
        now,
        detail={"results": len(page.items)},
    )
    return page


def query_hash(query: str) -> str:
    """How a search is audited: the SHA-256 of the query as searched (trimmed, lower case). An auditor asking
    "who searched for this name?" hashes the name and looks it up."""
    return hashlib.sha256(query.strip().lower().encode()).hexdigest()


def has_open_case(session: Session, client_id: int) -> bool:
    return (
        session.scalar(select(Case.id).where(Case.client_id == client_id, Case.status == CaseStatus.OPEN).limit(1))
        is not None
    )


def case_row(session: Session, case_id: object) -> Case:
    case = session.get(Case, case_id) if is_record_id(case_id) else None
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


# What a case view shows besides the case, built once (every case opened over the API answers with it):
# its pathway instances, and its scores as columns rather than objects.
CASE_PATHWAYS = (
    select(
        PathwayInstance.id,
        PathwayInstance.process_id,
        PathwayVersion.version,
        PathwayInstance.status,
        PathwayInstance.started_at,
        PathwayInstance.ended_at,
    )
    .join(PathwayVersion, PathwayVersion.id == PathwayInstance.pathway_version_id)
    .where(PathwayInstance.case_id == bindparam("case_id"))
    .order_by(PathwayInstance.id)
)
CASE_SCORES = (
    select(Score.instrument, Score.total, Score.severity, Score.at)
    .where(Score.case_id == bindparam("case_id"))
    .order_by(Score.at, Score.id)
)


def case_view(session: Session, case: Case) -> CaseView:
    # Columns only, so the plain connection: the session's ORM handling of a statement costs more than the read.
    connection = session.connection()
    rows = connection.execute(CASE_PATHWAYS, {"case_id": case.id}).all()
    scores = connection.execute(CASE_SCORES, {"case_id": case.id}).all()
    return case_view_of(case, rows, scores)


def case_view_of(case: Case, pathways: Sequence[Any], scores: Sequence[Any]) -> CaseView:
    """The case with its pathway instances and scores as read by the caller (rows or objects with the columns
    `case_view` reads), for a read that fetches them in its own statements (the case file)."""
    return {
        "id": case.id,
        "client_id": case.client_id,
        "status": case.status,
        "risk_level": case.risk_level,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "close_reason": case.close_reason,
        "pathways": [
            {
                "id": r.id,
                "pathway": r.process_id,
                "version": r.version,
                "status": r.status,
                "started_at": r.started_at.isoformat(),
                "ended_at": r.ended_at.isoformat() if r.ended_at else None,
            }
            for r in pathways
        ],
        "scores": [
            {"instrument": s.instrument, "total": s.total, "severity": s.severity, "at": s.at.isoformat()}
            for s in scores
        ],
    }


def read_case(session: Session, actor: Actor, case_id: int, now: datetime) -> CaseView:
    """The case with its pathway instances and scores. Audited. Raises NotFound, NotAllowed, NotOnCareTeam."""
    case = case_row(session, case_id)
    require_client(session, actor, case.client_id, now)
    audit.record(session, actor, "read", "case", case.id, case.client_id, now)
    return case_view(session, case)


def event_view(e: Event) -> EventView:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "case_id": e.case_id,
        "client_id": e.client_id,
        "instance_id": e.instance_id,
        "pathway": e.process_id,
        "pathway_version": e.pathway_version,
        "activity": e.activity,
        "activity_name": e.activity_name,
        "lifecycle": e.lifecycle,
        "role": e.role,
        "user": e.username,
    }


def read_case_events(
    session: Session, actor: Actor, case_id: int, now: datetime, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[EventView]:
    """One page of the case's event log, oldest first (by time, then id: ix_events_case_at). Audited.
    Raises NotFound, NotAllowed, NotOnCareTeam, BadRequest (a cursor not made here)."""
    case = case_row(session, case_id)
    require_client(session, actor, case.client_id, now)
    audit.record(session, actor, "read", "events", case.id, case.client_id, now)
    return keyset_page(
        session,
        select(Event).where(Event.case_id == case.id),
        [SortKey(Event.at), SortKey(Event.id)],
        limit,
        cursor,
        key_of=lambda r: (r.Event.at, r.Event.id),
        view=lambda r: event_view(r.Event),
    )
