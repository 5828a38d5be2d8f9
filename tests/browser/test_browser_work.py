"""Daily work in a real browser: from the inbox to a completed task, an invalid PHQ-9 corrected, claim and
release, a crisis reported, and two people completing the same task."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser_support import fill_task_form, sign_in

pytestmark = pytest.mark.browser


def row_for(page, client: str):
    return page.locator("table.tasks tbody tr").filter(has_text=client)


def test_work_a_task_from_the_inbox_to_completion(page, live):
    case_id = live.new_case("Wanda", "Works")
    task = live.driver.task(case_id, "record_referral")
    sign_in(page, "intake")
    page.get_by_role("link", name=re.compile("Team queue")).click()
    row = row_for(page, "Wanda Works")
    row.get_by_role("button", name=re.compile("Claim")).click()
    expect(page.get_by_role("status").filter(has_text="is now yours")).to_be_visible()
    page.get_by_role("link", name=re.compile("My tasks")).click()
    row_for(page, "Wanda Works").get_by_role("link", name=task.title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(task.title)
    expect(page.locator("aside.context")).to_contain_text("Wanda Works")
    fill_task_form(page, live.driver.form_schema(task), {"reason": "Low mood since the winter"})
    page.get_by_role("button", name="Complete task", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"Saved: “{task.title}” for Wanda Works.")
    assert live.task(task.id).status == "completed"


def test_invalid_phq9_shows_the_field_message_keeps_answers_then_goes_on(page, live):
    case_id = live.new_case("Paula", "Phq")
    task = live.walk_to(case_id, "phq9")
    sign_in(page, "case_manager")
    row_for(page, "Paula Phq").get_by_role("link", name=task.title).click()
    form = page.locator("#task-form")
    # Answer items 1 to 8 with the keyboard (arrow keys move within a radio group); leave item 9.
    for i in range(1, 9):
        form.locator(f"#f-item{i}-0").focus()
        page.keyboard.press("Space")
        if i % 2:
            page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Complete task", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.locator("#f-item9-error")).to_have_text(re.compile("This field is required."))
    for i in range(1, 9):
        expect(form.locator(f'[name="item{i}"][value="{1 if i % 2 else 0}"]')).to_be_checked()
    summary.get_by_role("link").first.click()
    expect(form.locator("#f-item9-0")).to_be_focused()
    form.get_by_label("Not at all").last.check()
    page.get_by_role("button", name="Complete task", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"Saved: “{task.title}” for Paula Phq.")
    assert live.task(task.id).status == "completed"


def test_claim_and_release(page, live):
    live.new_case("Clara", "Claims")
    sign_in(page, "intake")
    page.get_by_role("link", name=re.compile("Team queue")).click()
    row_for(page, "Clara Claims").get_by_role("button", name=re.compile("Claim")).click()
    expect(row_for(page, "Clara Claims")).to_have_count(0)  # no longer in the team queue
    page.get_by_role("link", name=re.compile("My tasks")).click()
    row = row_for(page, "Clara Claims")
    expect(row).to_contain_text("intake")
    row.get_by_role("button", name=re.compile("Release")).click()
    expect(page.get_by_role("status").filter(has_text="is back in the intake team queue")).to_be_visible()
    page.get_by_role("link", name=re.compile("Team queue")).click()
    expect(row_for(page, "Clara Claims")).to_contain_text("Team queue")


def test_report_a_crisis_puts_a_task_in_the_crisis_teams_inbox(new_page, live):
    case_id = live.new_case("Cris", "Isreport")
    manager = new_page()
    sign_in(manager, "case_manager")
    manager.goto(f"/cases/{case_id}")
    manager.get_by_text("Report a crisis", exact=True).click()
    manager.get_by_label("What is happening?").fill("Client phoned: cannot keep safe tonight.")
    manager.get_by_role("button", name="Report a crisis now").click()
    expect(manager.get_by_role("status").first).to_contain_text("Crisis reported")
    expect(manager.locator("ol.timeline")).to_contain_text("crisis_reported")
    crisis = new_page()
    sign_in(crisis, "crisis")
    crisis.get_by_role("link", name=re.compile("Team queue")).click()
    rows = row_for(crisis, "Cris Isreport")
    expect(rows.first).to_contain_text("Crisis")  # the crisis pathway's first task(s), for the crisis team
    rows.first.get_by_role("link").first.click()
    expect(crisis.locator("aside.context")).to_contain_text("Cris Isreport")


def test_a_second_person_completing_the_same_task_sees_the_conflict_message(new_page, live):
    case_id = live.new_case("Connie", "Flict")
    task = live.driver.task(case_id, "record_referral")
    schema = live.driver.form_schema(task)
    first, second = new_page(), new_page()
    sign_in(first, "intake")
    sign_in(second, "intake2")
    for person in (first, second):
        person.goto(f"/tasks/{task.id}")
        fill_task_form(person, schema, {"reason": f"Written by {'one' if person is first else 'two'}"})
    first.get_by_role("button", name="Complete task", exact=True).click()
    expect(first.get_by_role("status").first).to_contain_text("Saved")
    second.get_by_role("button", name="Complete task", exact=True).click()
    conflict = second.locator("#conflict")
    expect(conflict).to_contain_text("Someone else got there first")
    expect(conflict).to_contain_text("completed this task while you were working on it")
    expect(second.locator("textarea[name=reason]")).to_have_value("Written by two")
    expect(second.get_by_role("heading", name="Something went wrong")).to_have_count(0)
