"""The JSON API as docs/api.md states it: a case walked over HTTP (surviving a restart), and bad input
answered with the contract's error shape and status, never a 500."""

from __future__ import annotations

import pytest

from carepath.engine.form_samples import valid_sample
from carepath.engine.models import AuditEntry
from support import ROUTINE, ApiClient


def _error(status, body, code_status):
    assert status == code_status, body
    assert set(body["error"]) >= {"code", "message"}, body
    return body["error"]


def _open_tasks(api: ApiClient, case_id: int, roles) -> list[dict]:
    seen = {}
    for role in roles:
        status, body = api.get(f"/api/v1/tasks?case_id={case_id}", role)
        assert status == 200
        for t in body:
            seen[t["id"]] = t
    return sorted(seen.values(), key=lambda t: (t["created_at"], t["id"]))


def _complete_oldest(api: ApiClient, case_id: int, roles) -> dict:
    task = _open_tasks(api, case_id, roles)[0]
    user = task["assignee"] or task["role"]
    status, detail = api.get(f"/api/v1/tasks/{task['id']}", user)
    assert status == 200 and detail["form"]["schema"]["type"] == "object"
    data = valid_sample(detail["form"]["schema"], ROUTINE.get(detail["form"]["id"], {}))
    if task["assignee"] is None:
        assert api.post(f"/api/v1/tasks/{task['id']}/claim", {}, user)[0] == 200
    status, body = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": data}, user)
    assert status == 200, body
    return body


def test_case_over_the_api_hands_over_and_survives_a_restart(any_database_url, make_carepath, roles):
    from carepath.web import create_app

    def start_app():
        cp = make_carepath(any_database_url)
        app = create_app(carepath=cp)
        return ApiClient(app.test_client(), cp)

    api = start_app()
    status, me = api.get("/api/v1/me", "intake")
    assert status == 200 and me == {"username": "intake", "roles": ["intake"]}
    status, client = api.post(
        "/api/v1/clients", {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "1985-07-01"}, "intake"
    )
    assert status == 201
    status, case = api.post("/api/v1/cases", {"client_id": client["id"]}, "intake")
    assert status == 201 and case["status"] == "open"
    assert [p["pathway"] for p in case["pathways"]] == ["intake"]

    first = _open_tasks(api, case["id"], roles)
    assert [t["task"] for t in first] == ["record_referral"]
    assert first[0]["due_at"] and first[0]["role"] == "intake"
    _complete_oldest(api, case["id"], roles)

    api = start_app()  # a new engine and app on the same database: nothing may be lost
    assert [t["task"] for t in _open_tasks(api, case["id"], roles)] != [t["task"] for t in first]
    for _ in range(12):
        status, case = api.get(f"/api/v1/cases/{case['id']}", "supervisor")
        if "assessment" in [p["pathway"] for p in case["pathways"]]:
            break
        _complete_oldest(api, case["id"], roles)
    pathways = {p["pathway"]: p for p in case["pathways"]}
    assert pathways["intake"]["status"] == "completed"
    assert pathways["assessment"]["status"] == "running" and pathways["assessment"]["version"] == 1
    assert [s["instrument"] for s in case["scores"]] == ["asq"]
    assert case["scores"][0]["severity"] == "negative"
    tasks = _open_tasks(api, case["id"], roles)
    assert tasks and all(t["pathway"] == "assessment" for t in tasks)

    api = start_app()
    assert _open_tasks(api, case["id"], roles) == tasks
    status, events = api.get(f"/api/v1/cases/{case['id']}/events", "quality")
    assert status == 200
    lifecycles = {e["lifecycle"] for e in events}
    assert {"ready", "completed", "claimed", "message"} <= lifecycles
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_bad_input_gets_the_contract_error_shape(api, driver):
    _error(*api.get("/api/v1/me"), 401)
    _error(*api.call("GET", "/api/v1/me", headers={"Authorization": "Bearer nope"}), 401)
    _error(*api.get("/api/v1/tasks/999999", "case_manager"), 404)
    _error(*api.get("/api/v1/cases/999999", "case_manager"), 404)
    _error(*api.get("/api/v1/clients/999999", "case_manager"), 404)
    _error(*api.call("POST", "/api/v1/clients", "intake", raw=b"{not json"), 400)
    _error(*api.call("POST", "/api/v1/clients", "intake", raw=b"[1, 2]"), 400)
    error = _error(*api.post("/api/v1/clients", {"given_name": 7}, "intake"), 422)
    assert error["code"] == "invalid_form_data"
    _error(*api.post("/api/v1/cases", {"client_id": "abc"}, "intake"), 400)
    _error(*api.post("/api/v1/cases", {"client_id": 424242}, "intake"), 404)
    _error(
        *api.post("/api/v1/clients", {"given_name": "A", "family_name": "B", "birth_date": "1990-01-01"}, "quality"),
        403,
    )
    _error(*api.get("/api/v1/nowhere", "intake"), 404)
    _error(*api.call("DELETE", "/api/v1/me", "intake"), 405)

    case_id = driver.new_case()
    task = driver.task(case_id, "record_referral")
    status, body = api.post(f"/api/v1/tasks/{task.id}/complete", {"data": {"urgency": "someday"}}, "intake")
    error = _error(status, body, 422)
    paths = {f["path"] for f in error["fields"]}
    assert {"urgency", "reason", "source", "referral_date"} <= paths
    assert body["fields"] == error["fields"]
    _error(*api.post(f"/api/v1/tasks/{task.id}/complete", {"nodata": 1}, "intake"), 400)
    _error(*api.post(f"/api/v1/tasks/{task.id}/complete", {"data": {}}, "clinician"), 403)
    # Only allow-listed messages come from people (engine/messages.py); anything else is 403, known or not.
    _error(*api.post(f"/api/v1/cases/{case_id}/messages", {"name": "no_such_message"}, "case_manager"), 403)
    _error(*api.post(f"/api/v1/cases/{case_id}/messages", {"name": "crisis_reported"}, "quality"), 403)

    data = valid_sample(driver.form_schema(task))
    assert api.post(f"/api/v1/tasks/{task.id}/complete", {"data": data}, "intake")[0] == 200
    error = _error(*api.post(f"/api/v1/tasks/{task.id}/complete", {"data": data}, "intake"), 409)
    assert error["code"] == "task_not_open"
    _error(*api.post(f"/api/v1/tasks/{task.id}/claim", {}, "intake"), 409)


