"""Tasks over the API: inbox listing, one task with its form, claim, release, assign, complete."""

from __future__ import annotations

from flask import g, jsonify, request

from carepath.engine.errors import BadRequest

from ..paging import page_args, paged_json
from . import bp, cp, int_arg, json_body, token_required


@bp.get("/tasks")
@token_required
def list_tasks():
    """One page of open tasks (`?limit=`, `?cursor=`; the next page in the Link header), filtered, searched
    (`?q=` client name) and sorted (`?sort=due|created|client`) by the engine."""
    limit, cursor = page_args()
    return paged_json(
        cp().list_tasks(
            g.actor,
            case_id=int_arg("case_id"),
            client_id=int_arg("client_id"),
            role=request.args.get("role") or None,
            pathway=request.args.get("pathway") or None,
            mine=request.args.get("mine") in ("1", "true", "yes"),
            view=request.args.get("view") or "all",
            q=(request.args.get("q") or "")[:100],
            sort=request.args.get("sort") or "due",
            limit=limit,
            cursor=cursor,
        )
    )


@bp.get("/tasks/<id:task_id>")
@token_required
def read_task(task_id: int):
    return jsonify(cp().read_task(g.actor, task_id))


@bp.post("/tasks/<id:task_id>/claim")
@token_required
def claim(task_id: int):
    return jsonify(cp().claim(g.actor, task_id))


@bp.post("/tasks/<id:task_id>/release")
@token_required
def release(task_id: int):
    return jsonify(cp().release(g.actor, task_id))


@bp.post("/tasks/<id:task_id>/assign")
@token_required
def assign(task_id: int):
    return jsonify(cp().assign(g.actor, task_id, json_body().get("username")))


@bp.post("/tasks/<id:task_id>/complete")
@token_required
def complete(task_id: int):
    body = json_body()
    if "data" not in body:
        raise BadRequest('Send the form answers as {"data": {...}}.')
    done = cp().complete_task(g.actor, task_id, body["data"])
    return jsonify({"completed": task_id, "next_tasks": done.next_tasks})
