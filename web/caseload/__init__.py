"""My caseload (my clients with risk, last contact, next due work and open plan items) and my week of due
work, both read by indexed queries in engine/caseload.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request

from carepath.engine.access import CLINICAL_ROLES

from ..appstate import cp, now
from ..auth import current_actor, login_required
from ..paging import next_page_url, page_args

bp = Blueprint("caseload", __name__)


@bp.get("/caseload")
@login_required(CLINICAL_ROLES)
def index():
    limit, cursor = page_args()
    page = cp().caseload(current_actor(), limit, cursor)
    return render_template("caseload/index.html", rows=page.items, next_url=next_page_url(page))


@bp.get("/caseload/week")
@login_required(CLINICAL_ROLES)
def week():
    """Seven days from the given Monday (`?start=YYYY-MM-DD`, default this week), in the agency's zone;
    work already overdue is listed first."""
    zone = cp().settings.zone()
    today = now().astimezone(zone).date()
    try:
        first = datetime.fromisoformat(request.args.get("start") or "").date()
    except ValueError:
        first = today - timedelta(days=today.weekday())
    start = datetime.combine(first, time(), zone)
    tasks = cp().week(current_actor(), start)
    days = {first + timedelta(days=i): [] for i in range(7)}
    overdue = []
    for t in tasks:
        due = datetime.fromisoformat(t["due_at"]).astimezone(zone).date()
        (days[due] if due in days else overdue).append(t)
    return render_template(
        "caseload/week.html",
        days=days,
        overdue=overdue,
        today=today,
        previous=(first - timedelta(days=7)).isoformat(),
        next=(first + timedelta(days=7)).isoformat(),
    )
