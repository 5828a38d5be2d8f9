"""A clinical path changed by issue 8, walked to the case's end over the JSON API only: a positive ASQ at intake,
then not eligible. The safety plan opens in the same request; the case does not close over it; the supervisor
decides to wait; the case closes by itself once the safety work is done."""

from carepath.engine.form_samples import valid_sample

ROLES = ("intake", "case_manager", "clinician", "supervisor", "crisis")


def open_tasks(api, case_id):
    seen = {}
    for role in ROLES:
        status, body = api.get(f"/api/v1/tasks?case_id={case_id}", role)
        assert status == 200
        seen.update({t["id"]: t for t in body})
    return sorted(seen.values(), key=lambda t: (t["created_at"], t["id"]))


def complete(api, case_id, bpmn_id, answers=None):
    task = next(t for t in open_tasks(api, case_id) if t["task"] == bpmn_id)
    user = task["assignee"] or task["role"]
    status, detail = api.get(f"/api/v1/tasks/{task['id']}", user)
    assert status == 200
    data = valid_sample(detail["form"]["schema"], answers or {})
    if task["assignee"] is None:
        assert api.post(f"/api/v1/tasks/{task['id']}/claim", {}, user)[0] == 200
    status, body = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": data}, user)
    assert status == 200, body
    return body


def test_positive_screen_then_not_eligible_walks_to_a_closed_case_without_losing_the_safety_plan(api):
    status, client = api.post(
        "/api/v1/clients", {"given_name": "Aisha", "family_name": "Khan", "birth_date": "1994-02-11"}, "intake"
    )
    assert status == 201
    status, case = api.post("/api/v1/cases", {"client_id": client["id"]}, "intake")
    case_id = case["id"]
    complete(api, case_id, "record_referral")
    body = complete(api, case_id, "asq_screen", {"q1": True, "q2": False, "q3": False, "q4": False, "q5": False})
    opened = {t["task"]: t for t in body["next_tasks"]}
    assert "write_safety_plan" in opened and "safety_assessment" in opened  # in the same request
    complete(
        api,
        case_id,
        "check_eligibility",
        {"eligible": False, "ineligible_reason": "Outside the area.", "referred_to": "Northside CMHC"},
    )
    status, view = api.get(f"/api/v1/cases/{case_id}", "supervisor")
    assert view["status"] == "open"
    assert {"write_safety_plan", "safety_assessment", "decide_closure"} <= {t["task"] for t in open_tasks(api, case_id)}
    complete(
        api,
        case_id,
        "decide_closure",
        {"decision": "wait_for_safety_work", "reason": "Safety plan and assessment before the hand-off."},
    )
    complete(api, case_id, "safety_assessment", {"disposition": "safety_plan_and_follow_up"})
    complete(api, case_id, "write_safety_plan", {"client_agrees": True})
    complete(api, case_id, "follow_up_call", {"client_reached": True})
    status, view = api.get(f"/api/v1/cases/{case_id}", "supervisor")
    assert view["status"] == "closed"
    assert view["close_reason"] == "Not eligible for services (referred elsewhere)"
    assert all(p["status"] == "completed" for p in view["pathways"])
    assert ("asq", "non_acute_positive") in {(s["instrument"], s["severity"]) for s in view["scores"]}


def test_the_engines_own_safety_signals_cannot_be_sent_by_people(api):
    status, client = api.post(
        "/api/v1/clients", {"given_name": "Tom", "family_name": "Nguyen", "birth_date": "1980-07-01"}, "intake"
    )
    status, case = api.post("/api/v1/cases", {"client_id": client["id"]}, "intake")
    for name in ("safety_work_done", "case_closure_requested", "task_ended", "risk_level_raised"):
        status, body = api.post(f"/api/v1/cases/{case['id']}/messages", {"name": name, "payload": {}}, "supervisor")
        assert status == 403 and body["error"]["code"] == "forbidden", name
