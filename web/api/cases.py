"""Cases over the API: open one (starts intake), read it, send it a message, read its event log."""

from __future__ import annotations

from flask import g, jsonify

from carepath.engine.errors import BadRequest

from ..paging import page_args, paged_json
from . import bp, cp, json_body, token_required


@bp.post("/cases")
@token_required
def start_case():
    data = json_body()
    client_id = data.get("client_id")
    if isinstance(client_id, str) and client_id.isdigit():
        client_id = int(client_id)
    if not isinstance(client_id, int) or isinstance(client_id, bool):
        raise BadRequest("client_id must be a client's id.")
    return jsonify(cp().start_case(g.actor, client_id)), 201


@bp.get("/cases/<id:case_id>")
@token_required
def read_case(case_id: int):
    return jsonify(cp().read_case(g.actor, case_id))


@bp.post("/cases/<id:case_id>/messages")
@token_required
def send_message(case_id: int):
    data = json_body()
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise BadRequest('Send the message as {"name": "...", "payload": {...}}.')
    payload = data.get("payload", {})
    return jsonify(cp().send_message(g.actor, case_id, data["name"], {} if payload is None else payload)), 202


@bp.get("/cases/<id:case_id>/events")
@token_required
def case_events(case_id: int):
    """One page of the case's event log, oldest first (`?limit=`, `?cursor=`; the next page in the Link header)."""
    limit, cursor = page_args()
    return paged_json(cp().read_case_events(g.actor, case_id, limit, cursor))
