"""The one place engine errors become HTTP answers: JSON for the API, a friendly page for people."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from carepath.engine.authoring.gate import UnsafeChange
from carepath.engine.errors import (
    BadRequest,
    CarepathError,
    CaseAlreadyOpen,
    InvalidFormData,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    NotOnCareTeam,
    PathwayFailed,
    PathwayInvalid,
    StaleInstance,
    TaskNotOpen,
    TooManyAttempts,
)

from .hardening import log_unexpected, safe_path

log = logging.getLogger(__name__)

STATUS = {
    BadRequest: 400,
    CaseAlreadyOpen: 409,
    NotAuthenticated: 401,
    NotAllowed: 403,
    NotFound: 404,
    TaskNotOpen: 409,
    StaleInstance: 409,
    InvalidFormData: 422,
    PathwayInvalid: 422,
    PathwayFailed: 500,
    TooManyAttempts: 429,
    UnsafeChange: 422,
}


def status_of(exc: CarepathError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def register(app: Flask) -> None:
    @app.errorhandler(CarepathError)
    def _engine_error(exc: CarepathError):
        status = status_of(exc)
        extra = {}
        if isinstance(exc, InvalidFormData):
            extra["fields"] = [f.as_dict() for f in exc.fields]
        if isinstance(exc, PathwayFailed) and exc.incident_id is not None:
            extra["incident_id"] = exc.incident_id  # what an admin finds in GET /api/v1/incidents
        if isinstance(exc, PathwayInvalid):
            extra["findings"] = [f.as_dict() for f in exc.findings]
        if isinstance(exc, UnsafeChange):
            extra["violations"] = exc.report.as_dict()["violations"]
        if isinstance(exc, NotOnCareTeam):
            extra["client_id"] = exc.client_id
            extra["break_glass"] = f"/api/v1/clients/{exc.client_id}/access"
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        if wants_json():
            body = error_body(exc.code, exc.message, **extra)
            for key in ("fields", "findings"):
                if key in extra:
                    body[key] = extra[key]  # also at the top level, where API clients look for it (docs/api.md)
            return jsonify(body), status, headers
        if isinstance(exc, NotOnCareTeam):
            # A plain page that says why, with the way in for an emergency: break the glass, with a reason.
            return render_template(
                "access/refused.html",
                client_id=exc.client_id,
                message=exc.message,
                back=safe_path(request.full_path.rstrip("?")) or "/inbox",
            ), status
        return render_template("error.html", status=status, message=exc.message), status, headers

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        message = "This form was open too long or came from elsewhere. Please go back, reload and try again."
        if wants_json():
            return jsonify(error_body("csrf_failed", message)), 400
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
        }.get(exc.code, "error")
        message = {
            404: "No such page or record.",
            405: "This method is not allowed here.",
            413: "The request is too large.",
        }.get(exc.code, exc.description or exc.name)
        if wants_json():
            return jsonify(error_body(code, message)), exc.code
        return render_template("error.html", status=exc.code, message=message), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Where it failed goes to the server log, never what: exception messages can quote health records.
        log_unexpected(log, exc)
        message = "Something went wrong on our side; nothing was saved. The error has been logged."
        if wants_json():
            return jsonify(error_body("internal_error", message)), 500
        return render_template("error.html", status=500, message=message), 500
