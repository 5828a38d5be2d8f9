"""The OpenAPI 3.1 document of the JSON API (served at /api/v1/openapi.json). Every status a route can answer
is listed (tests/test_api_fuzz.py checks the answers against it with schemathesis)."""

from __future__ import annotations

from carepath.engine.access import MAX_ID
from carepath.engine.careteam import REASON_MAX
from carepath.engine.clients import CLIENT_SCHEMA
from carepath.engine.messages import SENDABLE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {
        400: "Malformed request (not JSON, wrong shape, a NUL byte, an id out of range)",
        401: "No token, or an unknown, expired or revoked one",
        403: "Not allowed: the role, or not on the client's care team (code `not_on_care_team`, with "
        "`client_id` and `break_glass`: the way to open the record)",
        404: "Unknown record (ids out of range too)",
        409: "Conflict: task no longer open, stale write, case closed",
        422: "Invalid data (see fields)",
        500: "A pathway step failed or was stopped at its time or memory bound; nothing was saved (see incident_id)",
    }
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


def _id_param(name: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


# Paged lists (engine/paging.py): ?limit= and ?cursor= in, the next page in an RFC 8288 Link header.
_PAGE_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "from the Link header of the previous page",
    },
]


def _paged(schema: dict) -> dict:
    link = {"description": 'the next page: <URL>; rel="next" (absent on the last page)', "schema": {"type": "string"}}
    return {"200": {**_json(schema), "headers": {"Link": link}}}


def _op(
    summary: str, responses: dict, *, body: dict | None = None, params: list | None = None, errors=(400, 401, 403, 404)
) -> dict:
    # 400 is on every route: a NUL byte anywhere in the query string is refused before anything else.
    op = {"summary": summary, "responses": {**responses, **_errors(*sorted({400, *errors}))}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


_TASK = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "client_id": {"type": "integer"},
        "client_name": {"type": "string"},
        "pathway": {"type": "string"},
        "task": {"type": "string", "description": "BPMN element id"},
        "title": {"type": "string"},
        "role": {"type": "string"},
        "assignee": {"type": ["string", "null"]},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "form_id": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "overdue": {"type": "boolean"},
    },
}

_CASE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "client_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "risk_level": {"type": ["string", "null"], "enum": ["low", "moderate", "high", "imminent", None]},
        "pathways": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "pathway": {"type": "string"},
                    "version": {"type": "integer"},
                    "status": {"type": "string", "enum": ["running", "completed", "cancelled", "error"]},
                },
            },
        },
        "scores": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "instrument": {"type": "string"},
                    "total": {"type": ["integer", "null"]},
                    "severity": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}

_CASE_SUMMARY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string"},
        "risk_level": {"type": ["string", "null"]},
        "opened_at": {"type": "string"},
        "closed_at": {"type": ["string", "null"]},
    },
}

_CLIENT = {
    "type": "object",
    "required": ["id", "given_name", "family_name", "birth_date", "cases"],
    "properties": {
        "id": {"type": "integer"},
        "given_name": {"type": "string"},
        "family_name": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"},
        "age": {"type": "integer"},
        "preferred_language": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "address": {"type": ["string", "null"]},
        "contacts": {"type": "array", "items": {"type": "object"}},
        "case_manager": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "cases": {"type": "array", "items": _CASE_SUMMARY},
    },
}

_GRANT = {
    "type": "object",
    "required": ["client_id", "username", "reason", "at", "expires_at"],
    "properties": {
        "id": {"type": "integer"},
        "client_id": {"type": "integer"},
        "client_name": {"type": "string"},
        "username": {"type": "string"},
        "name": {"type": "string"},
        "reason": {"type": "string"},
        "at": {"type": "string"},
        "expires_at": {"type": "string"},
        "active": {"type": "boolean"},
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "enum": sorted(SENDABLE)}, "payload": {"type": "object"}},
    "description": "Messages people may send, each with its payload: "
    + "; ".join(f"`{m.name}` by {m.senders}" for m in SENDABLE.values())
    + ". Every other message (the pathways' hand-overs) is 403.",
}

_EVENT = {
    "type": "object",
    "properties": {
        k: {"type": ["string", "integer", "null"]}
        for k in (
            "id",
            "at",
            "case_id",
            "client_id",
            "instance_id",
            "pathway",
            "pathway_version",
            "activity",
            "activity_name",
            "lifecycle",
            "role",
            "user",
        )
    },
}


