"""Client records over the API. Every read and change is audited by the engine."""
from __future__ import annotations

from flask import g, jsonify, request

from carepath.engine import clients

from . import bp, cp, json_body, token_required


@bp.post("/clients")
@token_required
def create_client():
    data = json_body()
    carepath = cp()
    with carepath.db.begin() as session:
        client = clients.create_client(session, g.actor, data, carepath.clock.now())
    return jsonify(client), 201


@bp.get("/clients")
@token_required
def search_clients():
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(clients.search_clients(session, g.actor, request.args.get("q", ""), carepath.clock.now()))


@bp.get("/clients/<int:client_id>")
@token_required
def read_client(client_id: int):
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(clients.read_client(session, g.actor, client_id, carepath.clock.now()))


@bp.patch("/clients/<int:client_id>")
@token_required
def update_client(client_id: int):
    data = json_body()
    carepath = cp()
    with carepath.db.begin() as session:
        return jsonify(clients.update_client(session, g.actor, client_id, data, carepath.clock.now()))
