"""Who am I, the OpenAPI document, pathway versions and worker incidents."""
from __future__ import annotations

from flask import g, jsonify

from carepath.engine import library
from carepath.engine.timers import list_incidents, retry_incident

from ..openapi import openapi_document
from . import bp, cp, token_required


@bp.get("/me")
@token_required
def me():
    return jsonify({"username": g.actor.username, "roles": sorted(g.actor.roles)})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/pathways")
@token_required
def pathways():
    with cp().db() as session:
        return jsonify(library.list_versions(session))


@bp.get("/incidents")
@token_required
def incidents():
    g.actor.require({"admin"}, "see worker incidents")
    with cp().db() as session:
        return jsonify(list_incidents(session))


@bp.post("/incidents/<int:job_id>/retry")
@token_required
def retry(job_id: int):
    g.actor.require({"admin"}, "retry worker incidents")
    with cp().db.begin() as session:
        return jsonify(retry_incident(session, job_id))