_FINDING = {
    "type": "object",
    "required": ["file", "line", "severity", "message"],
    "properties": {
        "file": {"type": "string"},
        "line": {"type": ["integer", "null"]},
        "severity": {"type": "string", "enum": ["error", "warning"]},
        "message": {"type": "string"},
        "element": {"type": ["string", "null"], "description": "BPMN/DMN element id, when known"},
    },
}
_FINDINGS = {
    "type": "object",
    "properties": {"error": {"type": "object"}, "findings": {"type": "array", "items": _FINDING}},
}
_VERSION = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "published_at": {"type": "string", "format": "date-time"},
        "published_by": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "origin": {"type": "string"},
        "current": {"type": "boolean"},
        "running": {"type": "integer"},
        "draft_id": {"type": ["integer", "null"]},
        "draft_author": {"type": ["string", "null"]},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_PUBLISHED = {
    "type": "array",
    "items": {"type": "object", "properties": {"pathway": {"type": "string"}, "version": {"type": "integer"}}},
}


def _pathway_paths() -> dict:
    """The pathway library: versions with their files, drafts and their four-eyes approval (docs/api.md)."""
    did, pathway = (
        _id_param("draft_id"),
        {"name": "pathway", "in": "path", "required": True, "schema": {"type": "string"}},
    )
    return {
        "/pathways": {
            "get": _op(
                "Published pathway versions (every version, no files)", {"200": _json({"type": "array"})}, errors=(401,)
            )
        },
        "/pathways/{pathway}": {
            "get": _op(
                "Admin, supervisor, quality: a pathway's versions, oldest first, each with its files",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "pathway": {"type": "string"},
                                "versions": {"type": "array", "items": _VERSION},
                            },
                        }
                    )
                },
                params=[pathway],
            )
        },
        "/pathways/drafts": {
            "post": _op(
                "Admin: a change for review, judged on arrival; 422 with every finding (nothing saved) "
                "when any finding is an error",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {"type": "string"},
                                "pathways": {"type": "array", "items": {"type": "string"}},
                                "findings": {"type": "array", "items": _FINDING},
                            },
                        },
                        "Created, waiting for review",
                    ),
                    "422": _json(_FINDINGS, "Refused: findings, nothing saved"),
                },
                body={
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {"type": "object", "additionalProperties": {"type": "string"}},
                        "title": {"type": "string", "description": "what changes and why"},
                    },
                },
                errors=(400, 401, 403),
            ),
            "get": _op(
                "Admin, supervisor, quality: drafts in progress", {"200": _json({"type": "array"})}, errors=(401, 403)
            ),
        },
        "/pathways/drafts/{draft_id}": {
            "get": _op(
                "A draft: files, findings, history, safety check", {"200": _json({"type": "object"})}, params=[did]
            )
        },
        "/pathways/drafts/{draft_id}/approve": {
            "post": _op(
                "A supervisor who is not the author: publish the draft (through the safety gate). With a safety "
                "violation, 422 `unsafe_pathway` with its violations unless accept_risk gives a reason",
                {"200": _json({"type": "object", "properties": {"versions": _PUBLISHED}})},
                params=[did],
                body={"type": "object", "properties": {"accept_risk": {"type": "string", "minLength": 10}}},
                errors=(400, 401, 403, 404, 409, 422),
            )
        },
        "/pathways/drafts/{draft_id}/send-back": {
            "post": _op(
                "A supervisor who is not the author: return the draft with a comment",
                {"200": _json({"type": "object"})},
                params=[did],
                body={
                    "type": "object",
                    "required": ["comment"],
                    "properties": {"comment": {"type": "string", "minLength": 10}},
                },
                errors=(400, 401, 403, 404, 409),
            )
        },
        "/pathways/{pathway}/rollback": {
            "post": _op(
                "Admin or supervisor: publish an earlier version again as the newest (running instances keep theirs)",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "pathway": {"type": "string"},
                                "version": {"type": "integer"},
                                "from_version": {"type": "integer"},
                            },
                        },
                        "Published",
                    )
                },
                params=[pathway],
                body={
                    "type": "object",
                    "required": ["version", "reason"],
                    "properties": {
                        "version": {"type": "integer"},
                        "reason": {"type": "string", "minLength": 10},
                        "accept_risk": {"type": "string", "minLength": 10},
                    },
                },
                errors=(400, 401, 403, 404, 422),
            )
        },
    }


