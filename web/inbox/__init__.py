"""The inbox: my tasks, the team queue of my roles, the whole team's work for supervisors; claiming,
releasing and reassigning; and "Next task", which takes the most urgent task one may do."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from carepath.engine.access import CLINICAL_ROLES, TEAM_LEADS
from carepath.engine.errors import TaskNotOpen
from carepath.engine.paging import Page

from ..appstate import cp
from ..auth import current_actor, login_required
from ..paging import next_page_url, page_args
from ..ui import back, is_team_lead

bp = Blueprint("inbox", __name__)

VIEWS = {"mine": "My tasks", "team": "Team queue", "all": "All open work"}


def _views_for(actor) -> list[str]:
    return ["mine", "team", "all"] if is_team_lead(actor) else ["mine", "team"]


SORTS = {"due": "Most urgent first", "created": "Oldest first", "client": "Client name"}


@bp.get("/inbox")
@login_required()
def index():
    """One page of a view, filtered, searched and sorted by the engine in SQL; "Next page" follows the same
    keyset cursor the API uses."""
    actor = current_actor()
    views = _views_for(actor)
    view = request.args.get("view") if request.args.get("view") in views else landing_view(actor)
    filters = {k: (request.args.get(k) or "").strip()[:100] for k in ("pathway", "client", "role", "q")}
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "due"
    limit, cursor = page_args()
    client_id = int(filters["client"]) if filters["client"].isdigit() and len(filters["client"]) < 10 else None
    page = cp().inbox_page(
        actor,
        view,
        is_team_lead(actor),
        pathway=filters["pathway"] or None,
        client_id=client_id,
        role=filters["role"] or None,
        q=filters["q"],
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    roles = sorted(CLINICAL_ROLES) if is_team_lead(actor) else sorted(actor.roles)
    options = {"pathway": page.pathways, "role": roles}
    shown = page.tasks
    for t in shown:
        t["may_claim"] = t["assignee"] is None and t["role"] in actor.roles
        t["may_release"] = t["assignee"] == actor.username or (t["assignee"] is not None and is_team_lead(actor))
    counts = page.counts
    return render_template(
        "inbox/index.html",
        view=view,
        same_names=same_names(shown),
        views=[(v, VIEWS[v]) for v in views],
        counts={v: counts[v]["open"] for v in views},
        overdue={v: counts[v]["overdue"] for v in views},
        tasks=shown,
        filters=filters,
        options=options,
        people=page.assignees,
        sort=sort,
        sorts=SORTS,
        filtered=any(filters.values()),
        may_reassign=is_team_lead(actor),
        next_page=next_page_url(Page(shown, page.next_cursor)),
        paged=bool(cursor),
    )


# Roles whose work arrives in a team queue rather than assigned to them by name.
TEAM_QUEUE_ROLES = frozenset({"intake", "clinician", "crisis", "supervisor"})


def landing_view(actor) -> str:
    """Case managers land on their own tasks; the roles that work from a queue land on the team queue."""
    return "mine" if "case_manager" in actor.roles or not actor.has_any(TEAM_QUEUE_ROLES) else "team"


def same_names(tasks: list[dict]) -> set[int]:
    """Clients whose name is shared by another client in the list: their rows also show the client number."""
    ids_by_name: dict[str, set[int]] = {}
    for t in tasks:
        ids_by_name.setdefault(t.get("client_name", ""), set()).add(t["client_id"])
    return {cid for ids in ids_by_name.values() if len(ids) > 1 for cid in ids}


@bp.post("/inbox/next")
@login_required()
def next_task():
    """Open the most urgent task I may do: mine, or the team queue's (claimed for me on the way)."""
    task = cp().take_next_task(current_actor())
    if task is not None:
        return redirect(url_for("tasks.show", task_id=task["id"]))
    flash("Nothing is waiting for you right now.")
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<id:task_id>/claim")
@login_required()
def claim(task_id: int):
    try:
        task = cp().claim(current_actor(), task_id)
        flash(f"“{task['title']}” is now yours.")
    except TaskNotOpen as exc:
        flash(exc.message, "warning")
    return back("tasks.show", task_id=task_id)


@bp.post("/tasks/<id:task_id>/release")
@login_required()
def release(task_id: int):
    try:
        task = cp().release(current_actor(), task_id)
        flash(f"“{task['title']}” is back in the {task['role'].replace('_', ' ')} team queue.")
    except TaskNotOpen as exc:
        flash(exc.message, "warning")
    return back("inbox.index")


@bp.post("/tasks/<id:task_id>/assign")
@login_required(TEAM_LEADS)
def assign(task_id: int):
    username = (request.form.get("username") or "").strip() or None
    try:
        task = cp().assign(current_actor(), task_id, username)
        flash(f"“{task['title']}” assigned to {username}." if username else f"“{task['title']}” is unassigned.")
    except TaskNotOpen as exc:
        flash(exc.message, "warning")
    return back("inbox.index", view="all")