def test_task_views_follow_the_contract(api, driver, cp):
    case_id = driver.new_case()
    status, tasks = api.get(f"/api/v1/tasks?case_id={case_id}", "intake")
    assert status == 200 and len(tasks) == 1
    assert set(tasks[0]) >= {
        "id",
        "case_id",
        "client_id",
        "pathway",
        "task",
        "title",
        "role",
        "assignee",
        "due_at",
        "created_at",
    }
    status, detail = api.get(f"/api/v1/tasks/{tasks[0]['id']}", "intake")
    assert detail["form"]["id"] == "referral" and detail["form"]["schema"]["$id"].endswith("referral")
    assert "data" in detail
    assert api.get(f"/api/v1/tasks?case_id={case_id}", "clinician")[1] == []  # not the clinician's work
    _error(*api.get(f"/api/v1/tasks/{tasks[0]['id']}", "clinician"), 403)
    assert api.post(f"/api/v1/tasks/{tasks[0]['id']}/claim", {}, "intake")[1]["assignee"] == "intake"
    assert api.get("/api/v1/tasks?mine=1", "intake")[1][0]["id"] == tasks[0]["id"]
    assert api.post(f"/api/v1/tasks/{tasks[0]['id']}/release", {}, "intake")[1]["assignee"] is None
    with cp.db() as session:
        reads = session.query(AuditEntry).filter_by(record_type="task", action="read").count()
    assert reads == 1


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_openapi_document(api, path):
    status, doc = api.get(path)
    assert status == 200 and doc["openapi"].startswith("3")
    for route in ("/tasks/{task_id}/complete", "/cases/{case_id}/messages", "/clients"):
        assert route in doc["paths"]


def test_a_reported_crisis_reaches_the_crisis_team_with_its_reason(api, driver):
    case_id = driver.new_case()
    status, body = api.post(
        f"/api/v1/cases/{case_id}/messages",
        {"name": "crisis_reported", "payload": {"reason": "Called saying they are not safe tonight"}},
        "case_manager",
    )
    assert status == 202 and any(r["pathway"] == "crisis_response" and r["started"] for r in body["received_by"])
    crisis_tasks = api.get(f"/api/v1/tasks?case_id={case_id}&pathway=crisis_response&role=crisis", "crisis")[1]
    assert crisis_tasks
    detail = api.get(f"/api/v1/tasks/{crisis_tasks[0]['id']}", "crisis")[1]
    assert "Called saying they are not safe tonight" in detail["instructions"]
