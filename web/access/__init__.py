"""Break the glass: the page that says why a record is closed to someone (with the reason form that opens it
for 12 hours), and the log of such accesses that supervisors and quality staff review. The engine decides
and records both (engine/careteam.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from carepath.engine.access import CLINICAL_ROLES, READ_EVERY_RECORD
from carepath.engine.careteam import BREAK_GLASS_HOURS, REASON_MAX, REASON_MIN
from carepath.engine.errors import InvalidFormData

from ..appstate import cp
from ..auth import current_actor, login_required
from ..hardening import safe_path

bp = Blueprint("access", __name__)


@bp.post("/clients/<id:client_id>/access")
@login_required(CLINICAL_ROLES)
def break_glass(client_id: int):
    reason = (request.form.get("reason") or "").replace("\r\n", "\n").strip()
    back = safe_path(request.form.get("next")) or url_for("clients.show", client_id=client_id)
    try:
        grant = cp().break_glass(current_actor(), client_id, reason)
    except InvalidFormData as exc:
        return render_template(
            "access/refused.html",
            client_id=client_id,
            back=back,
            reason=reason,
            reason_error=exc.fields[0].message,
            message=None,
        ), 422
    flash(
        f"The record is open to you for {BREAK_GLASS_HOURS} hours (until {grant['expires_at'][11:16]} UTC). "
        "Your reason is recorded and reviewed by a supervisor.",
        "warning",
    )
    return redirect(back)


@bp.get("/access/break-glass")
@login_required(READ_EVERY_RECORD)
def log():
    return render_template("access/log.html", grants=cp().break_glass_log(current_actor()))


@bp.app_context_processor
def _break_glass():
    actor = current_actor()
    return {
        "break_glass_hours": BREAK_GLASS_HOURS,
        "reason_min": REASON_MIN,
        "reason_max": REASON_MAX,
        "may_break_glass": actor is not None and actor.has_any(CLINICAL_ROLES),
    }
