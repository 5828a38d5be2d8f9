"""Editing a draft's files in the browser: the BPMN modeler with Carepath's side panel, the form editor with a
live preview drawn by the renderer staff see, and the decision-table editor. The pages save through
`save_files` (JSON, CSRF header) and show what the engine found, without leaving the page."""

from __future__ import annotations

import re

from flask import abort, jsonify, redirect, render_template, request, url_for

from carepath.engine.authoring.drafts import AUTHORS, READERS
from carepath.engine.errors import BadRequest, Finding
from carepath.engine.models import ROLES
from carepath.engine.pathway_files import check_form

from .. import forms
from ..appstate import cp
from ..auth import current_actor, login_required
from . import bp, file_response

# bpmn-js's align/distribute menu draws its icons with inline style attributes, which the app's policy forbids;
# the editor leaves that menu out (static/pathways/modeler.js) rather than loosening the policy for this page.
FORM_ID = re.compile(r"^[a-z][a-z0-9_]{0,80}$")
EDITORS = {
    ".bpmn": "pathways/edit_bpmn.html",
    ".schema.json": "pathways/edit_form.html",
    ".ui.json": "pathways/edit_form.html",
    ".dmn": "pathways/edit_table.html",
}


@bp.get("/drafts/<id:draft_id>/files/<name>")
@login_required(READERS)
def draft_file(draft_id: int, name: str):
    return file_response(name, cp().draft_file(current_actor(), draft_id, name), request.args.get("download") == "1")


@bp.get("/drafts/<id:draft_id>/edit/<name>")
@login_required(AUTHORS)
def edit(draft_id: int, name: str):
    editor = cp().draft_editor(current_actor(), draft_id)
    template = next((t for suffix, t in EDITORS.items() if name.endswith(suffix)), None)
    if template is None:
        abort(404)
    if name.endswith(".ui.json"):
        name = name.replace(".ui.json", ".schema.json")  # hints are edited beside their form
    if name not in editor["files"] and not name.endswith(".schema.json"):
        abort(404)
    ui_name = name.replace(".schema.json", ".ui.json")
    config = {
        "draft": draft_id,
        "file": name,
        "ui_file": ui_name if name.endswith(".schema.json") else None,
        "roles": list(ROLES),
        "forms": editor["choices"]["forms"],
        "messages": editor["choices"]["messages"],
        "findings": [f for f in editor["findings"] if f["file"] in (name, ui_name)],
        "editable": editor["status"] in ("editing", "returned") and editor["author"] == current_actor().username,
    }
    config["text"], config["ui_text"] = editor["files"].get(name, ""), editor["files"].get(ui_name, "")
    return render_template(template, d=editor, name=name, ui_name=ui_name, config=config)


@bp.get("/drafts/<id:draft_id>/new-form")
@login_required(AUTHORS)
def new_file(draft_id: int):
    """A new form: its editor opens empty; the file exists once it is saved."""
    form_id = (request.args.get("form") or "").strip()
    if not FORM_ID.match(form_id):
        raise BadRequest("A form id is lowercase letters, digits and _ , starting with a letter.")
    return redirect(url_for(".edit", draft_id=draft_id, name=f"{form_id}.schema.json"))


@bp.post("/drafts/<id:draft_id>/save")
@login_required(AUTHORS)
def save_files(draft_id: int):
    """{"files": {name: text}} into the draft. 200 with what was found (errors are kept, to be fixed); 422 when
    a file is refused, and then nothing was written."""
    data = request.get_json(silent=True)
    files = data.get("files") if isinstance(data, dict) else None
    if (
        not isinstance(files, dict)
        or not files
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    ):
        raise BadRequest('Send {"files": {"name": "text"}}.')
    judged = cp().save_draft_files(current_actor(), draft_id, files)
    body = {
        "saved": not judged.refused,
        "refused": [f.as_dict() for f in judged.refused],
        "findings": [f.as_dict() for f in judged.findings],
        "pathways": judged.pathways,
    }
    return jsonify(body), 422 if judged.refused else 200


@bp.post("/forms/preview")
@login_required(AUTHORS)
def preview():
    """A form drawn exactly as staff will see it, from the editor's current JSON (nothing is saved)."""
    data = request.get_json(silent=True) or {}
    schema_text, ui_text = data.get("schema") or "", data.get("ui") or ""
    if not isinstance(schema_text, str) or not isinstance(ui_text, str):
        raise BadRequest('Send {"schema": "<JSON text>", "ui": "<JSON text>"}.')
    schema, findings = check_form("form.schema.json", schema_text)
    ui = None
    if ui_text.strip():
        ui, ui_findings = check_form("form.ui.json", ui_text)
        findings += ui_findings
    if schema is None or any(f.severity == "error" for f in findings if f.message.startswith("not valid JSON")):
        return jsonify({"html": None, "findings": [f.as_dict() for f in findings]})
    try:
        form = forms.build_form(schema, ui if isinstance(ui, dict) else None, {})
    except Exception as exc:  # noqa: BLE001 - the author's schema is half-written while they type
        findings.append(Finding("form.schema.json", None, f"the preview cannot draw this yet ({type(exc).__name__})"))
        return jsonify({"html": None, "findings": [f.as_dict() for f in findings]})
    html = render_template("pathways/_form_preview.html", form=form)
    return jsonify({"html": html, "findings": [f.as_dict() for f in findings]})