_PERIOD = [
    {
        "name": "from",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "first UTC date (inclusive); default 89 days before `to`",
    },
    {
        "name": "to",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "last UTC date (inclusive); default today",
    },
    {"name": "pathway", "in": "query", "schema": {"type": "string"}},
    {"name": "case_manager", "in": "query", "schema": {"type": "string"}},
    {"name": "risk_level", "in": "query", "schema": {"type": "string"}},
]
_PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
_MEASURE = {
    "type": "object",
    "required": ["id", "title", "numerator", "denominator", "rate"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "numerator": {"type": "integer"},
        "denominator": {"type": "integer"},
        "rate": {"type": ["number", "null"]},
    },
}
_MEASURE_CASE = {
    "type": "object",
    "required": ["case_id", "client_id", "met", "start", "due", "done"],
    "properties": {
        "case_id": {"type": "integer"},
        "client_id": {"type": "integer"},
        "met": {"type": "boolean"},
        "start": {"type": "string", "format": "date-time"},
        "due": {"type": "string", "format": "date-time"},
        "done": {"type": ["string", "null"], "format": "date-time"},
        "pathway": {"type": "string"},
        "late_seconds": {"type": ["integer", "null"]},
    },
}


def _quality_paths() -> dict:
    """Quality measures and their drill-downs (docs/quality.md): quality staff and supervisors."""
    measure = {"name": "measure_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/quality/measures": {
            "get": _op(
                "Quality, supervisor: every measure's numerator, denominator and rate for a period",
                {"200": _json({"type": "array", "items": _MEASURE})},
                params=_PERIOD,
                errors=(400, 401, 403),
            )
        },
        "/quality/measures/{measure_id}/cases": {
            "get": _op(
                "Quality, supervisor: every case in the measure's denominator, oldest start first, paged "
                "(Link: rel=next); audited",
                {"200": _json({"type": "array", "items": _MEASURE_CASE})},
                params=[measure, *_PERIOD, *_PAGE],
            )
        },
    }


