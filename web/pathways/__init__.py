"""The pathway library pages: every pathway with its versions (who, when, why, which is current, running
instances), the diagram drawn in the page, forms and decision tables, comparing two versions, downloading a
version, and rolling back. Admins, supervisors and quality staff read; drafts.py and editor.py change things."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from carepath.engine.authoring import catalog
from carepath.engine.authoring.drafts import AUTHORS, READERS, REVIEWERS
from carepath.engine.authoring.gate import UnsafeChange
from carepath.engine.authoring.tables import element_facts, read_tables
from carepath.engine.errors import BadRequest

from .. import forms
from ..appstate import cp
from ..auth import current_actor, login_required

bp = Blueprint("pathways", __name__, url_prefix="/pathways")

ORIGINS = {
    "library": "shipped library",
    "publish": "command line",
    "draft": "approved draft",
    "rollback": "roll back",
    "check": "checker",
}


@bp.app_template_filter("origin")
def origin_label(origin: str) -> str:
    return ORIGINS.get(origin, origin)


@bp.get("/")
@login_required(READERS)
def index():
    actor = current_actor()
    library = cp().pathway_library(actor)
    waiting = [d for d in library["drafts"] if d["status"] == "submitted" and d["author"] != actor.username]
    return render_template(
        "pathways/index.html",
        library=library,
        waiting=waiting,
        may_edit=actor.has_any(AUTHORS),
        may_review=actor.has_any(REVIEWERS),
    )


@bp.get("/<pathway>")
@login_required(READERS)
def show(pathway: str):
    actor = current_actor()
    page = cp().pathway_history(actor, pathway)
    return render_template(
        "pathways/show.html", p=page, may_edit=actor.has_any(AUTHORS), may_roll_back=actor.has_any(catalog.ROLLBACK)
    )


def rendered_forms(files: dict[str, str]) -> list[dict]:
    """Each form of a file set drawn by the renderer staff see (read-only here), with its file names."""
    out = []
    for name in sorted(n for n in files if n.endswith(".schema.json")):
        schema, ui = _json(files[name]), _json(files.get(name.replace(".schema.json", ".ui.json"), ""))
        try:
            form = forms.build_form(schema or {"type": "object"}, ui, {})
        except Exception:  # noqa: BLE001 - an odd schema in an old version must not take the page down
            form = None
        out.append({"file": name, "title": (schema or {}).get("title") or name, "form": form})
    return out


def _json(text: str) -> dict | None:
    try:
        value = json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@bp.get("/<pathway>/versions/<id:version>")
@login_required(READERS)
def version(pathway: str, version: int):
    actor = current_actor()
    history = cp().pathway_history(actor, pathway)
    row = next((v for v in history["versions"] if v["version"] == version), None)
    if row is None:
        abort(404)
    files = cp().pathway_version_files(actor, pathway, version)
    tables = {n: read_tables(t, n) for n, t in sorted(files.items()) if n.endswith(".dmn")}
    tasks = [
        dict(id=i, **f)
        for n, t in sorted(files.items())
        if n.endswith(".bpmn")
        for i, f in element_facts(t, n).items()
        if f["kind"] in ("userTask", "scriptTask", "businessRuleTask")
    ]
    return render_template(
        "pathways/version.html",
        p=history,
        v=row,
        files=files,
        tables=tables,
        tasks=tasks,
        forms=rendered_forms(files),
        may_roll_back=actor.has_any(catalog.ROLLBACK),
    )


@bp.get("/<pathway>/versions/<id:version>/files/<name>")
@login_required(READERS)
def version_file(pathway: str, version: int, name: str):
    files = cp().pathway_version_files(current_actor(), pathway, version)
    if name not in files:
        abort(404)
    return file_response(name, files[name], request.args.get("download") == "1")


def file_response(name: str, text: str, download: bool) -> Response:
    kind = "application/json" if name.endswith(".json") else "application/xml"
    resp = Response(text, mimetype=kind)
    if download:
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/<pathway>/versions/<id:version>/export.zip")
@login_required(READERS)
def export(pathway: str, version: int):
    data = cp().export_pathway_version(current_actor(), pathway, version)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{pathway}-v{version}.zip"'},
    )


@bp.get("/<pathway>/compare")
@login_required(READERS)
def compare(pathway: str):
    actor = current_actor()
    history = cp().pathway_history(actor, pathway)
    numbers = [v["version"] for v in history["versions"]]
    try:
        before = int(request.args.get("from") or (numbers[1] if len(numbers) > 1 else numbers[0]))
        after = int(request.args.get("to") or numbers[0])
    except ValueError:
        raise BadRequest("Choose two version numbers to compare.") from None
    result = cp().compare_pathway_versions(actor, pathway, before, after)
    return render_template(
        "pathways/compare.html",
        p=history,
        before=before,
        after=after,
        changes=result["changes"],
        numbers=numbers,
        before_url=url_for(".version_file", pathway=pathway, version=before, name=f"{pathway}.bpmn"),
        after_url=url_for(".version_file", pathway=pathway, version=after, name=f"{pathway}.bpmn"),
    )


@bp.post("/<pathway>/versions/<id:version>/rollback")
@login_required(catalog.ROLLBACK)
def rollback(pathway: str, version: int):
    """Publish an earlier version again, as the newest; a safety problem needs a reason to accept the risk."""
    reason = (request.form.get("reason") or "").strip()
    accept_risk = (request.form.get("accept_risk") or "").strip() or None
    try:
        result = cp().roll_back_pathway(current_actor(), pathway, version, reason, accept_risk)
    except UnsafeChange as exc:
        page = cp().pathway_history(current_actor(), pathway)
        return render_template(
            "pathways/show.html",
            p=page,
            may_edit=current_actor().has_any(AUTHORS),
            may_roll_back=True,
            unsafe=exc.report,
            unsafe_version=version,
            unsafe_reason=reason,
        ), 422
    except BadRequest as exc:
        flash(exc.message, "warning")
        return redirect(url_for(".show", pathway=pathway, _anchor=f"rollback-{version}"))
    flash(
        f"{pathway} version {version} is published again as version {result['version']}. Running instances keep "
        "the version they started on; new cases and the next hand-over use this one."
    )
    return redirect(url_for(".show", pathway=pathway))


from . import drafts, editor  # noqa: E402,F401  (routes register on bp)
