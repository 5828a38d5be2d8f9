"""The case file: what staff see about one case (who, where in each pathway, what happened, scores,
plans) read in one transaction, and the smaller client context shown beside a task's form.

Reads only projection tables (human tasks, events, scores, form submissions), never instance blobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Row, Select, and_, bindparam, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from . import audit, contacts
from .access import RECORD_READERS, Actor, is_record_id
from .careteam import require_client
from .caseload import current_risk, shown_risk
from .clients import CASE_PATHWAYS, CASE_SCORES, case_row, case_view, case_view_of, client_row, client_view
from .errors import NotFound
from .inbox import task_view
from .library import SpecCache
from .models import Case, Client, Event, FormSubmission, HumanTask, PathwayInstance, PathwayVersion, User
from .paging import AnySelect
from .quality.adherence import case_promises
from .states import InstanceStatus
from .timeline import timeline
from .views import PathwayInstanceView, ScoreView

# Forms whose latest submission is "the current plan". The first form id found wins per kind.
PLAN_FORMS = {
    "treatment_plan": ("treatment_plan", "service_plan", "care_plan", "treatment_plan_review"),
    "safety_plan": ("safety_plan", "crisis_safety_plan"),
}
EVENT_LIMIT = 500
RUNNING = InstanceStatus.RUNNING
# The page shows people by name: their roles, which loading a User fetches in one more statement each time,
# are loaded only if something asks for them.
WITHOUT_ROLES_OF_CASE_MANAGER = (joinedload(Client.case_manager).lazyload(User.roles),)


def read_case_file(
    session: Session, specs: SpecCache, actor: Actor, case_id: int, now: datetime, everything: bool = False
) -> dict[str, Any]:
    """Everything on the case file page (with `everything`, the timeline shows engine steps too). Audited as a
    read of the case. Raises NotFound, NotAllowed, NotOnCareTeam.

    Each part is one statement, and a statement answers every part it can: the case comes with its client, the
    client's case manager and all the client's cases; the pathway instances with their current names and last
    activity (and so the current risk); the open tasks with their holders (part of the care team)."""
    case, client, cases = _case_with_client(session, case_id)
    require_client(session, actor, case.client_id, now)
    audit.record_many(session, actor, "read", "case", case.id, [client.id], now)
    instances = session.execute(_instances_of_case(), {"case_id": case.id}).all()
    view = case_view_of(case, instances, session.execute(CASE_SCORES, {"case_id": case.id}).all())
    open_tasks = _open_tasks(session, case.id)
    return {
        "case": view,
        "client": client_view(client, cases, now.date()),
        "care_team": care_team(session, case, client, open_tasks),
        "pathways": _positions(view["pathways"], instances, open_tasks, now),
        "open_tasks": [task_view(t, now, client) for t in open_tasks],
        "timeline": timeline(session, case.id, everything),
        "adherence": case_promises(session, now, case.id, {p["pathway"] for p in view["pathways"]}),
        "scores": _score_series(view["scores"]),
        "latest_scores": latest_scores(view["scores"]),
        "plans": plans(session, specs, client.id),
        "contacts": contacts.of_case(session, case.id, now, actor.id),
        "current_risk": shown_risk(case.risk_level, (i.process_id for i in instances if i.status == RUNNING)),
    }


def _case_with_client(session: Session, case_id: int) -> tuple[Case, Client, list[Case]]:
    """The case, its client (with the case manager, without their roles) and every case of the client, oldest
    first, in one statement. Raises NotFound."""
    rows = session.execute(_client_cases(), {"case_id": case_id}).all() if is_record_id(case_id) else []
    for case, client in rows:
        if case.id == case_id:
            return case, client, [c for c, _ in rows]
    raise NotFound(f"No case {case_id}.")


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
    client = client_row(session, case.client_id, options=WITHOUT_ROLES_OF_CASE_MANAGER)
    view = case_view(session, case)
    return {
        "case": {k: view[k] for k in ("id", "status", "risk_level", "opened_at")},
        "current_risk": current_risk(session, [case.id], {case.id: case.risk_level})[case.id],
        "client": client_view(client, [], now.date()),
        "care_team": care_team(session, case, client),
        "latest_scores": latest_scores(view["scores"]),
        "plans": plans(session, specs, client.id),
    }


def care_team(
    session: Session, case: Case, client: Client, open_tasks: list[HumanTask] | None = None
) -> list[dict[str, Any]]:
    """The client's case manager, then everyone who has claimed, held or done work in this case. `open_tasks`:
    the case's open tasks with their assignees, when the caller has read them (their holders need no query)."""
    team: dict[tuple[str, str], dict[str, Any]] = {}
    if client.case_manager is not None:
        team[("case_manager", client.case_manager.username)] = _member(client.case_manager, "case_manager")
    names: dict[tuple[str, str], str] = {}  # (role, username): display name
    for role, username, display in session.execute(_workers_of_case(), {"case_id": case.id}):
        names[role, username] = display
    if open_tasks is None:
        for role, username, display in session.execute(_holders_of_case(), {"case_id": case.id}):
            names[role, username] = display
    else:
        names.update({(t.role, t.assignee.username): t.assignee.display_name for t in open_tasks if t.assignee})
    for role, username in sorted(names):
        if (role, username) not in team:
            team[(role, username)] = {"role": role, "username": username, "name": names[role, username] or username}
    return list(team.values())


