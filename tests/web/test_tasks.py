"""The task page: the form from the task's JSON Schema, answers kept on error, the next task, conflicts."""

from __future__ import annotations

import re

from sqlalchemy import select

from carepath.engine.form_samples import valid_sample
from carepath.engine.models import FormSubmission, HumanTask
from ui_support import POSITIVE_ASQ, add_user, form_data, posted

PHQ9_ALL_BUT_9 = {f"item{i}": (i % 4) for i in range(1, 9)}


def test_task_page_shows_the_form_and_the_clients_context(staff, referral, driver):
    title = driver.task(referral["case_id"], "record_referral").title
    html = staff("intake").text(f"/tasks/{referral['task_id']}")
    assert f'<h1 id="task-title" class="task-title">{title}' in html and "Maria Lopez" in html
    assert '<form method="post" action="/tasks/' in html and "novalidate" in html
    assert 'name="reason"' in html and '<label for="f-reason">' in html
    assert "Care team" in html and "Case manager" in html and "Age" in html
    assert "Risk level" in html and "Latest scores" in html and "Treatment plan" in html and "Safety plan" in html


def test_invalid_phq9_comes_back_with_a_message_at_the_field_and_every_answer_kept(staff, task_with_form, driver):
    task = task_with_form("phq9")
    person = staff(task.role if task.assignee_id is None else "case_manager")
    page = person.text(f"/tasks/{task.id}")
    assert len(re.findall(r"<fieldset[^>]*>\s*<legend>", page)) >= 9  # each item a group with a legend
    resp = person.post(f"/tasks/{task.id}", posted({}, PHQ9_ALL_BUT_9))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="f-item9-error"' in html and "This field is required." in html
    assert re.search(r'aria-describedby="[^"]*f-item9-error"', html) and 'href="#f-item9-0"' in html
    for name, value in PHQ9_ALL_BUT_9.items():  # what a browser would now send back holds every answer
        assert form_data(html, "task-form")[name] == str(value)
    assert driver.open_tasks(task.case_id) and _status(driver, task.id) == "open"
    resp = person.post(f"/tasks/{task.id}", posted({}, {**PHQ9_ALL_BUT_9, "item9": 0}))
    assert resp.status_code == 302
    assert _status(driver, task.id) == "completed"


def test_completing_a_task_moves_on_to_the_next_one_the_person_can_do(staff, referral, driver, cp):
    intake = staff("intake")
    task = driver.task(referral["case_id"], "record_referral")
    schema = driver.form_schema(task)
    resp = intake.post(f"/tasks/{referral['task_id']}", posted(schema, valid_sample(schema)))
    assert resp.status_code == 302
    follow = intake.get(resp.headers["Location"])
    html = follow.get_data(as_text=True)
    assert f"Saved: “{task.title}” for Maria Lopez." in html
    nxt = re.match(r"/tasks/(\d+)$", resp.headers["Location"])
    if nxt:  # the intake pathway has more for intake staff: it opens directly
        with cp.db() as session:
            row = session.get(HumanTask, int(nxt.group(1)))
        assert row.status == "open" and row.role == "intake" and row.case_id == referral["case_id"]
    else:
        assert resp.headers["Location"] == "/inbox"


