"""Client records over the API. Every read and change is audited by the engine."""

from __future__ import annotations

from flask import g, jsonify, request

from ..paging import page_args, paged_json
from . import bp, cp, json_body, token_required


@bp.post("/clients")
@token_required
def create_client():
    return jsonify(cp().register_client(g.actor, json_body())), 201


@bp.get("/clients")
@token_required
def search_clients():
    """One page of the clients matching `?q=` (`?limit=`, `?cursor=`; the next page in the Link header)."""
    limit, cursor = page_args()
    return paged_json(cp().search_clients(g.actor, request.args.get("q", "")[:100], limit, cursor))


@bp.get("/clients/<id:client_id>")
@token_required
def read_client(client_id: int):
    return jsonify(cp().read_client(g.actor, client_id))


@bp.patch("/clients/<id:client_id>")
@token_required
def update_client(client_id: int):
    return jsonify(cp().update_client(g.actor, client_id, json_body()))


@bp.post("/clients/<id:client_id>/access")
@token_required
def break_glass(client_id: int):
    """Break the glass: {"reason": "..."} (10 characters or more) opens the record for 12 hours, audited."""
    return jsonify(cp().break_glass(g.actor, client_id, json_body().get("reason"))), 201


@bp.get("/break-glass")
@token_required
def break_glass_log():
    """Break-the-glass accesses, newest first (supervisors and quality staff)."""
    return jsonify(cp().break_glass_log(g.actor))
