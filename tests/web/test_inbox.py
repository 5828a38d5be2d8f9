"""The inbox: my tasks and the team queue, most urgent first, overdue marked, counts, filters, claim,
release, reassign and "Next task"."""

from __future__ import annotations

import re

from carepath.engine.models import Event, HumanTask
from ui_support import add_user


def rows(html: str) -> list[int]:
    """Task ids in the inbox table, in the order shown."""
    return [int(i) for i in re.findall(r'<tr class="[^"]*" data-task-id="(\d+)"', html)]


def test_team_queue_lists_claimable_tasks_of_my_roles(staff, referral):
    html = staff("intake").text("/inbox?view=team")
    assert rows(html) == [referral["task_id"]]
    assert "Maria Lopez" in html and f'action="/tasks/{referral["task_id"]}/claim"' in html
    assert rows(staff("intake").text("/inbox?view=mine")) == []  # nothing is mine yet
    assert rows(staff("clinician").text("/inbox?view=team")) == []  # not a clinician's task


def test_claim_moves_a_task_to_my_tasks_and_release_puts_it_back(staff, referral, cp):
    intake = staff("intake")
    resp = intake.post(f"/tasks/{referral['task_id']}/claim", {"next": "/inbox?view=team"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox?view=team"
    assert rows(intake.text("/inbox?view=mine")) == [referral["task_id"]]
    assert rows(intake.text("/inbox?view=team")) == []
    with cp.db() as session:
        assert session.query(Event).filter_by(human_task_id=referral["task_id"], lifecycle="claimed").count() == 1
    intake.post(f"/tasks/{referral['task_id']}/release")
    html = intake.text("/inbox?view=team")
    assert rows(html) == [referral["task_id"]] and "is back in the intake team queue" in html


def test_claiming_a_task_someone_else_took_says_so(staff, referral, cp):
    add_user(cp, "intake2", ["intake"])
    staff("intake2").post(f"/tasks/{referral['task_id']}/claim")
    intake = staff("intake")
    resp = intake.post(f"/tasks/{referral['task_id']}/claim", {"next": "/inbox?view=team"})
    assert resp.status_code == 302
    html = intake.text("/inbox?view=team")
    assert "Someone else took this task meanwhile." in html and rows(html) == []


def test_sorted_by_due_time_with_overdue_marked_and_counted(staff, driver, clock):
    first = driver.new_case("Ann", "Early")
    clock.advance(hours=2)
    second = driver.new_case("Bob", "Later")
    tasks = [driver.task(first, "record_referral"), driver.task(second, "record_referral")]
    html = staff("intake").text("/inbox?view=team")
    assert rows(html) == [t.id for t in tasks] and "overdue" not in html.lower().split("<table")[1]
    clock.advance(days=30)
    html = staff("intake").text("/inbox?view=team")
    assert html.count('class="badge overdue"') == 2 and "2 overdue" in html
    assert "is-overdue" in html


def test_counts_show_on_each_view(staff, referral, driver):
    driver.new_case("Second", "Client")
    html = staff("intake").text("/inbox")
    assert re.search(r'My tasks <span class="count">0</span>', html)
    assert re.search(r'Team queue <span class="count">2</span>', html)


def test_filters_by_pathway_client_and_role(staff, driver):
    a = driver.new_case("Ann", "Early")
    b = driver.new_case("Bob", "Later")
    ta, tb = driver.task(a, "record_referral"), driver.task(b, "record_referral")
    intake = staff("intake")
    assert rows(intake.text(f"/inbox?view=team&client={ta.client_id}")) == [ta.id]
    assert rows(intake.text(f"/inbox?view=team&pathway={ta.process_id}")) == [ta.id, tb.id]
    assert rows(intake.text("/inbox?view=team&pathway=nothing_like_it")) == []
    assert rows(intake.text("/inbox?view=team&role=intake")) == [ta.id, tb.id]
    assert "No tasks match these filters." in intake.text("/inbox?view=team&role=clinician")


def test_my_tasks_hold_my_caseloads_case_manager_work(staff, task_with_form):
    task = task_with_form("phq9")  # case manager work, assigned to the client's case manager
    html = staff("case_manager").text("/inbox")
    assert task.id in rows(html)


def test_supervisors_see_all_work_and_reassign_it(staff, referral, cp):
    add_user(cp, "intake2", ["intake"])
    supervisor = staff("supervisor")
    html = supervisor.text("/inbox?view=all")
    assert rows(html) == [referral["task_id"]]
    assert '<option value="intake2">Intake2</option>' in html
    resp = supervisor.post(f"/tasks/{referral['task_id']}/assign", {"username": "intake2", "next": "/inbox?view=all"})
    assert resp.status_code == 302
    assert rows(staff("intake2").text("/inbox?view=mine")) == [referral["task_id"]]
    supervisor.post(f"/tasks/{referral['task_id']}/assign", {"username": ""})
    assert rows(staff("intake").text("/inbox?view=team")) == [referral["task_id"]]


def test_reassigning_to_someone_without_the_role_is_refused(staff, referral):
    resp = staff("supervisor").post(f"/tasks/{referral['task_id']}/assign", {"username": "clinician"})
    assert resp.status_code == 400 and "does not have the role" in resp.get_data(as_text=True)


def test_next_task_claims_and_opens_the_most_urgent(staff, driver, clock, cp):
    first = driver.new_case("Ann", "Early")
    clock.advance(hours=1)
    driver.new_case("Bob", "Later")
    intake = staff("intake")
    resp = intake.post("/inbox/next")
    task = driver.task(first, "record_referral")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/tasks/{task.id}"
    with cp.db() as session:
        assert session.get(HumanTask, task.id).assignee_id is not None


def test_next_task_with_nothing_to_do_says_so(staff):
    resp = staff("quality").post("/inbox/next", follow_redirects=True)
    assert "Nothing is waiting for you right now." in resp.get_data(as_text=True)


def test_times_are_shown_in_the_agencys_time_zone(staff, referral, cp, monkeypatch):
    import dataclasses

    monkeypatch.setattr(cp, "settings", dataclasses.replace(cp.settings, display_timezone="America/Chicago"))
    html = staff("intake").text("/inbox?view=team")
    # T0 is Monday 2 March 2026 09:00 UTC; the referral is due a day later: 03:00 in Chicago (UTC-6).
    assert "Tue 3 Mar 2026, 03:00" in html and "Tue 3 Mar 2026, 09:00" not in html


def test_a_filter_finds_a_task_beyond_the_first_500_and_pages_follow(staff, referral, cp, driver):
    """The old inbox cut the list at 500 tasks and filtered what was left: a task further down was lost."""
    from test_task_lists import add_tasks

    template = driver.task(referral["case_id"], "record_referral")
    add_tasks(cp, template, 510)
    needle = add_tasks(cp, template, 1, family="Needleman", due_every=None)[0]
    intake = staff("intake")
    assert rows(intake.text("/inbox?view=team&q=needleman")) == [needle]
    first = intake.text("/inbox?view=team&limit=500")
    assert len(rows(first)) == 500 and needle not in rows(first)
    next_page = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first).group(1).replace("&amp;", "&")
    second = intake.text(next_page)
    assert rows(second)[-1] == needle and len(rows(second)) == 12 and 'rel="next"' not in second
    assert "First page" in second
    assert intake.get("/inbox?view=team&cursor=garbage").status_code == 400
    by_client = rows(intake.text("/inbox?view=team&sort=client&limit=3"))
    assert len(by_client) == 3
