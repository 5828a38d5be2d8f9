"""Who am I, the OpenAPI document, pathway versions and worker incidents."""
from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from engine.models import PathwayVersion
from engine.timers import list_incidents, retry_incident

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
        rows = session.execute(select(PathwayVersion.process_id, PathwayVersion.version, PathwayVersion.name,
                                      PathwayVersion.is_current, PathwayVersion.origin, PathwayVersion.published_at,
                                      PathwayVersion.start_messages)
                               .order_by(PathwayVersion.process_id, PathwayVersion.version)).all()
    return jsonify([{"pathway": r.process_id, "version": r.version, "name": r.name, "current": r.is_current,
                     "origin": r.origin, "published_at": r.published_at.isoformat(),
                     "started_by": r.start_messages} for r in rows])


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
