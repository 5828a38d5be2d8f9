"""Three working days in Chromium: a case manager's, a supervisor's and a crisis worker's. Each walks the pages
that person uses (contacts, drafts, carried context, caseload and week, supervision of late work, crisis
details, the duplicate warning, client copies, the inbox) and runs axe-core on every one of them: no serious or
critical violation. The case manager also completes a PHQ-9 with the keyboard alone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from browser_support import sign_in
from carepath.engine.models import Client
from carepath.engine.timers import Worker
from ui_support import POSITIVE_ASQ

pytestmark = pytest.mark.browser

AXE_SUMMARY: dict[str, int] = {}


def axe_clean(page) -> None:
    """axe-core on the page as it is now: no serious or critical violation (the count is kept per page)."""
    page.add_script_tag(url="/static/vendor/axe.min.js")
    found = page.evaluate(
        "() => axe.run().then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    path = re.sub(r"/\d+", "/<id>", page.url.split("//", 1)[1].split("/", 1)[1].split("?")[0])
    AXE_SUMMARY["/" + path] = len(found)
    assert found == [], f"{page.url}: {found}"


def visit(page, url: str) -> None:
    page.goto(url)
    axe_clean(page)


def test_a_case_managers_day(page, live):
    needs = {"housing": "high", "housing_notes": "Eviction notice for May", "client_goals": "Keep my flat"}
    maria = live.new_case("Maria", "Lopez", birth_date="1987-03-14")
    phq9 = live.walk_to(maria, "phq9")
    planner = live.new_case("Pablo", "Planner")
    plan_task = live.walk_to(planner, "treatment_plan", answers={"needs_assessment": needs})

    sign_in(page, "case_manager")
    axe_clean(page)  # the inbox: my tasks

    # 4. My caseload and my week.
    page.get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("link", name="Maria Lopez")).to_be_visible()
    axe_clean(page)
    page.get_by_role("link", name="My week of due work").click()
    expect(page.get_by_role("heading", name=re.compile(r"Monday 2 March"))).to_be_visible()
    axe_clean(page)

    # 1. A contact from the case file, shown on the timeline.
    page.goto(f"/cases/{maria}")
    axe_clean(page)
    page.get_by_role("link", name="Record a contact").click()
    axe_clean(page)
    page.get_by_label("When").fill("2026-03-02T08:15")
    page.get_by_label("Minutes spent").fill("30")
    page.get_by_label("Home visit").check()
    page.get_by_label("What was done").fill("Walked through the rent arrears letter with Maria.")
    page.get_by_role("button", name="Record the contact").click()
    expect(page.locator("#contacts")).to_contain_text("Home visit contact, 30 min")
    page.locator("#contacts").get_by_role("link", name="Home visit contact").click()
    expect(page.get_by_role("heading", name="Edit this contact")).to_be_visible()
    axe_clean(page)

    # 10 and 2. The PHQ-9 with the keyboard alone; a draft is kept on the way.
    page.goto(f"/tasks/{phq9.id}")
    axe_clean(page)
    page.locator("body").focus()
    for item in range(1, 10):
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.name") == f"item{item}":
                break
        page.keyboard.press("Space")
        if item == 3:
            expect(page.locator(".draft-status")).to_contain_text("Draft saved")
            page.reload()
            expect(page.locator(".draft-restored")).to_be_visible()
            expect(page.locator('[name="item3"]:checked')).to_have_count(1)
            page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Complete task":
            break
    page.keyboard.press("Enter")
    expect(page.locator(".flash").first).to_contain_text("Saved: “")
    assert live.task(phq9.id).status == "completed"

    # 3. The treatment plan opens with the needs the assessment found; completed forms open from the timeline.
    page.goto(f"/tasks/{plan_task.id}")
    expect(page.locator("#task-form")).to_contain_text("Housing")
    assert page.locator('textarea[name="goals/0/goal"]').input_value() == "Eviction notice for May"
    assert page.locator('[name="client_words"]').input_value() == "Keep my flat"
    axe_clean(page)
    page.goto(f"/cases/{maria}")
    page.locator(".timeline").get_by_role("link", name=phq9.title).first.click()
    expect(page.get_by_role("heading", name="What was recorded")).to_be_visible()
    axe_clean(page)

    # 7. Registering Maria again warns, and links the record already there.
    page.goto("/clients/new")
    axe_clean(page)
    page.get_by_label("Given name").fill("Maria")
    page.get_by_label("Family name").fill("Lopez")
    page.get_by_label("Date of birth").fill("1987-03-14")
    page.get_by_role("button", name="Register client").click()
    expect(page.get_by_role("heading", name="This person may already be registered")).to_be_visible()
    expect(page.locator(".duplicate-warning").get_by_role("link", name="Maria Lopez")).to_be_visible()
    axe_clean(page)
    page.get_by_label("I have checked: this is a different person").check()
    page.get_by_role("button", name="Register client").click()
    expect(page.locator(".flash").first).to_contain_text("is registered")

    # 8. Record pages print without the navigation.
    page.goto(f"/cases/{maria}")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.emulate_media(media="screen")


def test_a_supervisors_day(page, live):
    cp = live.cp
    case_id = live.new_case("Sam", "Supervised")
    late = live.driver.task(case_id, "record_referral")
    cp.record_contact(
        live.driver.actors["case_manager"],
        case_id,
        {"at": cp.clock.now().isoformat(), "minutes": 15, "modality": "phone"},
    )
    Worker(cp).sweep(late.due_at + timedelta(minutes=1))
    cp.clock.set(late.due_at + timedelta(hours=2))  # the morning after

    sign_in(page, "supervisor")
    expect(page.locator('input[name="view"][value="team"]')).to_have_count(1)  # 9. lands on the team queue
    axe_clean(page)

    # 5. Overdue work: named, linked, in words, one group per client; a new date with a reason.
    page.get_by_role("link", name="Overdue work").click()
    group = page.locator("section.overdue-client", has_text="Sam Supervised")
    expect(group.get_by_role("link", name=late.title)).to_be_visible()
    expect(group).to_contain_text(re.compile(r"was due \w{3} \d{1,2} \w{3} 2026, \d\d:\d\d"))
    assert "+00:00" not in group.inner_text()
    axe_clean(page)
    group.get_by_role("link", name="open review").click()
    expect(page.locator(".late-task").get_by_role("link", name=late.title)).to_be_visible()
    axe_clean(page)
    page.locator(".late-task").get_by_label("New due date").fill("2026-03-20T09:00")
    page.locator(".late-task").get_by_label("Reason agreed with the owner").fill("Waiting for the GP letter")
    page.locator(".late-task").get_by_role("button", name="Set the new date").click()
    expect(page.locator(".flash").first).to_contain_text("escalates again if missed")
    expect(page.locator(".late-task")).to_contain_text("Waiting for the GP letter")

    # 1. Billing: the contacts of a period as CSV.
    page.get_by_role("link", name="Contacts for billing").click()
    axe_clean(page)
    csv = page.request.get("/contacts/billing?from=2026-03-01&to=2026-03-31&staff=case_manager").text()
    assert "Sam Supervised" in csv and ",15,phone," in csv

    # The case file with its contacts, and the week and caseload pages as a supervisor sees them.
    visit(page, f"/cases/{case_id}")
    expect(page.locator("#contacts")).to_contain_text("Phone contact, 15 min")
    visit(page, "/inbox?view=all")
    visit(page, "/access/break-glass")


def test_a_crisis_workers_day(page, live):
    cp = live.cp
    case_id = live.new_case("Cara", "Crisis")
    safety = live.walk_to(case_id, "safety_plan", answers=POSITIVE_ASQ)
    live.driver.complete(
        safety, {"warning_signs": ["Not sleeping"], "help_contacts": [{"name": "Rosa", "phone": "555-0101"}]}
    )
    with cp.db.begin() as session:
        session.execute(
            update(Client)
            .where(Client.id == safety.client_id)
            .values(
                phone="555-0142",
                address="12 Elm Street",
                contacts=[{"name": "Dana Crisis", "relationship": "sister", "phone": "555-0143"}],
            )
        )
    cp.send_message(live.driver.actors["case_manager"], case_id, "crisis_reported", {"reason": "Cannot stay safe"})
    crisis_task = next(t for t in live.driver.open_tasks(case_id) if t.role == "crisis")

    sign_in(page, "crisis")
    expect(page.locator('input[name="view"][value="team"]')).to_have_count(1)  # 9. the crisis queue first
    axe_clean(page)

    # 6. Phone, address, emergency contacts and the safety plan beside the crisis task; the risk is real.
    page.goto(f"/tasks/{crisis_task.id}")
    context = page.locator("aside.context")
    expect(context).to_contain_text("555-0142")
    expect(context).to_contain_text("12 Elm Street")
    expect(context).to_contain_text("Dana Crisis")
    expect(context).to_contain_text("Active crisis")
    expect(context).to_contain_text("Not sleeping")  # the safety plan, open
    axe_clean(page)
    if page.get_by_role("button", name="Claim this task").count():
        page.get_by_role("button", name="Claim this task").click()

    # 1. A contact recorded from the task is listed with it.
    page.get_by_role("link", name="Record a contact for this task").click()
    page.get_by_label("Minutes spent").fill("20")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_role("button", name="Record the contact").click()
    expect(page.locator(".task-contacts")).to_contain_text("Phone, 20 min")

    # 8. The client's copy of the safety plan, Stanley-Brown layout.
    page.goto(f"/clients/{safety.client_id}/documents/safety-plan")
    expect(page.get_by_role("heading", name="Step 1: Warning signs")).to_be_visible()
    expect(page.locator(".stanley-brown")).to_contain_text("Rosa — 555-0101")
    axe_clean(page)
    page.emulate_media(media="print")
    expect(page.locator(".document-actions")).to_be_hidden()
    page.emulate_media(media="screen")
    visit(page, f"/cases/{case_id}")
    print("axe serious/critical violations per page:", AXE_SUMMARY)
