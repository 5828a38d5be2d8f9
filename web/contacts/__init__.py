"""Contacts: record one from the case file or a task, edit it (its author, 24 hours) or amend it later with a
reason, read its history, and the billing CSV per period and staff member (streamed)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for

from carepath.engine.access import CLINICAL_ROLES, READ_EVERY_RECORD, RECORD_READERS
from carepath.engine.contacts import MODALITY_TITLES
from carepath.engine.errors import InvalidFormData, TaskNotOpen

from ..appstate import cp, now
from ..auth import current_actor, login_required

bp = Blueprint("contacts", __name__)


def _zone():
    return cp().settings.zone()


def _local_input(iso: str | None) -> str:
    """An instant as a datetime-local field shows it, in the agency's zone."""
    at = datetime.fromisoformat(iso) if iso else now()
    return at.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M")


def _answers(form) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted fields as the engine takes them; a field that cannot be read gets its message here."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "modality": form.get("modality") or "",
        "with_whom": form.get("with_whom") or "",
        "note": (form.get("note") or "").replace("\r\n", "\n"),
        "goals": form.getlist("goals"),
    }
    try:
        data["at"] = datetime.fromisoformat(form.get("at") or "").replace(tzinfo=_zone()).isoformat()
    except ValueError:
        errors["at"] = "Give the date and time of the contact."
    raw = (form.get("minutes") or "").strip()
    if raw.isdigit():
        data["minutes"] = int(raw)
    else:
        errors["minutes"] = "Give the minutes spent as a whole number (0 for an attempt)."
    if not data["modality"]:
        errors["modality"] = "Choose how the contact took place."
    return data, errors


def _form(template: str, values: dict[str, Any], errors: dict[str, str], status: int = 200, **extra: Any):
    return render_template(template, values=values, errors=errors, modalities=MODALITY_TITLES, **extra), status


@bp.route("/cases/<id:case_id>/contacts", methods=["GET", "POST"])
@login_required(CLINICAL_ROLES)
def record(case_id: int):
    actor = current_actor()
    options = cp().contact_options(actor, case_id)
    task_id = request.values.get("task", type=int)
    back = url_for("tasks.show", task_id=task_id) if task_id else url_for("cases.show", case_id=case_id)
    if request.method == "GET":
        return _form(
            "contacts/new.html",
            {"at": _local_input(None), "goals": []},
            {},
            options=options,
            task_id=task_id,
            back=back,
        )
    data, errors = _answers(request.form)
    if not errors:
        try:
            cp().record_contact(actor, case_id, data, task_id)
        except InvalidFormData as exc:
            errors = {f.path or "note": f.message for f in exc.fields}
        except TaskNotOpen as exc:
            errors = {"at": exc.message}
    if errors:
        values = {**data, "at": request.form.get("at") or "", "minutes": request.form.get("minutes") or ""}
        return _form("contacts/new.html", values, errors, 422, options=options, task_id=task_id, back=back)
    flash(f"Contact with {options['client_name']} recorded.")
    return redirect(back)


@bp.route("/contacts/<id:contact_id>", methods=["GET", "POST"])
@login_required(RECORD_READERS)
def show(contact_id: int):
    actor = current_actor()
    contact = cp().read_contact(actor, contact_id)
    values = {**contact, "at": _local_input(contact["at"])}
    if request.method == "GET":
        return _form("contacts/show.html", values, {}, contact=contact)
    if not (contact["may_edit"] or contact["may_amend"]):
        return _form(
            "contacts/show.html",
            values,
            {},
            403,
            contact=contact,
            refused="Only the person who recorded a contact may change it.",
        )
    data, errors = _answers(request.form)
    reason = (request.form.get("reason") or "").strip()
    if not errors:
        try:
            cp().change_contact(actor, contact_id, data, reason or None)
        except InvalidFormData as exc:
            errors = {f.path or "note": f.message for f in exc.fields}
    if errors:
        shown = {
            **data,
            "at": request.form.get("at") or "",
            "minutes": request.form.get("minutes") or "",
            "reason": reason,
        }
        return _form("contacts/show.html", shown, errors, 422, contact=contact)
    flash("Contact amended; the earlier text is kept in its history." if contact["may_amend"] else "Contact saved.")
    return redirect(url_for("cases.show", case_id=contact["case_id"]) + "#contacts")


@bp.get("/contacts/billing")
@login_required(READ_EVERY_RECORD)
def billing():
    """The export's form; with `from` and `to` (agency dates, inclusive) the CSV itself, streamed."""
    today = now().astimezone(_zone()).date()
    args = {k: (request.args.get(k) or "").strip() for k in ("from", "to", "staff")}
    if not (args["from"] or args["to"]):
        first = today.replace(day=1)
        return render_template(
            "contacts/billing.html",
            start=first.isoformat(),
            end=today.isoformat(),
            staff=cp().users_by_role(["case_manager", "clinician", "crisis", "intake"]),
            error=None,
        )
    try:
        start_day = datetime.fromisoformat(args["from"]).date()
        end_day = datetime.fromisoformat(args["to"]).date()
        if end_day < start_day:
            raise ValueError
    except ValueError:
        return render_template(
            "contacts/billing.html",
            start=args["from"],
            end=args["to"],
            error=("Give a period as two dates, the first not after the last."),
            staff=cp().users_by_role(["case_manager", "clinician", "crisis", "intake"]),
        ), 400
    start = datetime.combine(start_day, time(), _zone())
    end = datetime.combine(end_day + timedelta(days=1), time(), _zone())
    lines = cp().contacts_csv(current_actor(), start, end, args["staff"] or None)
    name = f"contacts-{args['staff'] or 'all'}-{start_day}-{end_day}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
