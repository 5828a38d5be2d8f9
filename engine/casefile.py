"""The case file: what staff see about one case (who, where in each pathway, what happened, scores,
plans) read in one transaction, and the smaller client context shown beside a task's form.

Reads only projection tables (human tasks, events, scores, form submissions), never instance blobs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from . import audit, contacts
from .access import RECORD_READERS, Actor
from .careteam import require_client
from .caseload import current_risk
from .clients import case_row, case_view, client_row, client_view
from .inbox import task_view
from .library import SpecCache
from .models import Case, Client, Event, FormSubmission, HumanTask, PathwayInstance, PathwayVersion, User
from .quality.adherence import case_promises
from .timeline import timeline
from .views import PathwayInstanceView, ScoreView

# Forms whose latest submission is "the current plan". The first form id found wins per kind.
PLAN_FORMS = {
    "treatment_plan": ("treatment_plan", "service_plan", "care_plan", "treatment_plan_review"),
    "safety_plan": ("safety_plan", "crisis_safety_plan"),
}
EVENT_LIMIT = 500
# The page shows people by name: their roles, which loading a User fetches in one more statement each time,
# are loaded only if something asks for them.
WITHOUT_ROLES_OF_CASE_MANAGER = (joinedload(Client.case_manager).lazyload(User.roles),)


def read_case_file(
    session: Session, specs: SpecCache, actor: Actor, case_id: int, now: datetime, everything: bool = False
) -> dict[str, Any]:
    """Everything on the case file page (with `everything`, the timeline shows engine steps too). Audited as a
    read of the case. Raises NotFound, NotAllowed, NotOnCareTeam."""
    case = case_row(session, case_id)
    require_client(session, actor, case.client_id, now)
    client = client_row(session, case.client_id, options=WITHOUT_ROLES_OF_CASE_MANAGER)
    audit.record(session, actor, "read", "case", case.id, client.id, now)
    view = case_view(session, case)
    open_tasks = _open_tasks(session, case.id)
    return {
        "case": view,
        "client": client_view(client, _cases_of(session, client.id), now.date()),
        "care_team": care_team(session, case, client),
        "pathways": _positions(session, case.id, view["pathways"], open_tasks, now),
        "open_tasks": [task_view(t, now, client) for t in open_tasks],
        "timeline": timeline(session, case.id, everything),
        "adherence": case_promises(session, now, case.id, {p["pathway"] for p in view["pathways"]}),
        "scores": _score_series(view["scores"]),
        "latest_scores": latest_scores(view["scores"]),
        "plans": plans(session, specs, client.id),
        **day_additions(session, actor, case, now),
    }


def day_additions(session: Session, actor: Actor, case: Case, now: datetime) -> dict[str, Any]:
    """The case's contacts (shown on the timeline) and the case's current risk (a running crisis shows as one)."""
    return {
        "contacts": contacts.of_case(session, case.id, now, actor.id),
        "current_risk": current_risk(session, [case.id], {case.id: case.risk_level})[case.id],
    }


def task_context(
    session: Session, specs: SpecCache, actor: Actor, case_id: int, now: datetime
) -> dict[str, Any] | None:
    """The client's context beside a task form: who, care team, risk, latest scores, current plans.

    Not audited by itself: call it in the transaction of the audited read it accompanies
    (`inbox.read_task`, which has checked that the task is open to the caller: offered to them, or theirs to
    read as the client's care team). Returns None for a caller whose roles do not read client records."""
    if not actor.has_any(RECORD_READERS):
        return None
    case = case_row(session, case_id)
    client = client_row(session, case.client_id)
    view = case_view(session, case)
    return {
        "case": {k: view[k] for k in ("id", "status", "risk_level", "opened_at")},
        "current_risk": current_risk(session, [case.id], {case.id: case.risk_level})[case.id],
        "client": client_view(client, [], now.date()),
        "care_team": care_team(session, case, client),
        "latest_scores": latest_scores(view["scores"]),
        "plans": plans(session, specs, client.id),
    }


def care_team(session: Session, case: Case, client: Client) -> list[dict[str, Any]]:
    """The client's case manager, then everyone who has claimed, held or done work in this case."""
    team: dict[tuple[str, str], dict[str, Any]] = {}
    if client.case_manager is not None:
        team[("case_manager", client.case_manager.username)] = _member(client.case_manager, "case_manager")
    rows = session.execute(
        select(Event.role, Event.username)
        .where(
            Event.case_id == case.id,
            Event.lifecycle.in_(("completed", "claimed")),
            Event.username.is_not(None),
            Event.role.is_not(None),
        )
        .distinct()
    ).all()
    holders = session.execute(
        select(HumanTask.role, User.username)
        .join(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == case.id, HumanTask.status == "open")
    ).all()
    names = {r.username for r in [*rows, *holders]}
    found = select(User).where(User.username.in_(names)).options(lazyload(User.roles))
    users = {u.username: u for u in session.scalars(found)} if names else {}
    for role, username in sorted({(r.role, r.username) for r in [*rows, *holders]}):
        if (role, username) not in team and username in users:
            team[(role, username)] = _member(users[username], role)
    return list(team.values())


def _member(user: User, role: str) -> dict[str, Any]:
    return {"role": role, "username": user.username, "name": user.display_name or user.username}


def latest_scores(scores: list[ScoreView]) -> list[dict[str, Any]]:
    """The most recent score per instrument, with the one before it (to show the change)."""
    latest: dict[str, dict[str, Any]] = {}
    for s in scores:  # oldest first
        previous = latest.get(s["instrument"])
        latest[s["instrument"]] = {**s, "previous": previous["total"] if previous else None}
    return sorted(latest.values(), key=lambda s: s["instrument"])


def _score_series(scores: list[ScoreView]) -> dict[str, list[ScoreView]]:
    series: dict[str, list[ScoreView]] = {}
    for s in scores:
        series.setdefault(s["instrument"], []).append(s)
    return series


def plans(session: Session, specs: SpecCache, client_id: int) -> dict[str, dict[str, Any] | None]:
    """The latest submission of each plan form for the client (from any of their cases), with the form
    schema to show it with the form's own wording."""
    out: dict[str, dict[str, Any] | None] = {}
    for kind, form_ids in PLAN_FORMS.items():
        # The pathway version the task ran on comes in the same statement (the form as it was then).
        row = session.execute(
            select(FormSubmission, User.username, User.display_name, PathwayVersion)
            .join(Case, Case.id == FormSubmission.case_id)
            .join(User, User.id == FormSubmission.submitted_by)
            .outerjoin(HumanTask, HumanTask.id == FormSubmission.human_task_id)
            .outerjoin(PathwayInstance, PathwayInstance.id == HumanTask.instance_id)
            .outerjoin(PathwayVersion, PathwayVersion.id == PathwayInstance.pathway_version_id)
            .where(Case.client_id == client_id, FormSubmission.form_id.in_(form_ids))
            .order_by(FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
            .limit(1)
        ).first()
        if row is None:
            out[kind] = None
            continue
        sub, username, display, version = row
        schema, ui = _form_in(specs, version, sub.form_id) if version is not None else (None, None)
        out[kind] = {
            "form_id": sub.form_id,
            "case_id": sub.case_id,
            "task_id": sub.human_task_id,
            "submitted_at": sub.submitted_at.isoformat(),
            "submitted_by": display or username,
            "data": sub.data,
            "schema": schema,
            "ui_schema": ui,
            "title": (schema or {}).get("title") or sub.form_id.replace("_", " ").capitalize(),
        }
    return out


def _form_of(
    session: Session, specs: SpecCache, sub: FormSubmission
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The form as it was when the answers were given (the pathway version the task ran on)."""
    ht = session.get(HumanTask, sub.human_task_id)
    instance = session.get(PathwayInstance, ht.instance_id) if ht else None
    if instance is None:
        return None, None
    return _form_in(specs, instance.pathway_version, sub.form_id)


def _form_in(
    specs: SpecCache, version: PathwayVersion, form_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    pathway = specs.get(version)
    for filename in (f"{form_id}.schema.json", f"{form_id}.json"):
        schema, ui = pathway.form(filename)
        if schema is not None:
            return schema, ui
    return None, None


def _open_tasks(session: Session, case_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask)
            .options(joinedload(HumanTask.assignee).lazyload(User.roles))
            .where(HumanTask.case_id == case_id, HumanTask.status == "open")
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
        )
    )


def _cases_of(session: Session, client_id: int) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.client_id == client_id).order_by(Case.opened_at)))


def _positions(
    session: Session,
    case_id: int,
    pathways: list[PathwayInstanceView],
    open_tasks: list[HumanTask],
    now: datetime,
) -> list[dict[str, Any]]:
    """Where the client is in each pathway instance: its open tasks, else the last thing that happened."""
    names = (
        dict(
            session.execute(
                select(PathwayVersion.process_id, PathwayVersion.name).where(
                    PathwayVersion.process_id.in_({p["pathway"] for p in pathways}), PathwayVersion.is_current.is_(True)
                )
            ).all()
        )
        if pathways
        else {}
    )
    last_event: dict[int, Any] = {}
    recent = session.execute(  # the columns shown only, newest first (the case's events index)
        select(Event.instance_id, Event.activity, Event.activity_name, Event.lifecycle, Event.at)
        .where(Event.case_id == case_id)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(EVENT_LIMIT)
    )
    for e in recent:
        if e.instance_id is not None and e.instance_id not in last_event:
            last_event[e.instance_id] = e
    out = []
    for p in pathways:
        waiting = [task_view(t, now) for t in open_tasks if t.instance_id == p["id"]]
        last = last_event.get(p["id"])
        out.append(
            {
                **p,
                "name": names.get(p["pathway"]) or p["pathway"],
                "open_tasks": waiting,
                "last_activity": {
                    "name": last.activity_name or last.activity,
                    "lifecycle": last.lifecycle,
                    "at": last.at.isoformat(),
                }
                if last
                else None,
            }
        )
    return out
