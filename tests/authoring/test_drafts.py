"""Drafts and four-eyes publishing through the engine: a change to intake's due time is drafted, judged on every
save, submitted, refused to its own author, approved by a supervisor; new cases take it, running cases keep
theirs; rolling back puts the old due time back for the next case. Every step is in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from authoring_support import (
    DueTimeGate,
    due_of_record_referral,
    with_condition,
    with_record_referral_due,
    without_due_on_record_referral,
)
from carepath.engine.authoring.gate import UnsafeChange
from carepath.engine.errors import BadRequest, NotAllowed, PathwayInvalid, StaleInstance
from carepath.engine.models import AuditEntry, PathwayVersion


def _due_in(driver, case_id) -> timedelta:
    task = driver.task(case_id, "record_referral")
    return task.due_at - task.created_at


def _versions(cp, pathway):
    with cp.db() as session:
        return session.execute(
            select(
                PathwayVersion.version,
                PathwayVersion.is_current,
                PathwayVersion.origin,
                PathwayVersion.reason,
                PathwayVersion.published_by,
            )
            .where(PathwayVersion.process_id == pathway)
            .order_by(PathwayVersion.version)
        ).all()


def test_a_due_time_change_from_draft_to_new_cases_and_back(cp, actors, driver):
    admin, supervisor = actors["admin"], actors["supervisor"]
    running = driver.new_case("Running", "Before")
    assert _due_in(driver, running) == timedelta(days=1)

    draft_id = cp.start_draft(admin, "intake")
    editor = cp.draft_editor(admin, draft_id)
    bpmn = editor["files"]["intake.bpmn"]
    assert due_of_record_referral(bpmn) == "P1D"
    assert "referral.schema.json" in editor["files"] and "crisis_reported" in editor["choices"]["messages"]

    # A broken condition is kept in the draft with its finding at the element and line, and blocks submission.
    broken = with_condition(
        with_record_referral_due(bpmn, "P3D"), "f_emergent_gw_to_throw_crisis_referral", "crisis_started =="
    )
    review = cp.save_draft_files(admin, draft_id, {"intake.bpmn": broken})
    assert not review.refused
    [finding] = [f for f in review.findings if f.severity == "error"]
    assert finding.file == "intake.bpmn" and finding.element == "f_emergent_gw_to_throw_crisis_referral"
    assert finding.line and "condition" in finding.message
    with pytest.raises(PathwayInvalid):
        cp.submit_draft(admin, draft_id, "Referrals may take three days to record")

    review = cp.save_draft_files(admin, draft_id, {"intake.bpmn": with_record_referral_due(bpmn, "P3D")})
    assert review.errors == [] and review.pathways == ["intake"]
    with pytest.raises(BadRequest):
        cp.submit_draft(admin, draft_id, "short")  # the reason is kept with the version: it must say something
    cp.submit_draft(admin, draft_id, "Referrals may take three days to record")
    with pytest.raises(StaleInstance):
        cp.save_draft_files(admin, draft_id, {"intake.bpmn": bpmn})  # a submitted draft is frozen

    with pytest.raises(NotAllowed):
        cp.approve_draft(admin, draft_id)  # the author is not a supervisor, and wrote it
    published = cp.approve_draft(supervisor, draft_id)
    assert published == [{"pathway": "intake", "version": 2}]
    assert _versions(cp, "intake")[-1] == (2, True, "draft", "Referrals may take three days to record", "supervisor")

    fresh = driver.new_case("Fresh", "After")
    assert _due_in(driver, fresh) == timedelta(days=3)
    assert _due_in(driver, running) == timedelta(days=1)  # a running case keeps the version it started on

    result = cp.roll_back_pathway(admin, "intake", 1, "Three days was too long for urgent referrals")
    assert result["version"] == 3 and result["from_version"] == 1
    assert _versions(cp, "intake")[-1][:3] == (3, True, "rollback")
    assert _due_in(driver, driver.new_case("Next", "Rolled")) == timedelta(days=1)
    assert _due_in(driver, fresh) == timedelta(days=3)

    page = cp.draft_page(supervisor, draft_id)
    assert [h["action"] for h in page["history"]] == ["create", "update", "update", "submit", "approve"]
    with cp.db() as session:
        audited = session.execute(
            select(AuditEntry.username, AuditEntry.action, AuditEntry.record_type)
            .where(AuditEntry.record_type.in_(["pathway_draft", "pathway"]))
            .order_by(AuditEntry.id)
        ).all()
    assert ("supervisor", "approve", "pathway_draft") in audited
    assert ("supervisor", "publish", "pathway") in audited and ("admin", "rollback", "pathway") in audited


def test_only_a_supervisor_who_did_not_write_it_may_approve(cp, actors):
    from ui_support import add_user

    add_user(cp, "lead", ["admin", "supervisor"])
    lead = actors_of_user(cp, "lead")
    files = {
        "intake.bpmn": with_record_referral_due(
            cp.draft_editor(actors["admin"], cp.start_draft(actors["admin"], "intake"))["files"]["intake.bpmn"], "P2D"
        )
    }
    draft, _ = cp.create_draft(lead, files, "Two days to record a referral", submitted=True)
    with pytest.raises(NotAllowed, match="four-eyes"):
        cp.approve_draft(lead, draft["id"])  # a supervisor, but the author
    for role in ("quality", "case_manager", "admin"):
        with pytest.raises(NotAllowed):
            cp.approve_draft(actors[role], draft["id"])
    cp.approve_draft(actors["supervisor"], draft["id"])
    with pytest.raises(StaleInstance):
        cp.approve_draft(actors["supervisor"], draft["id"])  # published once; not again


def actors_of_user(cp, username):
    from carepath.engine import people
    from carepath.engine.models import User

    with cp.db() as session:
        return people.actor_of(session.scalar(select(User).where(User.username == username)), "api")


def test_sent_back_with_a_comment_then_resubmitted(cp, actors):
    admin, supervisor = actors["admin"], actors["supervisor"]
    draft_id = cp.start_draft(admin, "intake")
    bpmn = cp.draft_file(admin, draft_id, "intake.bpmn")
    cp.save_draft_files(admin, draft_id, {"intake.bpmn": with_record_referral_due(bpmn, "P5D")})
    cp.submit_draft(admin, draft_id, "Five days to record a referral")
    with pytest.raises(BadRequest):
        cp.send_back_draft(supervisor, draft_id, "no")
    cp.send_back_draft(supervisor, draft_id, "Five days is too long: the CCBHC clock starts at referral.")
    page = cp.draft_page(admin, draft_id)
    assert page["status"] == "returned" and page["history"][-1]["comment"].startswith("Five days is too long")
    cp.save_draft_files(admin, draft_id, {"intake.bpmn": with_record_referral_due(bpmn, "P2D")})
    cp.submit_draft(admin, draft_id, "Two days to record a referral")
    assert cp.approve_draft(supervisor, draft_id) == [{"pathway": "intake", "version": 2}]


def test_a_draft_made_on_an_older_version_cannot_overwrite_a_newer_one(cp, actors):
    admin, supervisor = actors["admin"], actors["supervisor"]
    first, second = cp.start_draft(admin, "intake"), cp.start_draft(admin, "intake")
    bpmn = cp.draft_file(admin, first, "intake.bpmn")
    for draft_id, due in ((first, "P2D"), (second, "P4D")):
        cp.save_draft_files(admin, draft_id, {"intake.bpmn": with_record_referral_due(bpmn, due)})
        cp.submit_draft(admin, draft_id, f"Due in {due} for the referral")
    cp.approve_draft(supervisor, first)
    with pytest.raises(StaleInstance, match="intake"):
        cp.approve_draft(supervisor, second)
    assert [v[0] for v in _versions(cp, "intake")] == [1, 2]


def test_a_form_change_touches_every_pathway_using_the_form(cp, actors):
    admin = actors["admin"]
    draft_id = cp.start_draft(admin, "intake")
    text = cp.draft_file(admin, draft_id, "asq.schema.json").replace('"title": "', '"title": "Changed: ', 1)
    review = cp.save_draft_files(admin, draft_id, {"asq.schema.json": text})
    assert {"intake", "assessment"} <= set(review.pathways)
    assert review.files["assessment.bpmn"]  # the draft carries the full file set of every pathway it touches


def test_the_safety_gate_stops_a_violating_draft_until_someone_accepts_the_risk(cp, actors):
    admin, supervisor = actors["admin"], actors["supervisor"]
    cp.safety_gate = gate = DueTimeGate()
    draft_id = cp.start_draft(admin, "intake")
    bpmn = cp.draft_file(admin, draft_id, "intake.bpmn")
    cp.save_draft_files(admin, draft_id, {"intake.bpmn": without_due_on_record_referral(bpmn)})
    cp.submit_draft(admin, draft_id, "No deadline on recording a referral")
    with pytest.raises(UnsafeChange) as refused:
        cp.approve_draft(supervisor, draft_id)
    [violation] = refused.value.report.violations
    assert violation.invariant == "due_time" and violation.reproduction[-1] == "user task record_referral: no dueIn"
    assert [v[0] for v in _versions(cp, "intake")] == [1]  # nothing published
    page = cp.draft_page(supervisor, draft_id)
    assert page["status"] == "submitted" and page["safety"]["violations"][0]["invariant"] == "due_time"
    with pytest.raises(BadRequest):
        cp.approve_draft(supervisor, draft_id, accept_risk="ok")
    cp.approve_draft(supervisor, draft_id, accept_risk="Referral recording is tracked by the intake lead daily")
    page = cp.draft_page(supervisor, draft_id)
    assert page["status"] == "published"
    assert page["accepted_risk"] == "Referral recording is tracked by the intake lead daily"
    assert page["history"][-1]["comment"].startswith("Safety risk accepted")
    assert gate.calls[-1] == (["intake"], "Referral recording is tracked by the intake lead daily")
    assert gate.recorded[-1][1] == "Referral recording is tracked by the intake lead daily"


def test_approval_runs_the_pathway_checker_and_keeps_its_report(cp, actors):
    admin, supervisor = actors["admin"], actors["supervisor"]
    draft_id = cp.start_draft(admin, "intake")
    bpmn = cp.draft_file(admin, draft_id, "intake.bpmn")
    cp.save_draft_files(admin, draft_id, {"intake.bpmn": with_record_referral_due(bpmn, "P2D")})
    cp.submit_draft(admin, draft_id, "Two days to record a referral")
    cp.approve_draft(supervisor, draft_id)
    safety = cp.draft_page(supervisor, draft_id)["safety"]
    assert safety["ran"] and safety["episodes"] == cp.settings.approval_episodes and safety["violations"] == []
    assert safety["tasks_completed"] > 0


def test_roll_back_needs_a_reason_and_the_right_role(cp, actors):
    with pytest.raises(BadRequest):
        cp.roll_back_pathway(actors["admin"], "intake", 1, "because")
    for role in ("quality", "case_manager", "clinician"):
        with pytest.raises(NotAllowed):
            cp.roll_back_pathway(actors[role], "intake", 1, "A reason long enough to count")
    result = cp.roll_back_pathway(actors["supervisor"], "intake", 1, "Re-publishing the library version")
    assert result["version"] == 2


def test_approve_and_roll_back_on_each_database(make_carepath, any_database_url):
    cp = make_carepath(any_database_url)
    from support import actors_of

    actors = actors_of(cp)
    draft_id = cp.start_draft(actors["admin"], "intake")
    bpmn = cp.draft_file(actors["admin"], draft_id, "intake.bpmn")
    cp.save_draft_files(actors["admin"], draft_id, {"intake.bpmn": with_record_referral_due(bpmn, "P2D")})
    cp.submit_draft(actors["admin"], draft_id, "Two days to record a referral")
    assert cp.approve_draft(actors["supervisor"], draft_id) == [{"pathway": "intake", "version": 2}]
    assert cp.roll_back_pathway(actors["supervisor"], "intake", 1, "Back to the shipped version")["version"] == 3
    history = cp.pathway_history(actors["quality"], "intake")
    assert [(v["version"], v["current"], v["origin"]) for v in history["versions"]] == [
        (3, True, "rollback"),
        (2, False, "draft"),
        (1, False, "library"),
    ]
    assert history["versions"][1]["draft_author"] == "admin"