@cache
def _workers_of_case() -> AnySelect:
    """Who has claimed or completed work in the case `:case_id`, in which role (the people among them)."""
    return (
        select(Event.role, User.username, User.display_name)
        .join(User, User.username == Event.username)
        .where(
            Event.case_id == bindparam("case_id", type_=Integer),
            Event.lifecycle.in_(("completed", "claimed")),
            Event.role.is_not(None),
        )
        .distinct()
    )


@cache
def _holders_of_case() -> AnySelect:
    """Who holds an open task in the case `:case_id`, in which role."""
    return (
        select(HumanTask.role, User.username, User.display_name)
        .join(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == bindparam("case_id", type_=Integer), HumanTask.status == "open")
    )


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
    out: dict[str, dict[str, Any] | None] = dict.fromkeys(PLAN_FORMS)
    for kind, sub, username, display, version in session.execute(_latest_plans(), {"client_id": client_id}):
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


@cache
def _latest_plans() -> Select[str, FormSubmission, str, str, PathwayVersion]:
    """The latest submission of each kind of plan for the client `:client_id` (a kind with none has no row),
    with who submitted it and the pathway version its task ran on (the form as it was then)."""
    kind = sql_case(*((FormSubmission.form_id.in_(form_ids), k) for k, form_ids in PLAN_FORMS.items()))
    newest_first = (FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
    ranked = (
        select(
            FormSubmission.id,
            kind.label("kind"),
            func.row_number().over(partition_by=kind, order_by=newest_first).label("nth"),
        )
        .join(Case, Case.id == FormSubmission.case_id)
        .where(
            Case.client_id == bindparam("client_id", type_=Integer),
            FormSubmission.form_id.in_([f for form_ids in PLAN_FORMS.values() for f in form_ids]),
        )
        .subquery()
    )
    return (
        select(ranked.c.kind, FormSubmission, User.username, User.display_name, PathwayVersion)
        .join(ranked, and_(ranked.c.id == FormSubmission.id, ranked.c.nth == 1))
        .join(User, User.id == FormSubmission.submitted_by)
        .outerjoin(HumanTask, HumanTask.id == FormSubmission.human_task_id)
        .outerjoin(PathwayInstance, PathwayInstance.id == HumanTask.instance_id)
        .outerjoin(PathwayVersion, PathwayVersion.id == PathwayInstance.pathway_version_id)
    )


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
    return list(session.scalars(_open_tasks_of_case(), {"case_id": case_id}))


@cache
def _open_tasks_of_case() -> Select[HumanTask]:
    return (
        select(HumanTask)
        .options(joinedload(HumanTask.assignee).lazyload(User.roles))
        .where(HumanTask.case_id == bindparam("case_id", type_=Integer), HumanTask.status == "open")
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    )


@cache
def _client_cases() -> Select[Case, Client]:
    """Every case of the client of the case `:case_id`, oldest first, each with the client (and the client's
    case manager, without their roles)."""
    asked = aliased(Case)
    return (
        select(Case, Client)
        .select_from(asked)
        .join(Client, Client.id == asked.client_id)
        .join(Case, Case.client_id == Client.id)
        .outerjoin(User, User.id == Client.case_manager_id)
        .options(contains_eager(Client.case_manager).lazyload(User.roles))
        .where(asked.id == bindparam("case_id", type_=Integer))
        .order_by(Case.opened_at, Case.id)
    )


@cache
def _instances_of_case() -> AnySelect:
    """The pathway instances of the case `:case_id` (the case view's own statement), each with its pathway's
    current name and the last thing that happened in it among the case's latest EVENT_LIMIT events."""
    case_id = bindparam("case_id", type_=Integer)
    recent = (  # the case's events index, newest first
        select(Event.id, Event.instance_id, Event.activity, Event.activity_name, Event.lifecycle, Event.at)
        .where(Event.case_id == case_id)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(EVENT_LIMIT)
        .subquery()
    )
    newest = func.row_number().over(
        partition_by=recent.c.instance_id, order_by=(recent.c.at.desc(), recent.c.id.desc())
    )
    ranked = select(recent, newest.label("nth")).subquery()
    current = aliased(PathwayVersion)
    current_name = (
        select(current.name)
        .where(current.process_id == PathwayInstance.process_id, current.is_current.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    return CASE_PATHWAYS.add_columns(
        current_name.label("name"), ranked.c.activity, ranked.c.activity_name, ranked.c.lifecycle, ranked.c.at
    ).outerjoin(ranked, and_(ranked.c.instance_id == PathwayInstance.id, ranked.c.nth == 1))


def _positions(
    pathways: list[PathwayInstanceView], instances: Sequence[Row[Any]], open_tasks: list[HumanTask], now: datetime
) -> list[dict[str, Any]]:
    """Where the client is in each pathway instance: its open tasks, else the last thing that happened.
    `instances`: the rows of `_instances_of_case`, in the order of `pathways`."""
    out = []
    for p, row in zip(pathways, instances, strict=True):
        out.append(
            {
                **p,
                "name": row.name or p["pathway"],
                "open_tasks": [task_view(t, now) for t in open_tasks if t.instance_id == p["id"]],
                "last_activity": {
                    "name": row.activity_name or row.activity,
                    "lifecycle": row.lifecycle,
                    "at": row.at.isoformat(),
                }
                if row.at is not None
                else None,
            }
        )
    return out
