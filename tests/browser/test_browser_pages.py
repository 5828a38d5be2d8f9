"""Form behaviour with and without JavaScript, "Next task", the case file, and a tablet-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser_support import sign_in
from ui_support import POSITIVE_ASQ

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}


def test_asq_question5_appears_only_after_a_yes(page, live):
    case_id = live.new_case("Quinn", "Questions")
    task = live.walk_to(case_id, "asq")
    sign_in(page, task.role)
    page.goto(f"/tasks/{task.id}")
    q5 = page.locator("#f-q5-field")
    expect(q5).to_be_hidden()
    page.locator('[name="q2"][value="true"]').check()
    expect(q5).to_be_visible()
    page.locator('[name="q2"][value="false"]').check()
    expect(q5).to_be_hidden()


def test_list_rows_are_added_and_removed_in_the_page(page, live):
    case_id = live.new_case("Sam", "Safety")
    task = live.walk_to(case_id, "safety_plan", POSITIVE_ASQ)
    sign_in(page, task.role if task.assignee_id is None else "case_manager")
    page.goto(f"/tasks/{task.id}")
    lists = page.locator("#task-form fieldset.list")
    first = lists.first
    rows = first.locator(":scope > .rows > [data-row]")
    before = rows.count()
    first.locator(":scope > button.add").click()
    expect(rows).to_have_count(before + 1)
    expect(rows.last.locator("input, textarea, select").first).to_be_focused()
    rows.last.locator("input, textarea").first.fill("Added in the page")
    rows.first.get_by_role("button", name=re.compile("Remove")).click()
    expect(rows).to_have_count(before)
    expect(rows.first.locator(".row-num").first).to_have_text("1")


def test_without_javascript_rows_are_added_by_the_server(new_page, live):
    case_id = live.new_case("Nora", "Noscript")
    task = live.walk_to(case_id, "safety_plan", POSITIVE_ASQ)
    page = new_page(java_script=False)
    sign_in(page, task.role if task.assignee_id is None else "case_manager")
    page.goto(f"/tasks/{task.id}")
    first = page.locator("#task-form fieldset.list").first
    rows = first.locator(":scope > .rows > [data-row]")
    before = rows.count()
    rows.first.locator("input, textarea").first.fill("Kept across the round trip")
    first.locator(":scope > button.add").click()
    first = page.locator("#task-form fieldset.list").first
    expect(first.locator(":scope > .rows > [data-row]")).to_have_count(before + 1)
    expect(first.locator("input, textarea").first).to_have_value("Kept across the round trip")
    assert live.task(task.id).status == "open"


def test_next_task_opens_the_most_urgent_one(page, live):
    live.new_case("Nat", "Next")
    sign_in(page, "intake2")
    page.get_by_role("link", name=re.compile("Team queue")).click()
    most_urgent = int(page.locator("table.tasks tbody tr").first.get_attribute("data-task-id"))
    page.get_by_role("button", name="Next task").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{most_urgent}$"))
    assert live.task(most_urgent).assignee_id is not None  # claimed on the way, so no one else takes it
    expect(page.locator(".task-main dl.meta")).to_contain_text("Intake2")  # shown by name (add_user: username.title())


def test_case_file_with_scores_chart_and_timeline_on_a_tablet(new_page, live):
    case_id = live.new_case("Tara", "Tablet")
    task = live.walk_to(case_id, "gad7", {"phq9": {"item1": 3, "item2": 3, "item3": 2}})
    live.driver.complete(task, {"item1": 1, "item2": 2})
    page = new_page(viewport=TABLET)
    sign_in(page, "case_manager")  # the client's case manager: on the care team
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", name=re.compile("Tara Tablet"))).to_be_visible()
    chart = page.get_by_role("img", name="PHQ-9 and GAD-7 totals over time")
    expect(chart).to_be_visible()
    expect(page.locator("svg.score-chart circle")).to_have_count(1)
    expect(page.locator("ol.timeline li").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the case file scrolls sideways on a tablet"
    page.goto(f"/tasks/{live.driver.open_tasks(case_id)[0].id}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the task page scrolls sideways on a tablet"


def test_keyboard_focus_is_visible(page, live):
    sign_in(page, "intake")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")


def test_registering_a_client_with_a_family_contact(page, live):
    sign_in(page, "supervisor")
    page.get_by_role("link", name="Register a client").click()
    page.get_by_label("Given name").fill("Fiona")
    page.get_by_label("Family name").fill("Family")
    page.get_by_label("Date of birth").fill("1990-02-03")
    page.get_by_label("Case manager").select_option("case_manager")
    contacts = page.locator("fieldset.list").filter(has_text="Family, caregivers")
    contacts.get_by_label("Name").first.fill("Fred Family")
    contacts.get_by_label("Relationship").first.fill("father")
    contacts.get_by_role("button", name=re.compile("Add")).click()
    expect(contacts.locator(":scope > .rows > [data-row]")).to_have_count(2)
    page.get_by_role("button", name="Register client").click()
    expect(page.get_by_role("status").first).to_contain_text("Fiona Family is registered.")
    expect(page.get_by_text("Fred Family")).to_be_visible()