def test_last_task_goes_back_to_the_inbox_with_a_confirmation(staff, task_with_form, driver):
    task = task_with_form("phq9")
    person = staff("case_manager")
    resp = person.post(f"/tasks/{task.id}", posted({}, {f"item{i}": 0 for i in range(1, 10)}))
    assert resp.status_code == 302
    html = person.get(resp.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Saved: “" in html


def test_a_second_person_completing_the_same_task_sees_a_conflict_message(staff, referral, driver, cp):
    add_user(cp, "intake2", ["intake"])
    first, second = staff("intake"), staff("intake2")
    schema = driver.form_schema(driver.task(referral["case_id"], "record_referral"))
    answers = valid_sample(schema, {"reason": "Second person's words"})
    assert second.get(f"/tasks/{referral['task_id']}").status_code == 200  # both have the page open
    assert first.post(f"/tasks/{referral['task_id']}", posted(schema, valid_sample(schema))).status_code == 302
    resp = second.post(f"/tasks/{referral['task_id']}", posted(schema, answers))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Someone else got there first" in html and "Intake completed this task while you were working on it" in html
    assert "Second person&#39;s words" in html  # their answers are still on the page to copy
    assert 'class="error-summary"' not in html and "Something went wrong" not in html
    with cp.db() as session:
        subs = session.scalars(select(FormSubmission).where(FormSubmission.human_task_id == referral["task_id"])).all()
    assert len(subs) == 1 and subs[0].data["reason"] != "Second person's words"


def test_someone_without_the_tasks_role_sees_it_read_only(staff, referral):
    html = staff("supervisor").text(f"/tasks/{referral['task_id']}")
    assert "The form is shown read-only" in html and "<fieldset disabled" in html
    assert "Complete task</button>" not in html
    resp = staff("supervisor").post(f"/tasks/{referral['task_id']}", {"reason": "x"})
    assert resp.status_code == 403 and "This task is not yours to complete" in resp.get_data(as_text=True)


def test_a_completed_task_shows_who_did_it_and_what_was_recorded(staff, referral, driver):
    driver.complete((referral["case_id"], "record_referral"), {"reason": "Low mood for months"})
    html = staff("intake").text(f"/tasks/{referral['task_id']}")
    assert "This task is completed by" in html and "Low mood for months" in html
    resp = staff("intake").post(f"/tasks/{referral['task_id']}", {"reason": "again"})
    assert resp.status_code == 409


def test_rows_are_added_and_removed_by_the_server_without_javascript(staff, task_with_form, driver):
    task = task_with_form("safety_plan", POSITIVE_ASQ, given="Aisha", family="Khan")
    schema = driver.form_schema(task)
    lists = [
        name
        for name, p in schema["properties"].items()
        if p.get("type") == "array" and (p.get("items") or {}).get("type") in ("string", "object")
    ]
    assert lists, "the safety plan form has lists"
    name = lists[0]
    person = staff(task.role)
    html = person.text(f"/tasks/{task.id}")
    before = len(re.findall(rf'name="{name}/\d+', html))
    data = form_data(html, "task-form")
    data["_add"] = name
    resp = person.post(f"/tasks/{task.id}", data)
    assert resp.status_code == 200 and _status(driver, task.id) == "open"
    assert len(re.findall(rf'name="{name}/\d+', resp.get_data(as_text=True))) > before
    data = form_data(resp.get_data(as_text=True), "task-form")
    data["_remove"] = f"{name}/0"
    resp = person.post(f"/tasks/{task.id}", data)
    assert resp.status_code == 200


def test_answers_to_hidden_conditional_questions_are_not_saved(staff, task_with_form, driver, cp):
    """ASQ question 5 is asked only after a yes to 1-4: a stray "yes" must not make an acute screen."""
    task = task_with_form("asq")
    answers = {"q1": False, "q2": False, "q3": False, "q4": False, "q5": True}
    resp = staff(task.role).post(f"/tasks/{task.id}", posted({}, answers))
    assert resp.status_code == 302
    with cp.db() as session:
        data = session.scalar(select(FormSubmission.data).where(FormSubmission.human_task_id == task.id))
    assert "q5" not in data and data["q1"] is False


def test_asq_question5_is_required_once_any_answer_is_yes(staff, task_with_form, driver):
    task = task_with_form("asq")
    person = staff(task.role)
    html = person.text(f"/tasks/{task.id}")
    assert re.search(r'id="f-q5-field"\s+data-show-if=', html)
    resp = person.post(f"/tasks/{task.id}", posted({}, {"q1": True, "q2": False, "q3": False, "q4": False}))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="f-q5-error"' in html
    assert form_data(html, "task-form")["q1"] == "true"


def test_unknown_task_is_a_friendly_404(staff):
    resp = staff("intake").get("/tasks/999999")
    assert resp.status_code == 404 and "No task" in resp.get_data(as_text=True)


def _status(driver, task_id: int) -> str:
    with driver.cp.db() as session:
        return session.get(HumanTask, task_id).status


def test_a_pathway_failure_keeps_the_answers_editable_with_a_plain_message(staff, referral, cp, monkeypatch):
    from carepath.engine.errors import PathwayFailed

    def fail(*_args, **_kw):
        raise PathwayFailed("The intake pathway failed at eligible_gw: name 'x' is not defined. Nothing was saved.")

    monkeypatch.setattr(cp.runtime, "complete_task", fail)
    resp = staff("intake").post(f"/tasks/{referral['task_id']}", {"reason": "Kept after a failure"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "The pathway could not go on" in html and "Nothing was saved." in html
    assert form_data(html, "task-form")["reason"] == "Kept after a failure"  # still an editable form


def test_instructions_are_rendered_over_the_tasks_data(staff, referral, driver, cp):
    """The supervisor's overdue review says which task is overdue (a template over the task's data)."""
    from datetime import timedelta

    from carepath.engine.timers import Worker

    overdue = driver.task(referral["case_id"], "record_referral")
    Worker(cp).sweep(overdue.due_at + timedelta(minutes=1))
    review = next(t for t in driver.open_tasks(referral["case_id"]) if t.process_id == "overdue_escalation")
    html = staff("supervisor").text(f"/tasks/{review.id}")
    assert f"“{overdue.title}” passed its due time" in html
    assert "{{" not in html
    # The late task is named and linked, its due time in words in the agency's zone, never raw ISO text.
    late = html.split('class="late-task"')[1].split("</section>")[0]
    assert f'<a href="/tasks/{overdue.id}">{overdue.title}</a>' in late
    assert re.search(r"was due <time[^>]*>\w{3} \d{1,2} \w{3} 2026, \d\d:\d\d</time>", late)
    assert overdue.due_at.isoformat() not in late.replace(f'datetime="{overdue.due_at.isoformat()}"', "")
