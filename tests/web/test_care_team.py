"""Care-team access (engine/careteam.py) as people meet it: an outside case manager, searches and inboxes
that list only what opens, breaking the glass, and the days of intake, crisis and clinical staff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from carepath.engine.access_models import BreakGlass
from carepath.engine.models import AuditEntry
from carepath.engine.states import TaskStatus
from ui_support import add_user, audit_entries, posted

REASON = {"reason": "Covering the crisis line tonight; the client called us."}


def _maria(driver, walk_referral: bool = True) -> dict:
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    done = driver.task(case_id, "record_referral")
    if walk_referral:
        driver.complete(done, {"reason": "Needs assessment answers: SECRET-ANSWER"})
    return {"case": case_id, "client": done.client_id, "done": done.id}


def test_an_outside_case_manager_reads_and_changes_nothing(api, cp, driver):
    """Issue 11, "caseload scoping": cm2, with no clients, read every record by id and edited any client."""
    add_user(cp, "cm2", ["case_manager"])
    maria = _maria(driver)
    refused = [
        api.get(f"/api/v1/clients/{maria['client']}", "cm2"),
        api.get(f"/api/v1/cases/{maria['case']}", "cm2"),
        api.get(f"/api/v1/cases/{maria['case']}/events", "cm2"),
        api.get(f"/api/v1/tasks/{maria['done']}", "cm2"),
        api.call("PATCH", f"/api/v1/clients/{maria['client']}", "cm2", {"phone": "555-0000"}),
        api.post("/api/v1/cases", {"client_id": maria["client"]}, "cm2"),
    ]
    for status, body in refused:
        assert status == 403 and body["error"]["code"] == "not_on_care_team", body
        assert "SECRET" not in str(body) and "Lopez" not in str(body)
    assert refused[0][1]["error"]["break_glass"] == f"/api/v1/clients/{maria['client']}/access"
    assert api.get("/api/v1/clients?q=lopez", "cm2") == (200, [])
    assert api.get(f"/api/v1/tasks?client_id={maria['client']}", "cm2") == (200, [])
    assert api.get(f"/api/v1/clients/{maria['client']}", "case_manager")[0] == 200  # her own case manager


def test_searches_list_only_the_clients_one_may_open(api, cp, driver):
    add_user(cp, "cm2", ["case_manager"])
    driver.new_case("Maria", "Lopez", case_manager="case_manager")
    driver.new_case("Mark", "Lopez", case_manager="cm2")
    names = {
        u: sorted(c["given_name"] for c in api.get("/api/v1/clients?q=lopez", u)[1])
        for u in ("case_manager", "cm2", "clinician", "supervisor", "quality", "intake")
    }
    assert names == {
        "case_manager": ["Maria"],
        "cm2": ["Mark"],
        "clinician": [],
        "supervisor": ["Maria", "Mark"],
        "quality": ["Maria", "Mark"],
        "intake": ["Maria", "Mark"],
    }  # intake registered both
    for user in names:
        for client in api.get("/api/v1/clients?q=lopez", user)[1]:
            assert api.get(f"/api/v1/clients/{client['id']}", user)[0] == 200, (user, client["id"])


def test_every_task_an_inbox_lists_opens(api, cp, driver, staff):
    add_user(cp, "cm2", ["case_manager"])
    for given in ("Ana", "Ben"):
        case_id = driver.new_case(given, "Queue")
        driver.walk(case_id, until=lambda case_id=case_id: any(t.role != "intake" for t in driver.open_tasks(case_id)))
    for user in ("intake", "case_manager", "cm2", "clinician", "supervisor", "crisis", "quality", "admin"):
        tasks = api.get("/api/v1/tasks", user)[1]
        for task in tasks:
            assert api.get(f"/api/v1/tasks/{task['id']}", user)[0] == 200, (user, task)
        html = staff(user).text("/inbox?view=team")
        for task in tasks:
            if task["assignee"] is None and task["role"] in (user,):
                assert f"/tasks/{task['id']}" in html
    assert api.get("/api/v1/tasks", "admin")[1] == []


def test_break_the_glass_opens_the_record_for_twelve_hours_audited(api, cp, driver, clock):
    maria = _maria(driver)
    path = f"/api/v1/clients/{maria['client']}/access"
    for body in ({"reason": "too short"}, {"reason": "          x"}, {"reason": 12345678901}, {}):
        status, answer = api.post(path, body, "clinician")
        assert status == 422 and answer["error"]["fields"][0]["path"] == "reason", body
    assert api.get(f"/api/v1/cases/{maria['case']}", "clinician")[0] == 403
    status, grant = api.post(path, REASON, "clinician")
    assert status == 201 and grant["reason"] == REASON["reason"]
    assert grant["expires_at"] == (clock.now() + timedelta(hours=12)).isoformat()
    assert api.get(f"/api/v1/cases/{maria['case']}", "clinician")[0] == 200
    assert api.get(f"/api/v1/tasks/{maria['done']}", "clinician")[0] == 200
    assert [c["given_name"] for c in api.get("/api/v1/clients?q=lopez", "clinician")[1]] == ["Maria"]
    entries = audit_entries(cp, username="clinician", action="break_glass")
    assert [(e.record_type, e.client_id) for e in entries] == [("client", maria["client"])]
    log = api.get("/api/v1/break-glass", "quality")[1]
    assert [(g["username"], g["client_id"], g["reason"], g["active"]) for g in log] == [
        ("clinician", maria["client"], REASON["reason"], True)
    ]
    assert api.get("/api/v1/break-glass", "clinician")[0] == 403

    clock.advance(hours=12)
    assert api.get(f"/api/v1/cases/{maria['case']}", "clinician")[0] == 403
    assert api.get("/api/v1/break-glass", "supervisor")[1][0]["active"] is False
    assert api.post(f"/api/v1/clients/{maria['client']}/access", REASON, "admin")[0] == 403
    assert api.post("/api/v1/clients/2147483647/access", REASON, "clinician")[0] == 404


def test_the_staff_page_says_why_and_offers_the_glass(staff, driver, cp):
    maria = _maria(driver)
    crisis = staff("crisis")
    page = crisis.get(f"/clients/{maria['client']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "Not on this client's care team" in html and "Lopez" not in html
    assert f'action="/clients/{maria["client"]}/access"' in html
    resp = crisis.post(f"/clients/{maria['client']}/access", {**REASON, "next": "//evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/clients/{maria['client']}"
    assert "Maria Lopez" in crisis.text(f"/clients/{maria['client']}")
    admin_page = staff("admin").get(f"/clients/{maria['client']}").get_data(as_text=True)
    assert "Not allowed" in admin_page and "Open the record" not in admin_page
    assert "Covering the crisis line" in staff("supervisor").text("/access/break-glass")
    with cp.db() as session:
        assert session.scalar(select(BreakGlass.reason)) == REASON["reason"]


def test_intake_registers_then_works_the_referral(staff, cp):
    """The intake coordinator who registered a client lands on the client's page and does the intake tasks;
    a second coordinator takes a referral from the queue and is then on the care team too."""
    add_user(cp, "intake2", ["intake"])
    intake = staff("intake")
    resp = intake.post(
        "/clients/new", {"given_name": "Ivy", "family_name": "Intake", "birth_date": "1991-01-01", "_open_case": "yes"}
    )
    client_page = intake.get(resp.headers["Location"])
    assert client_page.status_code == 200 and "Ivy Intake" in client_page.get_data(as_text=True)
    with cp.db() as session:
        from carepath.engine.models import HumanTask

        task = session.scalar(select(HumanTask).where(HumanTask.status == TaskStatus.OPEN))
    assert intake.get(f"/tasks/{task.id}").status_code == 200
    second = staff("intake2")
    assert second.get(f"/clients/{task.client_id}").status_code == 403  # not yet on the care team
    assert second.post(f"/tasks/{task.id}/claim").status_code == 302
    assert second.get(f"/clients/{task.client_id}").status_code == 200  # holding a task of the client's


def test_a_crisis_worker_acts_on_the_crisis_task_just_given(api, driver, crisis_ready):
    maria = _maria(driver)
    status, _ = api.post(
        f"/api/v1/cases/{maria['case']}/messages",
        {"name": "crisis_reported", "payload": {"reason": "Called: unsafe tonight"}},
        "clinician",
    )
    assert status == 202  # any clinical role raises the alarm, on the care team or not
    assert api.get(f"/api/v1/cases/{maria['case']}", "crisis")[0] == 403  # not yet on the care team
    task = api.get(f"/api/v1/tasks?case_id={maria['case']}&role=crisis", "crisis")[1][0]
    detail = api.get(f"/api/v1/tasks/{task['id']}", "crisis")[1]
    assert "unsafe tonight" in detail["instructions"]
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", {}, "crisis")[0] == 200
    assert api.get(f"/api/v1/cases/{maria['case']}", "crisis")[0] == 200  # holds a task: on the care team


def test_a_task_handed_to_a_clinician_opens_the_case_file(api, cp, driver, staff):
    add_user(cp, "doc2", ["clinician"])
    case_id = driver.new_case("Cleo", "Review", case_manager="case_manager")
    driver.walk(case_id, until=lambda: any(t.role == "clinician" for t in driver.open_tasks(case_id)))
    task = next(t for t in driver.open_tasks(case_id) if t.role == "clinician")
    schema = driver.form_schema(task)
    assert staff("doc2").get(f"/cases/{case_id}").status_code == 403
    assert api.post(f"/api/v1/tasks/{task.id}/assign", {"username": "doc2"}, "supervisor")[0] == 200
    assert staff("doc2").get(f"/cases/{case_id}").status_code == 200
    from carepath.engine.form_samples import valid_sample

    assert staff("doc2").post(f"/tasks/{task.id}", posted(schema, valid_sample(schema))).status_code == 302
    assert staff("doc2").get(f"/cases/{case_id}").status_code == 200  # having done work for the client


def test_refused_reads_leave_no_read_in_the_audit_log(api, cp, driver):
    maria = _maria(driver)
    api.get(f"/api/v1/clients/{maria['client']}", "crisis")
    api.get(f"/api/v1/tasks/{maria['done']}", "crisis")
    with cp.db() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.username == "crisis")).all() == []
