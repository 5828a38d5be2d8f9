"""Draft pages: start a draft from a pathway, import files or a zip, the draft with its findings and history,
submit (author), approve or send back with a comment (a supervisor who is not the author), withdraw."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from carepath.engine.authoring.drafts import AUTHORS, EDITABLE, READERS, REVIEWERS
from carepath.engine.authoring.gate import UnsafeChange
from carepath.engine.errors import BadRequest, Finding, NotAllowed, PathwayInvalid, StaleInstance

from ..appstate import cp
from ..auth import current_actor, login_required
from . import bp, rendered_forms


def _draft_page(draft_id: int, status: int = 200, unsafe=None, **extra):
    actor = current_actor()
    draft = cp().draft_page(actor, draft_id)
    mine = draft["author"] == actor.username
    by_file: dict[str, list] = {}
    for f in draft["findings"]:
        by_file.setdefault(f["file"], []).append(f)
    return render_template(
        "pathways/draft.html",
        d=draft,
        findings_by_file=by_file,
        unsafe=unsafe or _safety_of(draft),
        may_edit=mine and actor.has_any(AUTHORS) and draft["status"] in EDITABLE,
        may_withdraw=mine and draft["status"] not in ("published", "withdrawn"),
        may_review=actor.has_any(REVIEWERS) and not mine and draft["status"] == "submitted",
        own_review=actor.has_any(REVIEWERS) and mine and draft["status"] == "submitted",
        forms_after=rendered_forms(
            {
                n: t
                for n, t in draft["after"].items()
                if n in draft["changes"]["files"]["changed"] + draft["changes"]["files"]["added"]
            }
        ),
        **extra,
    ), status


def _safety_of(draft: dict):
    """The checker's last report, when it stopped an approval that has not happened since."""
    safety = draft.get("safety")
    return safety if safety and safety.get("violations") and draft["status"] == "submitted" else None


@bp.get("/drafts/<id:draft_id>")
@login_required(READERS)
def draft(draft_id: int):
    return _draft_page(draft_id)


@bp.post("/<pathway>/drafts")
@login_required(AUTHORS)
def start(pathway: str):
    draft_id = cp().start_draft(current_actor(), pathway)
    flash(f"Draft {draft_id} holds {pathway} as it is published now. Change it, then submit it for review.")
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.post("/drafts/<id:draft_id>/title")
@login_required(AUTHORS)
def title(draft_id: int):
    cp().set_draft_title(current_actor(), draft_id, request.form.get("title", ""))
    flash("Saved the summary.")
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.post("/drafts/<id:draft_id>/submit")
@login_required(AUTHORS)
def submit(draft_id: int):
    try:
        cp().submit_draft(current_actor(), draft_id, request.form.get("title"))
    except (BadRequest, PathwayInvalid) as exc:
        return _draft_page(draft_id, 422, submit_error=exc.message, title_value=request.form.get("title", ""))
    flash("Submitted for review. A supervisor who did not write it reviews the changes and approves them.")
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.post("/drafts/<id:draft_id>/approve")
@login_required(REVIEWERS)
def approve(draft_id: int):
    accept_risk = (request.form.get("accept_risk") or "").strip() or None
    try:
        published = cp().approve_draft(current_actor(), draft_id, accept_risk)
    except UnsafeChange as exc:
        return _draft_page(draft_id, 422, unsafe=exc.report.as_dict())
    except NotAllowed as exc:
        return _draft_page(draft_id, 403, review_error=exc.message)
    except (StaleInstance, PathwayInvalid, BadRequest) as exc:
        return _draft_page(
            draft_id,
            409 if isinstance(exc, StaleInstance) else 422,
            review_error=exc.message,
            accept_value=accept_risk or "",
        )
    flash(
        "Published "
        + ", ".join(f"{v['pathway']} version {v['version']}" for v in published)
        + ". New cases and the next hand-over use it; running instances keep their version."
    )
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.post("/drafts/<id:draft_id>/send-back")
@login_required(REVIEWERS)
def send_back(draft_id: int):
    try:
        cp().send_back_draft(current_actor(), draft_id, request.form.get("comment", ""))
    except BadRequest as exc:
        return _draft_page(draft_id, 422, comment_error=exc.message, comment_value=request.form.get("comment", ""))
    flash("Sent back to the author with your comment.")
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.post("/drafts/<id:draft_id>/withdraw")
@login_required(AUTHORS)
def withdraw(draft_id: int):
    cp().withdraw_draft(current_actor(), draft_id)
    flash("The draft is withdrawn; nothing was published.")
    return redirect(url_for(".index"))


@bp.post("/drafts/<id:draft_id>/remove")
@login_required(AUTHORS)
def remove(draft_id: int):
    name = request.form.get("name", "")
    cp().remove_draft_file(current_actor(), draft_id, name)
    flash(f"Removed {name} from the draft.")
    return redirect(url_for(".draft", draft_id=draft_id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """An upload over the request limit gets the import page with a finding, like any refused file (the limit
    trips while the form is read, before the view runs)."""
    if request.endpoint != "pathways.upload":
        return render_template("error.html", status=413, message="The request is too large."), 413
    return render_template(
        "pathways/import.html",
        draft_id=request.args.get("draft", type=int),
        refused=[Finding("(upload)", None, "the upload is larger than 4 MB: refused; nothing was saved")],
    ), 413


@bp.route("/import", methods=["GET", "POST"])
@login_required(AUTHORS)
def upload():
    """Files or a zip of the library into a new draft, or into one of the author's drafts (`draft`)."""
    draft_id = request.args.get("draft", type=int)
    if request.method == "GET":
        return render_template("pathways/import.html", draft_id=draft_id, refused=None)
    items = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f and f.filename]
    draft_id, judged = cp().import_into_draft(current_actor(), draft_id, items, request.form.get("title", ""))
    if judged.refused:
        return render_template("pathways/import.html", draft_id=draft_id, refused=judged.refused), 422
    errors = len([f for f in judged.findings if f.severity == "error"])
    flash(
        f"Imported {len(items)} upload(s) into draft {draft_id}: {errors} error(s), "
        f"{len(judged.findings) - errors} warning(s) to look at."
    )
    return redirect(url_for(".draft", draft_id=draft_id))
