"""Clients: search, register (with family and caregiver contacts), the client page, editing details and
assigning a case manager, and opening a new case. Every view of a record is audited by the engine."""

from __future__ import annotations

import copy
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for

from carepath.engine.access import RECORD_READERS, REGISTRARS, TEAM_LEADS
from carepath.engine.clients import CLIENT_SCHEMA
from carepath.engine.errors import CaseAlreadyOpen, InvalidFormData, PathwayFailed

from .. import forms
from ..appstate import cp, now
from ..auth import current_actor, login_required
from ..paging import next_page_url, page_args

bp = Blueprint("clients", __name__)

# Who may choose a client's case manager (engine.clients.update_client enforces the same).
ASSIGNERS = TEAM_LEADS | {"intake"}
NULLABLE = ("preferred_language", "phone", "email", "address")

UI = {
    "ui:order": [
        "given_name",
        "family_name",
        "birth_date",
        "preferred_language",
        "phone",
        "email",
        "address",
        "case_manager",
        "contacts",
    ],
    "given_name": {"ui:title": "Given name"},
    "family_name": {"ui:title": "Family name"},
    "birth_date": {"ui:title": "Date of birth"},
    "preferred_language": {"ui:title": "Preferred language", "ui:placeholder": "e.g. Spanish"},
    "phone": {"ui:title": "Phone"},
    "email": {"ui:title": "E-mail"},
    "address": {"ui:title": "Address", "ui:widget": "textarea", "ui:options": {"rows": 3}},
    "case_manager": {"ui:title": "Case manager", "ui:widget": "select"},
    "contacts": {
        "ui:title": "Family, caregivers and other contacts",
        "ui:help": "Leave a row empty to leave it out.",
        "items": {
            "ui:title": "Contact",
            "name": {"ui:title": "Name"},
            "relationship": {"ui:title": "Relationship", "ui:placeholder": "e.g. mother, caregiver, friend"},
            "phone": {"ui:title": "Phone"},
            "may_contact": {"ui:title": "May we contact them about the client?"},
        },
    },
}


def _schema(actor) -> dict:
    """The client schema as the form shows it: case managers to choose from, for those who may assign."""
    schema = copy.deepcopy(CLIENT_SCHEMA)
    if actor.has_any(ASSIGNERS):
        managers = cp().users_by_role(["case_manager"]).get("case_manager", [])
        schema["properties"]["case_manager"] = {
            "type": ["string", "null"],
            "description": "The client's case manager does their case-management tasks.",
            "oneOf": [{"const": u["username"], "title": u["name"]} for u in managers],
        }
    else:
        del schema["properties"]["case_manager"]
    return schema


def _form_page(
    template: str,
    schema: dict,
    values: dict,
    errors: dict | None = None,
    status: int = 200,
    extra_rows: dict | None = None,
    **extra,
):
    form = forms.build_form(schema, UI, values, errors, extra_rows)
    for f in form.fields:
        if f.path == "birth_date":
            f.attrs["max"] = now().date().isoformat()
        if f.path in ("given_name", "family_name", "phone"):
            f.attrs["autocomplete"] = "off"
    return render_template(template, form=form, **extra), status


def _row_action(template: str, schema: dict, answers: dict, **extra):
    """Without JavaScript, "Add contact" and "Remove" come back to the server: show the form again."""
    action = forms.action_of(request.form)
    if action.kind == "add":
        return _form_page(template, schema, answers, extra_rows={action.path: 1}, **extra)
    if action.kind == "remove":
        return _form_page(template, schema, forms.remove_row(answers, action.path), **extra)
    return None


