"""The pathway library over the API: versions with their files, drafts (judged on arrival), four-eyes approval,
sending back, and roll back (docs/api.md, "Pathways")."""

from __future__ import annotations

from flask import g, jsonify

from carepath.engine.authoring.catalog import ROLLBACK
from carepath.engine.authoring.drafts import AUTHORS, REVIEWERS
from carepath.engine.errors import BadRequest

from . import bp, cp, json_body, token_required


@bp.get("/pathways")
@token_required
def pathways():
    return jsonify(cp().pathway_versions())


@bp.get("/pathways/<pathway>")
@token_required
def pathway(pathway: str):
    versions = cp().pathway_versions_with_files(g.actor, pathway)
    return jsonify({"pathway": pathway, "versions": versions})


def _files(data: dict) -> dict[str, str]:
    files = data.get("files")
    if not isinstance(files, dict) or not files:
        raise BadRequest('Send {"files": {"name.bpmn": "<xml…>", …}}: file names to their text.')
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise BadRequest("Every file must be a name and its text (a JSON string).")
    return files


@bp.post("/pathways/drafts")
@token_required
def create_draft():
    """Judge the files over the published library; keep them as a draft waiting for review only when nothing is
    an error (422 with every finding otherwise, and nothing saved)."""
    g.actor.require(AUTHORS, "write pathway drafts")  # the role first: a refused caller learns nothing more
    data = json_body()
    title = data.get("title") or data.get("reason") or ""
    if not isinstance(title, str):
        raise BadRequest("title must be text.")
    draft, review = cp().create_draft(g.actor, _files(data), title, submitted=True)
    return jsonify(
        {
            "id": draft["id"],
            "status": draft["status"],
            "pathways": draft["pathways"],
            "findings": [f.as_dict() for f in review.findings],
        }
    ), 201


@bp.get("/pathways/drafts")
@token_required
def drafts():
    return jsonify(cp().pathway_library(g.actor)["drafts"])


@bp.get("/pathways/drafts/<id:draft_id>")
@token_required
def draft(draft_id: int):
    page = cp().draft_page(g.actor, draft_id)
    return jsonify(
        {
            k: page[k]
            for k in (
                "id",
                "title",
                "status",
                "author",
                "pathways",
                "created_at",
                "updated_at",
                "findings",
                "history",
                "safety",
                "accepted_risk",
                "reviewed_by",
                "published",
                "files",
            )
        }
    )


@bp.post("/pathways/drafts/<id:draft_id>/approve")
@token_required
def approve(draft_id: int):
    g.actor.require(REVIEWERS, "approve pathway drafts")
    accept_risk = json_body(required=False).get("accept_risk")
    if accept_risk is not None and not isinstance(accept_risk, str):
        raise BadRequest("accept_risk must be text: why the safety risk is accepted.")
    return jsonify({"versions": cp().approve_draft(g.actor, draft_id, accept_risk)})


@bp.post("/pathways/drafts/<id:draft_id>/send-back")
@token_required
def send_back(draft_id: int):
    g.actor.require(REVIEWERS, "review pathway drafts")
    comment = json_body().get("comment")
    if not isinstance(comment, str):
        raise BadRequest('Send {"comment": "what the author should change"}.')
    return jsonify(cp().send_back_draft(g.actor, draft_id, comment))


@bp.post("/pathways/<pathway>/rollback")
@token_required
def rollback(pathway: str):
    g.actor.require(ROLLBACK, "roll back a pathway")
    data = json_body()
    version, reason = data.get("version"), data.get("reason")
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(reason, str):
        raise BadRequest('Send {"version": <an earlier version number>, "reason": "why"}.')
    accept_risk = data.get("accept_risk")
    return jsonify(
        cp().roll_back_pathway(g.actor, pathway, version, reason, accept_risk if isinstance(accept_risk, str) else None)
    ), 201
