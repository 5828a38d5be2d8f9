"""A case manager's day in the engine: contacts (edit window, amendments, billing CSV, a step that requires one),
drafts, context carried between forms, the caseload, supervision of late work and the duplicate warning."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carepath.engine import library
from carepath.engine.errors import ContactRequired, InvalidFormData, NotAllowed, NotOnCareTeam
from carepath.engine.models import AuditEntry, FormDraft, TimerJob
from carepath.engine.pathway_files import FileSet
from carepath.engine.timers import Worker
from ui_support import add_user


@pytest.fixture
def cp(make_carepath, any_database_url):
    """Every test here runs on SQLite and on PostgreSQL."""
    return make_carepath(any_database_url)


@pytest.fixture
def referral(driver):
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    task = driver.task(case_id, "record_referral")
    return {"case_id": case_id, "client_id": task.client_id, "task_id": task.id}


def _contact(cp, at_offset_minutes: int = -30, **extra) -> dict:
    return {
        "at": (cp.clock.now() + timedelta(minutes=at_offset_minutes)).isoformat(),
        "minutes": 25,
        "modality": "phone",
        "with_whom": "Client",
        "goals": ["Keep my flat"],
        "note": "Talked about rent.",
        **extra,
    }


def test_contacts_edit_window_amendments_and_billing_csv(cp, driver, actors):
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    cm = actors["case_manager"]
    made = cp.record_contact(cm, case_id, _contact(cp))
    assert made["may_edit"] and made["modality_title"] == "Phone"
    edited = cp.change_contact(cm, made["id"], _contact(cp, minutes=40, note="Rent plan agreed."))
    assert edited["minutes"] == 40 and edited["amended"] == 0
    with pytest.raises(NotAllowed):
        cp.change_contact(actors["supervisor"], made["id"], _contact(cp))
    cp.clock.advance(seconds=25 * 3600)
    with pytest.raises(InvalidFormData) as refused:
        cp.change_contact(cm, made["id"], _contact(cp, at_offset_minutes=-26 * 60))
    assert refused.value.fields[0].path == "reason"
    cp.change_contact(cm, made["id"], _contact(cp, at_offset_minutes=-26 * 60, note="Corrected."), reason="Wrong note")
    history = cp.read_contact(cm, made["id"])
    assert history["note"] == "Corrected." and history["amended"] == 1
    assert (
        history["history"][0]["before"]["note"] == "Rent plan agreed."
        and history["history"][0]["reason"] == "Wrong note"
    )
    with pytest.raises(NotOnCareTeam):
        cp.record_contact(actors["clinician"], case_id, _contact(cp))

    start, end = cp.clock.now() - timedelta(days=3), cp.clock.now() + timedelta(days=1)
    with pytest.raises(NotAllowed):
        cp.contacts_csv(cm, start, end, None)
    lines = "".join(cp.contacts_csv(actors["supervisor"], start, end, "case_manager")).splitlines()
    assert lines[0].startswith("contact_id,date,start,minutes,modality,staff")
    assert len(lines) == 2 and ",25,phone,case_manager," in lines[1] and "Maria Lopez" in lines[1]
    assert "Corrected" not in lines[1]  # notes stay out of billing
    with cp.db() as s:
        actions = {(a.action, a.record_type) for a in s.scalars(select(AuditEntry))}
    assert {("create", "contact"), ("update", "contact"), ("read", "contact"), ("export", "contacts")} <= actions


def test_a_step_that_requires_a_contact_refuses_until_one_is_recorded(cp, driver, actors):
    files, _findings = FileSet.from_library(cp.settings.workflows_dir, cp.settings.forms_dir)
    ui = json.loads(files.files.get("phq9.ui.json", "{}"))
    files.files["phq9.ui.json"] = json.dumps({**ui, "x-requires-contact": True})
    built = library.build(files, only={"assessment"})
    with cp.db.begin() as session:
        library.publish(session, built, cp.clock.now(), origin="publish", by="tests")
    case_id = driver.new_case(case_manager="case_manager")
    driver.walk(case_id, until=lambda: any(t.form_id == "phq9" for t in driver.open_tasks(case_id)))
    task = next(t for t in driver.open_tasks(case_id) if t.form_id == "phq9")
    with pytest.raises(ContactRequired):
        driver.complete(task)
    cp.record_contact(driver.actor_for(task), case_id, _contact(cp), task_id=task.id)
    driver.complete(task)


def test_drafts_are_kept_per_person_and_go_with_completion(cp, driver, actors, referral):
    intake = actors["intake"]
    cp.save_draft(intake, referral["task_id"], {"reason": "half typed"})
    page = cp.task_page(intake, referral["task_id"], team_lead=False)
    assert page.extras["draft"]["data"] == {"reason": "half typed"}
    assert cp.task_page(actors["supervisor"], referral["task_id"], team_lead=True).extras["draft"] is None
    with pytest.raises(NotOnCareTeam):
        cp.save_draft(actors["clinician"], referral["task_id"], {"x": 1})
    with pytest.raises(NotAllowed):  # reads the task, may not complete it: no draft
        cp.save_draft(actors["supervisor"], referral["task_id"], {"x": 1})
    driver.complete((referral["case_id"], "record_referral"))
    with cp.db() as s:
        assert s.scalars(select(FormDraft)).all() == []
        assert {a.record_type for a in s.scalars(select(AuditEntry).where(AuditEntry.action == "update"))} >= {"draft"}


def test_the_plan_opens_with_the_assessed_needs_and_the_review_with_the_plan_goals(cp, driver, actors):
    case_id = driver.new_case(case_manager="case_manager")
    needs = {
        "housing": "high",
        "housing_notes": "Facing eviction in May",
        "legal": "moderate",
        "legal_notes": "Court date",
        "client_goals": "Keep my home",
    }
    driver.walk(
        case_id,
        until=lambda: any(t.form_id == "treatment_plan" for t in driver.open_tasks(case_id)),
        answers={"needs_assessment": needs},
    )
    plan_task = next(t for t in driver.open_tasks(case_id) if t.form_id == "treatment_plan")
    data = cp.read_task(actors["case_manager"], plan_task.id)["data"]
    assert data["client_words"] == "Keep my home"
    assert {"domain": "housing", "goal": "Facing eviction in May"} in data["goals"]
    assert {g["domain"] for g in data["goals"]} == {"housing", "legal"}


def test_caseload_and_week(cp, driver, actors):
    case_id = driver.new_case("Ana", "Aguilar", case_manager="case_manager")
    driver.new_case("Ben", "Other")  # not mine
    cp.record_contact(actors["case_manager"], case_id, _contact(cp))
    page = cp.caseload(actors["case_manager"])
    assert [r["name"] for r in page.items] == ["Ana Aguilar"]
    row = page.items[0]
    assert row["last_contact"] and row["case_id"] == case_id and row["risk"] is None
    week = cp.week(actors["case_manager"], cp.clock.now())
    assert all(t["assignee"] == "case_manager" for t in week)


def test_overdue_review_names_the_late_task_and_a_new_date_rearms_the_escalation(cp, driver, actors, referral):
    worker = Worker(cp)
    late = driver.task(referral["case_id"], "record_referral")
    assert late.due_at is not None
    worker.sweep(late.due_at + timedelta(minutes=1))
    cp.clock.set(late.due_at + timedelta(minutes=2))
    board = cp.overdue_board(actors["supervisor"])
    assert [g["client_id"] for g in board] == [referral["client_id"]]
    assert board[0]["tasks"][0]["id"] == late.id and board[0]["tasks"][0]["reviews"]
    review_id = board[0]["tasks"][0]["reviews"][0]
    page = cp.task_page(actors["supervisor"], review_id, team_lead=True)
    assert page.extras["late_task"]["id"] == late.id
    with pytest.raises(NotAllowed):
        cp.set_due_date(actors["case_manager"], late.id, late.due_at + timedelta(days=3), "agreed")
    new_due = late.due_at + timedelta(days=3)
    moved = cp.set_due_date(actors["supervisor"], late.id, new_due, "Agreed with intake: waiting for GP letter")
    assert moved["rearmed"]
    with cp.db() as s:
        pending = s.scalars(
            select(TimerJob).where(TimerJob.human_task_id == late.id, TimerJob.status == "pending")
        ).all()
    assert [j.due_at for j in pending] == [new_due]
    assert cp.task_page(actors["supervisor"], review_id, team_lead=True).extras["late_task"]["changes"][0]["reason"]


def test_duplicate_warning_links_only_records_one_may_open(cp, driver, actors):
    driver.new_case("Maria", "Lopez", birth_date="1987-03-14", case_manager="case_manager")
    add_user(cp, "cm2", ["case_manager"])
    cm2 = {a.username: a for a in _all_actors(cp)}["cm2"]
    mine = cp.possible_duplicates(actors["case_manager"], "María", "López", date(1987, 3, 14))
    assert mine[0]["may_open"] and mine[0]["name"] == "Maria Lopez"
    hidden = cp.possible_duplicates(cm2, "Maria", "Lopes", date(1987, 3, 14))
    assert hidden == [
        {"client_id": None, "may_open": False, "name": None, "birth_date": "1987-03-14", "ask": "case_manager"}
    ]
    assert cp.possible_duplicates(cm2, "John", "Smith", date(1987, 3, 14)) == []


def _all_actors(cp):
    from carepath.engine import people
    from carepath.engine.models import User

    with cp.db() as s:
        return [people.actor_of(u, "web") for u in s.scalars(select(User))]
