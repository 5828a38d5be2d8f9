"""The JSON API (/api/v1), authenticated with bearer tokens (docs/api.md)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, request

from carepath.engine.access import MAX_ID
from carepath.engine.errors import BadRequest, NotAuthenticated

from ..appstate import cp
from ..hardening import has_nul

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def token_required(view):
    """Every API route: a valid bearer token, or 401 in the contract's error shape."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Send an API token: Authorization: Bearer <token>.")
        g.actor = cp().actor_for_token(token.strip())
        return view(*args, **kwargs)

    return wrapped


def json_body(required: bool = True) -> dict:
    """The request's JSON object. Raises BadRequest for a body that is not JSON or not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise BadRequest("The request needs a JSON body.")
        return {}
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise BadRequest("The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    if has_nul(data):
        raise BadRequest("The request body contains a NUL character.")
    return data


def int_arg(name: str) -> int | None:
    """A record id from the query string. Raises BadRequest for anything but 1 to 2^31-1."""
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise BadRequest(f"Query parameter {name} must be a record id (a whole number from 1 to {MAX_ID}).")
    return number


from . import cases, clients, meta, pathways, quality, tasks  # noqa: E402,F401  (routes register on bp)
