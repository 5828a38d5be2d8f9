"""Every view of a client record is in the audit log (who, what, which client, when); form contents never
reach the logs."""
from __future__ import annotations

import logging

import pytest

from ui_support import audit_entries, posted


@pytest.mark.parametrize("page, record_type", [
    ("/clients/{client}", "client"),
    ("/clients/{client}/edit", "client"),
    ("/cases/{case}", "case"),
    ("/tasks/{task}", "task"),
])
def test_each_view_of_a_client_record_is_audited(staff, referral, cp, page, record_type):
    path = page.format(client=referral["client_id"], case=referral["case_id"], task=referral["task_id"])
    before = len(audit_entries(cp, username="supervisor"))
    assert staff("supervisor").get(path).status_code == 200
    entries = audit_entries(cp, username="supervisor")[before:]
    assert [(e.action, e.record_type, e.client_id, e.channel) for e in entries] == [
        ("read", record_type, referral["client_id"], "web")]
    assert entries[0].at == cp.clock.now()


def test_searching_clients_is_audited(staff, referral, cp):
    staff("clinician").get("/clients?q=lopez")
    assert [(e.action, e.record_type) for e in audit_entries(cp, username="clinician")] == [("search", "client")]


def test_a_refused_view_leaves_no_read_in_the_log(staff, referral, cp):
    assert staff("admin").get(f"/cases/{referral['case_id']}").status_code == 403
    assert staff("clinician").get(f"/tasks/{referral['task_id']}").status_code == 403
    assert audit_entries(cp, username="admin") == [] and audit_entries(cp, username="clinician") == []


def test_registering_editing_and_completing_are_audited_too(staff, referral, cp, driver):
    intake = staff("intake")
    intake.post("/clients/new", {"given_name": "Audit", "family_name": "Me", "birth_date": "1990-01-01"})
    schema = driver.form_schema(driver.task(referral["case_id"], "record_referral"))
    from carepath.engine.form_samples import valid_sample
    intake.post(f"/tasks/{referral['task_id']}", posted(schema, valid_sample(schema)))
    actions = {(e.action, e.record_type) for e in audit_entries(cp, username="intake")}
    assert {("create", "client"), ("complete", "task"), ("read", "task")} <= actions


def test_form_contents_never_reach_the_logs(staff, task_with_form, caplog):
    task = task_with_form("phq9")
    caplog.set_level(logging.DEBUG)
    person = staff("case_manager")
    person.post(f"/tasks/{task.id}", {"item1": "2", "item2": "NOT-A-NUMBER-SECRET"})
    person.post(f"/tasks/{task.id}", posted({}, {f"item{i}": 1 for i in range(1, 10)}))
    assert "SECRET" not in caplog.text and "item2" not in caplog.text