def openapi_document() -> dict:
    tid, cid, kid = _id_param("task_id"), _id_param("case_id"), _id_param("client_id")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Carepath API",
            "version": "1",
            "description": "Care-pathway automation. Authenticate with `Authorization: Bearer <token>` "
            '(`carepath user token NAME`). Errors are `{"error": {"code", "message"}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "incident_id": {"type": "integer"},  # a failed pathway step (500)
                                "fields": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                                    },
                                },
                            },
                        }
                    },
                },
                "ClientInput": CLIENT_SCHEMA,
                "Task": _TASK,
                "Case": _CASE,
                "Event": _EVENT,
            },
        },
        "paths": {
            "/me": {
                "get": _op(
                    "The caller",
                    {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "username": {"type": "string"},
                                    "roles": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        )
                    },
                    errors=(401,),
                )
            },
            "/clients": {
                "post": _op(
                    "Register a client (intake, case manager, supervisor)",
                    {"201": _json(_CLIENT, "Created")},
                    body=_ref("ClientInput"),
                    errors=(401, 403, 422),
                ),
                "get": _op(
                    "Search clients by name (?q=), among those the caller may open; paged",
                    _paged({"type": "array", "items": _CLIENT}),
                    params=[{"name": "q", "in": "query", "schema": {"type": "string"}}, *_PAGE_PARAMS],
                    errors=(401, 403),
                ),
            },
            "/clients/{client_id}": {
                "get": _op(
                    "A client with their cases (care team, supervisors, quality; audited)",
                    {"200": _json(_CLIENT)},
                    params=[kid],
                ),
                "patch": _op(
                    "Change contact details or the case manager",
                    {"200": _json(_CLIENT)},
                    params=[kid],
                    body={"type": "object"},
                    errors=(401, 403, 404, 422),
                ),
            },
            "/clients/{client_id}/access": {
                "post": _op(
                    "Break the glass: open the record to the caller for 12 hours, with a reason (audited, reviewed)",
                    {"201": _json(_GRANT, "Open for 12 hours")},
                    params=[kid],
                    body={
                        "type": "object",
                        "required": ["reason"],
                        "properties": {"reason": {"type": "string", "minLength": 10, "maxLength": REASON_MAX}},
                    },
                    errors=(401, 403, 404, 422),
                )
            },
            "/break-glass": {
                "get": _op(
                    "Break-the-glass accesses, newest first (supervisors, quality)",
                    {"200": _json({"type": "array", "items": _GRANT})},
                    errors=(401, 403),
                )
            },
            "/cases": {
                "post": _op(
                    "Open a case; starts the intake pathway",
                    {"201": _json(_ref("Case"), "Created")},
                    body={
                        "type": "object",
                        "required": ["client_id"],
                        "properties": {"client_id": {"type": "integer"}},
                    },
                    errors=(401, 403, 404, 500),
                )
            },
            "/cases/{case_id}": {
                "get": _op("A case: pathways and scores (audited)", {"200": _json(_ref("Case"))}, params=[cid])
            },
            "/cases/{case_id}/messages": {
                "post": _op(
                    "Send a message into the case (crisis_reported starts crisis_response)",
                    {"202": _json({"type": "object"}, "Accepted")},
                    params=[cid],
                    body=_MESSAGE,
                    errors=(401, 403, 404, 409, 422, 500),
                )
            },
            "/cases/{case_id}/events": {
                "get": _op(
                    "The case's event log, oldest first; paged",
                    _paged({"type": "array", "items": _ref("Event")}),
                    params=[cid, *_PAGE_PARAMS],
                )
            },
            "/tasks": {
                "get": _op(
                    "Open tasks the caller may see (and open), most urgent first unless sorted; paged",
                    _paged({"type": "array", "items": _ref("Task")}),
                    params=[
                        {"name": n, "in": "query", "schema": t}
                        for n, t in (
                            ("case_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
                            ("client_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
                            ("role", {"type": "string"}),
                            ("pathway", {"type": "string"}),
                            ("mine", {"type": "string"}),
                            ("view", {"type": "string", "enum": ["mine", "team", "all"]}),
                            ("q", {"type": "string", "description": "client name"}),
                            ("sort", {"type": "string", "enum": ["due", "created", "client"]}),
                        )
                    ]
                    + _PAGE_PARAMS,
                    errors=(401,),
                )
            },
            "/tasks/{task_id}": {
                "get": _op(
                    "A task with its form (schema, ui_schema) and prefill data",
                    {"200": _json(_ref("Task"))},
                    params=[tid],
                )
            },
            "/tasks/{task_id}/claim": {
                "post": _op(
                    "Take an unassigned task of one's role",
                    {"200": _json(_ref("Task"))},
                    params=[tid],
                    errors=(401, 403, 404, 409),
                )
            },
            "/tasks/{task_id}/release": {
                "post": _op(
                    "Give a task back to the team queue",
                    {"200": _json(_ref("Task"))},
                    params=[tid],
                    errors=(401, 403, 404, 409),
                )
            },
            "/tasks/{task_id}/assign": {
                "post": _op(
                    "Supervisor: hand a task to a named person of its role",
                    {"200": _json(_ref("Task"))},
                    params=[tid],
                    body={"type": "object", "properties": {"username": {"type": ["string", "null"]}}},
                    errors=(401, 403, 404, 409),
                )
            },
            "/tasks/{task_id}/complete": {
                "post": _op(
                    "Complete a task with its form answers",
                    {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "completed": {"type": "integer"},
                                    "next_tasks": {"type": "array", "items": _ref("Task")},
                                },
                            }
                        )
                    },
                    params=[tid],
                    body={"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}},
                    errors=(401, 403, 404, 409, 422, 500),
                )
            },
            **_pathway_paths(),
            **_quality_paths(),
            "/incidents": {
                "get": _op(
                    "Admin: timer jobs that kept failing (source timer_job) and pathway steps that "
                    "failed (source step)",
                    {"200": _json({"type": "array"})},
                    errors=(401, 403),
                )
            },
            "/incidents/{job_id}/retry": {
                "post": _op(
                    "Admin: queue an incident again", {"200": _json({"type": "object"})}, params=[_id_param("job_id")]
                )
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}), **_errors(400)},
                }
            },
        },
    }
