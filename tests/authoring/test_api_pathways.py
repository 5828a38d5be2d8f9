"""The pathway API: versions with their files, drafts judged on arrival (422 with findings and nothing saved
when anything is an error), four-eyes approval, sending back, roll back; each route checks the caller's role."""

from __future__ import annotations

from sqlalchemy import func, select

from authoring_support import DueTimeGate, with_condition, with_record_referral_due, without_due_on_record_referral
from carepath.engine.authoring_models import PathwayDraft
from carepath.engine.models import PathwayVersion


def _intake_files(api) -> dict:
    status, body = api.get("/api/v1/pathways/intake", "admin")
    assert status == 200
    return body["versions"][-1]["files"]


def _counts(cp) -> tuple[int, int]:
    with cp.db() as session:
        return (
            session.scalar(select(func.count()).select_from(PathwayDraft)),
            session.scalar(select(func.count()).select_from(PathwayVersion)),
        )


def test_versions_with_their_files_for_admin_supervisor_and_quality(api):
    for user in ("admin", "supervisor", "quality"):
        status, body = api.get("/api/v1/pathways/intake", user)
        assert status == 200
        assert body["pathway"] == "intake"
        [v1] = body["versions"]
        assert v1["version"] == 1 and v1["published_at"] and v1["current"] is True
        assert v1["files"]["intake.bpmn"].startswith("<?xml") and "referral.schema.json" in v1["files"]
    for user in ("case_manager", "intake", "clinician", "crisis"):
        status, body = api.get("/api/v1/pathways/intake", user)
        assert status == 403 and body["error"]["code"] == "forbidden"
    assert api.get("/api/v1/pathways/nothing_like_it", "admin")[0] == 404
    assert api.get("/api/v1/pathways/intake")[0] == 401
    status, body = api.get("/api/v1/pathways", "case_manager")  # the list stays as it was
    assert status == 200 and any(v["pathway"] == "intake" for v in body)


def test_publish_a_change_through_the_api(api, cp, driver):
    files = _intake_files(api)
    body = {
        "files": {"intake.bpmn": with_record_referral_due(files["intake.bpmn"], "PT36H")},
        "title": "36 hours to record a referral",
    }
    assert api.post("/api/v1/pathways/drafts", body, "supervisor")[0] == 403
    status, created = api.post("/api/v1/pathways/drafts", body, "admin")
    assert status == 201, created
    assert created["findings"] == [] and created["status"] == "submitted" and created["pathways"] == ["intake"]
    status, refused = api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "admin")
    assert status == 403
    assert api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "quality")[0] == 403
    status, approved = api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "supervisor")
    assert status == 200 and approved == {"versions": [{"pathway": "intake", "version": 2}]}
    status, again = api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "supervisor")
    assert status == 409 and again["error"]["code"] == "conflict"
    task = driver.task(driver.new_case("Api", "Published"), "record_referral")
    assert (task.due_at - task.created_at).total_seconds() == 36 * 3600
    status, history = api.get("/api/v1/pathways/intake", "quality")
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][1]["reason"] == "36 hours to record a referral"
    assert history["versions"][1]["published_by"] == "supervisor" and history["versions"][1]["draft_author"] == "admin"

    status, rolled = api.post("/api/v1/pathways/intake/rollback", {"version": 1, "reason": "Back to one day"}, "admin")
    assert status == 201 and rolled["version"] == 3


def test_a_draft_with_an_error_is_refused_with_findings_and_nothing_saved(api, cp):
    files = _intake_files(api)
    before = _counts(cp)
    broken = with_condition(files["intake.bpmn"], "f_emergent_gw_to_throw_crisis_referral", "crisis_started ==")
    status, body = api.post("/api/v1/pathways/drafts", {"files": {"intake.bpmn": broken}}, "admin")
    assert status == 422
    [finding] = body["findings"]
    assert finding == {
        "file": "intake.bpmn",
        "line": finding["line"],
        "severity": "error",
        "message": finding["message"],
        "element": "f_emergent_gw_to_throw_crisis_referral",
    }
    assert finding["line"] > 1 and body["error"]["findings"] == body["findings"]
    assert _counts(cp) == before


def test_malformed_requests_get_400(api):
    for body in ({}, {"files": []}, {"files": {}}, {"files": {"intake.bpmn": 7}}, {"files": "x"}):
        status, answer = api.post("/api/v1/pathways/drafts", body, "admin")
        assert status == 400 and answer["error"]["code"] == "bad_request", body
    status, _ = api.call("POST", "/api/v1/pathways/drafts", "admin", raw=b"{not json")
    assert status == 400
    assert api.post("/api/v1/pathways/drafts/999/approve", None, "supervisor")[0] == 404
    assert api.post("/api/v1/pathways/intake/rollback", {"version": "1", "reason": "x" * 20}, "admin")[0] == 400
    assert api.post("/api/v1/pathways/intake/rollback", {"version": 1, "reason": "short"}, "admin")[0] == 400
    assert api.post("/api/v1/pathways/intake/rollback", {"version": 9, "reason": "x" * 20}, "admin")[0] == 404
    assert api.post("/api/v1/pathways/intake/rollback", {"version": 1, "reason": "x" * 20}, "quality")[0] == 403


def test_send_back_then_read_the_draft(api):
    files = _intake_files(api)
    _, created = api.post(
        "/api/v1/pathways/drafts",
        {"files": {"intake.bpmn": with_record_referral_due(files["intake.bpmn"], "P9D")}},
        "admin",
    )
    status, _ = api.post(
        f"/api/v1/pathways/drafts/{created['id']}/send-back",
        {"comment": "Nine days breaks the CCBHC access standard."},
        "supervisor",
    )
    assert status == 200
    status, draft = api.get(f"/api/v1/pathways/drafts/{created['id']}", "quality")
    assert status == 200 and draft["status"] == "returned"
    assert draft["history"][-1] == {
        "at": draft["history"][-1]["at"],
        "by": "supervisor",
        "action": "send_back",
        "comment": "Nine days breaks the CCBHC access standard.",
    }
    assert api.get(f"/api/v1/pathways/drafts/{created['id']}", "case_manager")[0] == 403
    status, listed = api.get("/api/v1/pathways/drafts", "quality")  # not taken for a pathway called "drafts"
    assert status == 200 and [d["id"] for d in listed] == [created["id"]]
    assert api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "supervisor")[0] == 409


def test_approval_over_a_safety_violation_needs_a_reason(api, cp):
    cp.safety_gate = DueTimeGate()
    files = _intake_files(api)
    _, created = api.post(
        "/api/v1/pathways/drafts",
        {"files": {"intake.bpmn": without_due_on_record_referral(files["intake.bpmn"])}},
        "admin",
    )
    status, body = api.post(f"/api/v1/pathways/drafts/{created['id']}/approve", None, "supervisor")
    assert status == 422 and body["error"]["code"] == "unsafe_pathway"
    assert body["error"]["violations"][0]["reproduction"][-1] == "user task record_referral: no dueIn"
    status, body = api.post(
        f"/api/v1/pathways/drafts/{created['id']}/approve",
        {"accept_risk": "Recorded the same day by policy; tracked weekly"},
        "supervisor",
    )
    assert status == 200 and body["versions"] == [{"pathway": "intake", "version": 2}]
