"""Supervision of late work: overdue tasks grouped per client, each named and linked with its due time in the
agency's zone, and a new due date set with a reason (the escalation re-arms for it)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, render_template, request

from carepath.engine.access import TEAM_LEADS
from carepath.engine.errors import InvalidFormData

from ..appstate import cp
from ..auth import current_actor, login_required
from ..ui import back

bp = Blueprint("supervision", __name__)


@bp.get("/supervision/overdue")
@login_required(TEAM_LEADS)
def overdue():
    return render_template("supervision/overdue.html", groups=cp().overdue_board(current_actor()), errors={})


def _local(text: str) -> datetime | None:
    """A datetime-local field's value, read in the agency's zone."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=cp().settings.zone())
    except ValueError:
        return None


@bp.post("/supervision/tasks/<id:task_id>/due-date")
@login_required(TEAM_LEADS)
def set_due_date(task_id: int):
    reason = (request.form.get("reason") or "").strip()
    try:
        moved = cp().set_due_date(current_actor(), task_id, _local(request.form.get("due_at") or ""), reason)
    except InvalidFormData as exc:
        flash("The due date was not changed: " + " ".join(f.message for f in exc.fields), "warning")
        return back("supervision.overdue")
    flash(
        f"“{moved['title']}” is now due {request.form.get('due_at', '').replace('T', ' at ')}"
        + ("; it escalates again if missed." if moved["rearmed"] else ".")
    )
    return back("supervision.overdue")
