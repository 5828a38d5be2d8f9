"""Tasks over the API: inbox listing, one task with its form, claim, release, assign, complete."""
from __future__ import annotations

from flask import g, jsonify, request

from carepath.engine import inbox
from carepath.engine.errors import BadRequest

from . import bp, cp, int_arg, json_body, token_required


@bp.get("/tasks")
@token_required
def list_tasks():
    carepath = cp()
    with carepath.db() as session:
        return jsonify(inbox.list_tasks(
            session, g.actor, carepath.clock.now(), case_id=int_arg("case_id"), client_id=int_arg("client_id"),
            role=request.args.get("role") or None, pathway=request.args.get("pathway") or None,
            mine=request.args.get("mine") in ("1", "true", "yes")))


@bp.get("/tasks/<int:task_id>")
@token_required
def read_task(task_id: int):
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(inbox.read_task(session, carepath.specs, g.actor, task_id, carepath.clock.now()))


@bp.post("/tasks/<int:task_id>/claim")
@token_required
def claim(task_id: int):
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(inbox.claim(session, g.actor, task_id, carepath.clock.now()))


@bp.post("/tasks/<int:task_id>/release")
@token_required
def release(task_id: int):
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(inbox.release(session, g.actor, task_id, carepath.clock.now()))


@bp.post("/tasks/<int:task_id>/assign")
@token_required
def assign(task_id: int):
    data = json_body()
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(inbox.assign(session, g.actor, task_id, data.get("username"), carepath.clock.now()))


@bp.post("/tasks/<int:task_id>/complete")
@token_required
def complete(task_id: int):
    body = json_body()
    if "data" not in body:
        raise BadRequest('Send the form answers as {"data": {...}}.')
    carepath = cp()
    opened = carepath.runtime.complete_task(g.actor, task_id, body["data"])
    with carepath.db() as session:
        return jsonify({"completed": task_id, "next_tasks": inbox.tasks_by_id(session, opened, carepath.clock.now())})