@bp.get("/clients")
@login_required(RECORD_READERS)
def search():
    query = (request.args.get("q") or "").strip()[:100]
    limit, cursor = page_args()
    found = cp().search_clients(current_actor(), query, limit, cursor)
    return render_template(
        "clients/search.html",
        query=query,
        found=found.items,
        next_page=next_page_url(found),
        paged=bool(cursor),
        may_register=current_actor().has_any(REGISTRARS),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required(REGISTRARS)
def new():
    actor = current_actor()
    schema = _schema(actor)
    if request.method == "GET":
        return _form_page("clients/new.html", schema, {}, open_case=True)
    answers = forms.parse_form(schema, request.form)
    open_case = request.form.get("_open_case") == "yes"
    shown = _row_action("clients/new.html", schema, answers, open_case=open_case)
    if shown:
        return shown
    duplicates = [] if request.form.get("_not_duplicate") == "yes" else _possible_duplicates(answers)
    if duplicates:
        return _form_page("clients/new.html", schema, answers, open_case=open_case, duplicates=duplicates)
    try:
        client = cp().register_client(actor, answers)
    except InvalidFormData as exc:
        return _form_page(
            "clients/new.html", schema, answers, {f.path: f.message for f in exc.fields}, 422, open_case=open_case
        )
    flash(f"{client['given_name']} {client['family_name']} is registered.")
    if open_case:
        _start_case(client["id"])
    return redirect(url_for("clients.show", client_id=client["id"]))


def _possible_duplicates(answers: dict) -> list[dict]:
    """Clients with this birth date and the same or a similar name (nothing when the fields are incomplete:
    the engine then says what is missing)."""
    try:
        born = date.fromisoformat(answers.get("birth_date") or "")
    except ValueError:
        return []
    given, family = (answers.get("given_name") or "").strip(), (answers.get("family_name") or "").strip()
    if not (given and family):
        return []
    return cp().possible_duplicates(current_actor(), given, family, born)


def _start_case(client_id: int) -> int | None:
    try:
        case_id = cp().start_case(current_actor(), client_id, unless_open=True)["id"]
    except CaseAlreadyOpen as exc:
        flash(exc.message, "warning")
        return None
    except PathwayFailed as exc:
        flash(f"The case could not be opened: {exc.message}", "warning")
        return None
    flash("A case is open and intake has started: the referral is in the intake team's queue.")
    return case_id


@bp.get("/clients/<id:client_id>")
@login_required(RECORD_READERS)
def show(client_id: int):
    actor = current_actor()
    client = cp().read_client(actor, client_id)
    has_open = any(c["status"] == "open" for c in client["cases"])
    return render_template(
        "clients/show.html",
        client=client,
        may_edit=actor.has_any(REGISTRARS),
        may_open_case=actor.has_any(REGISTRARS) and not has_open,
    )


@bp.route("/clients/<id:client_id>/edit", methods=["GET", "POST"])
@login_required(REGISTRARS)
def edit(client_id: int):
    actor = current_actor()
    schema = _schema(actor)
    current = cp().read_client(actor, client_id)
    title = f"{current['given_name']} {current['family_name']}"
    if request.method == "GET":
        values = {k: v for k, v in current.items() if k in schema["properties"] and v not in (None, "", [])}
        return _form_page("clients/edit.html", schema, values, client=current, title=title)
    answers = forms.parse_form(schema, request.form)
    shown = _row_action("clients/edit.html", schema, answers, client=current, title=title)
    if shown:
        return shown
    # An emptied field clears the value (the engine only changes what it is given).
    changes = {**{k: None for k in NULLABLE}, "contacts": [], **answers}
    if "case_manager" in schema["properties"]:
        changes.setdefault("case_manager", None)
    try:
        cp().update_client(actor, client_id, changes)
    except InvalidFormData as exc:
        return _form_page(
            "clients/edit.html",
            schema,
            answers,
            {f.path: f.message for f in exc.fields},
            422,
            client=current,
            title=title,
        )
    flash(f"{title}'s details are saved.")
    return redirect(url_for("clients.show", client_id=client_id))


@bp.post("/clients/<id:client_id>/cases")
@login_required(REGISTRARS)
def open_case(client_id: int):
    case_id = _start_case(client_id)
    if case_id is None:
        return redirect(url_for("clients.show", client_id=client_id))
    return redirect(url_for("cases.show", case_id=case_id))
