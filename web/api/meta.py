"""Who am I, the OpenAPI document and incidents (failed timer jobs and pathway steps)."""

from __future__ import annotations

from flask import g, jsonify

from ..openapi import openapi_document
from . import bp, cp, token_required


@bp.get("/me")
@token_required
def me():
    return jsonify({"username": g.actor.username, "roles": sorted(g.actor.roles)})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/incidents")
@token_required
def incidents():
    return jsonify(cp().incidents(g.actor))


@bp.post("/incidents/<id:job_id>/retry")
@token_required
def retry(job_id: int):
    return jsonify(cp().retry_incident(g.actor, job_id))
