"""Messages people may send (engine/messages.py): the allow-list by message and sender, internal hand-overs
refused, payloads checked (400/422, never 500), and no payload value in the server log."""

from __future__ import annotations

import logging

import pytest

from carepath.engine.messages import SENDABLE


def _case(driver) -> int:
    return driver.new_case("Maria", "Lopez", case_manager="case_manager")


def test_the_forged_messages_of_issue_11_are_refused(api, driver):
    case_id = _case(driver)
    status, body = api.post(
        f"/api/v1/cases/{case_id}/messages", {"name": "discharge_requested", "payload": {"reason": "Forged"}}, "intake"
    )
    assert status == 403 and "case manager" in body["error"]["message"]
    status, body = api.post(
        f"/api/v1/cases/{case_id}/messages",
        {"name": "intake_completed", "payload": {"assessment_due": "2026-03-03"}},
        "crisis",
    )
    assert status == 403
    pathways = [p["pathway"] for p in api.get(f"/api/v1/cases/{case_id}", "supervisor")[1]["pathways"]]
    assert pathways == ["intake"]  # neither discharge nor assessment started


@pytest.mark.parametrize(
    "name",
    [
        "intake_completed",
        "assessment_completed",
        "review_scheduled",
        "review_brought_forward",
        "safety_plan_needed",
        "task_overdue",
        "medication_refill_scheduled",
        "no_such_message",
    ],
)
def test_internal_hand_overs_are_403_for_everyone(api, driver, name):
    case_id = _case(driver)
    for user in ("intake", "case_manager", "clinician", "supervisor", "crisis", "quality", "admin"):
        status, body = api.post(f"/api/v1/cases/{case_id}/messages", {"name": name, "payload": {}}, user)
        assert status == 403, (user, body)


def test_who_may_send_what(api, driver, crisis_ready):
    case_id = _case(driver)
    crisis = {"name": "crisis_reported", "payload": {"reason": "Called; unsafe tonight", "source": "phone"}}
    for user in ("intake", "clinician", "crisis", "supervisor", "case_manager"):
        assert api.post(f"/api/v1/cases/{case_id}/messages", crisis, user)[0] == 202, user
    for user in ("quality", "admin"):
        assert api.post(f"/api/v1/cases/{case_id}/messages", crisis, user)[0] == 403, user
    discharge = {"name": "discharge_requested", "payload": {"reason": "Moved out of state"}}
    for user in ("intake", "clinician", "crisis", "quality", "admin"):
        assert api.post(f"/api/v1/cases/{case_id}/messages", discharge, user)[0] == 403, user
    assert api.post(f"/api/v1/cases/{case_id}/messages", discharge, "case_manager")[0] == 202
    assert "discharge" in [p["pathway"] for p in api.get(f"/api/v1/cases/{case_id}", "case_manager")[1]["pathways"]]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"name": "crisis_reported"}, 422),  # no reason
        ({"name": "crisis_reported", "payload": None}, 422),
        ({"name": "crisis_reported", "payload": []}, 422),
        ({"name": "crisis_reported", "payload": "unsafe"}, 422),
        ({"name": "crisis_reported", "payload": {"reason": 12}}, 422),
        ({"name": "crisis_reported", "payload": {"reason": {"nested": "x"}}}, 422),
        ({"name": "crisis_reported", "payload": {"reason": "x" * 1001}}, 422),
        ({"name": "crisis_reported", "payload": {"reason": "ok", "extra": 1}}, 422),
        ({"name": "crisis_reported", "payload": {"reason": "ok", "source": "Not A Source!"}}, 422),
        ({"name": 7, "payload": {}}, 400),
        ({"name": "", "payload": {}}, 400),
        ({"payload": {"reason": "x"}}, 400),
    ],
)
def test_payloads_are_checked_never_a_500(api, driver, crisis_ready, body, status):
    case_id = _case(driver)
    got, answer = api.post(f"/api/v1/cases/{case_id}/messages", body, "case_manager")
    assert got == status, answer
    if status == 422:
        assert answer["error"]["fields"]


def test_a_payload_value_never_reaches_the_server_log(any_database_url, make_carepath, crisis_ready, caplog):
    """Issue 11: a payload value reached the log through a traceback (a NUL byte, which PostgreSQL refuses)."""
    from carepath.web import create_app
    from support import ApiClient, CaseDriver, actors_of
    from ui_support import ensure_crisis_pathway

    cp = make_carepath(any_database_url)
    ensure_crisis_pathway(cp)
    api = ApiClient(create_app(carepath=cp).test_client(), cp)
    case_id = CaseDriver(cp, actors_of(cp)).new_case(case_manager="case_manager")
    caplog.set_level(logging.DEBUG)
    for reason in ("SECRET-PAYLOAD\u0000", "SECRET-PAYLOAD " * 200):
        status, _ = api.post(
            f"/api/v1/cases/{case_id}/messages",
            {"name": "crisis_reported", "payload": {"reason": reason}},
            "case_manager",
        )
        assert status in (400, 422)
    assert "SECRET" not in caplog.text


def test_the_readme_lists_the_allow_list():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, sendable in SENDABLE.items():
        assert f"`{name}`" in readme and sendable.senders in readme, name
