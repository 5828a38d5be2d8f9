"""The case file (timeline, open tasks, pathway positions, scores chart, plans) and "Report a crisis"."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from carepath.engine.access import CLINICAL_ROLES, MESSENGERS, RECORD_READERS, REGISTRARS
from carepath.engine.errors import NotFound, TaskNotOpen

from .. import forms
from ..appstate import cp
from ..auth import current_actor, login_required
from .chart import score_chart

bp = Blueprint("cases", __name__)


def timeline(file: dict) -> list[dict]:
    """The case's timeline (engine/timeline.py) with its contacts in place, newest first."""
    items = list(file["timeline"]) + [
        {"kind": "contact", "at": c["at"], "contact": c} for c in file.get("contacts") or []
    ]
    return sorted(items, key=lambda i: i["at"], reverse=True)


CRISIS_MESSAGE = "crisis_reported"
REASON_MAX = 1000


def _page(case_id: int, reason: str = "", reason_error: str | None = None, status: int = 200):
    actor = current_actor()
    everything = request.args.get("timeline") == "all"
    file = cp().read_case_file(actor, case_id, everything)
    plans = {
        kind: {**p, "answers": forms.describe(p["schema"], p["data"], p["ui_schema"])} if p else None
        for kind, p in file["plans"].items()
    }
    return render_template(
        "cases/show.html",
        file=file,
        timeline=timeline(file),
        may_record_contact=actor.has_any(CLINICAL_ROLES),
        case=file["case"],
        client=file["client"],
        plans=plans,
        chart=score_chart(file["scores"], cp().settings.zone()),
        may_report=actor.has_any(MESSENGERS),
        may_open_case=actor.has_any(REGISTRARS),
        reason=reason,
        reason_error=reason_error,
        reason_max=REASON_MAX,
        everything=everything,
    ), status


@bp.get("/cases/<id:case_id>")
@login_required(RECORD_READERS)
def show(case_id: int):
    return _page(case_id)


@bp.post("/cases/<id:case_id>/crisis")
@login_required(MESSENGERS)
def report_crisis(case_id: int):
    """Send `crisis_reported` with the reason: the crisis pathway starts and the crisis team gets a task."""
    reason = (request.form.get("reason") or "").replace("\r\n", "\n").strip()
    if not reason:
        return _page(case_id, reason, "Say what is happening, so the crisis team knows what they walk into.", 422)
    if len(reason) > REASON_MAX:
        return _page(
            case_id, reason, f"Keep the reason to {REASON_MAX} characters; add detail in the crisis task.", 422
        )
    try:
        result = cp().send_message(current_actor(), case_id, CRISIS_MESSAGE, {"reason": reason})
    except NotFound:
        flash(
            "No crisis pathway is published for this agency, so nothing was started. Phone the crisis team "
            "and tell your supervisor.",
            "warning",
        )
        return redirect(url_for("cases.show", case_id=case_id))
    except TaskNotOpen as exc:
        flash(f"{exc.message} Nothing was started; phone the crisis team directly.", "warning")
        return redirect(url_for("cases.show", case_id=case_id))
    started = [r["pathway"].replace("_", " ") for r in result["received_by"]]
    flash("Crisis reported. The crisis team has been alerted" + (f" ({', '.join(started)})." if started else "."))
    return redirect(url_for("cases.show", case_id=case_id))
