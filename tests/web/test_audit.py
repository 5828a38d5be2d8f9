"""Every view of a client record is in the audit log (who, what, which client, when); form contents never
reach the logs."""

from __future__ import annotations

import logging

import pytest

from ui_support import audit_entries, posted


@pytest.mark.parametrize(
    "page, record_type",
    [
        ("/clients/{client}", "client"),
        ("/clients/{client}/edit", "client"),
        ("/cases/{case}", "case"),
        ("/tasks/{task}", "task"),
    ],
)
def test_each_view_of_a_client_record_is_audited(staff, referral, cp, page, record_type):
    path = page.format(client=referral["client_id"], case=referral["case_id"], task=referral["task_id"])
    before = len(audit_entries(cp, username="supervisor"))
    assert staff("supervisor").get(path).status_code == 200
    entries = audit_entries(cp, username="supervisor")[before:]
    assert [(e.action, e.record_type, e.client_id, e.channel) for e in entries] == [
        ("read", record_type, referral["client_id"], "web")
    ]
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


def test_a_search_audits_the_query_hash_and_each_client_found(staff, driver, cp):
    import hashlib

    first = driver.new_case("Maria", "Lopez")
    second = driver.new_case("Mark", "Lopez")
    driver.new_case("James", "Carter")
    staff("supervisor").get("/clients?q=%20LOPEZ%20")
    entries = audit_entries(cp, username="supervisor", action="search")
    digest = hashlib.sha256(b"lopez").hexdigest()
    assert {e.record_id for e in entries} == {digest}  # the query's hash, never the name
    with cp.db() as session:
        from carepath.engine.models import Case

        expected = {session.get(Case, first).client_id, session.get(Case, second).client_id}
    assert {e.client_id for e in entries} == expected
    assert all(e.detail == {"results": 2} for e in entries)
    staff("supervisor").get("/clients?q=nobody")
    nothing = audit_entries(cp, username="supervisor", action="search")[len(entries) :]
    assert [(e.client_id, e.detail) for e in nothing] == [(None, {"results": 0})]


def test_an_export_audits_who_and_what(cp, driver):
    import io

    driver.new_case("Maria", "Lopez")
    cp.export_events("xes", io.StringIO(), who="os:records-officer", target="/srv/exports/events.xes")
    [entry] = audit_entries(cp, action="export")
    assert (entry.username, entry.channel, entry.record_type, entry.record_id) == (
        "os:records-officer",
        "cli",
        "events",
        "events.xes",
    )
    assert entry.detail["format"] == "xes" and entry.detail["output"] == "/srv/exports/events.xes"
    assert entry.detail["cases"] == 1 and entry.detail["clients"] == 1 and entry.detail["events"] > 0


def test_the_audit_log_cannot_be_changed_emptied_or_truncated(any_database_url, make_carepath):
    from sqlalchemy import text

    cp = make_carepath(any_database_url)
    with cp.db.begin() as session:
        from carepath.engine import audit

        audit.record(session, None, "read", "client", 1, 1, cp.clock.now())
    statements = ["UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log"]
    if cp.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(Exception) as refused:
            with cp.engine.begin() as conn:
                conn.execute(text(statement))
        assert "append-only" in str(refused.value), statement
    with cp.db() as session:
        assert session.scalar(text("SELECT count(*) FROM audit_log")) == 1
