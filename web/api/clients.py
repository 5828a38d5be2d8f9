"""Client records over the API. Every read and change is audited by the engine."""
from __future__ import annotations

from flask import g, jsonify, request

from . import bp, cp, json_body, token_required


@bp.post("/clients")
@token_required
def create_client():
    return jsonify(cp().register_client(g.actor, json_body())), 201


@bp.get("/clients")
@token_required
def search_clients():
    return jsonify(cp().search_clients(g.actor, request.args.get("q", "")))


@bp.get("/clients/<int:client_id>")
@token_required
def read_client(client_id: int):
    return jsonify(cp().read_client(g.actor, client_id))


@bp.patch("/clients/<int:client_id>")
@token_required
def update_client(client_id: int):
    return jsonify(cp().update_client(g.actor, client_id, json_body()))
