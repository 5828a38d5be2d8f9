"""Pathway authoring in Chromium, as the people who do it: an admin changes intake's due time in the editor,
meets and fixes a broken condition, submits; the author's own approval is refused; a supervisor approves; new
cases take the new due time while a running case keeps its old one; rolling back restores it for the next."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from browser_support import sign_in
from ui_support import add_user

pytestmark = pytest.mark.browser

FLOW = "f_emergent_gw_to_throw_crisis_referral"

# Approving and rolling back run the pathway checker before publishing (a few episodes, seconds on a quiet
# machine): the page answers when the check is done, so these two waits are longer than the usual ones.
PUBLISH_TIMEOUT_MS = 90_000


def _due(live, case_id) -> timedelta:
    task = live.driver.task(case_id, "record_referral")
    return task.due_at - task.created_at


def _csp_watch(page):
    page.add_init_script(
        "window.cspViolations = []; document.addEventListener('securitypolicyviolation', "
        "e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def _open_editor(page, name: str):
    page.get_by_role("link", name=f"Edit {name}").click()
    page.wait_for_selector("body[data-editor-ready='true']")


def test_a_due_time_change_from_the_editor_to_new_cases_and_back(new_page, live):
    add_user(live.cp, "lead", ["admin", "supervisor"])  # an admin who is also a supervisor: still not a reviewer here
    running = live.new_case("Rita", "Running")
    assert _due(live, running) == timedelta(days=1)

    author = new_page()
    _csp_watch(author)
    sign_in(author, "lead")
    author.get_by_role("link", name="Pathways").click()
    author.get_by_role("link", name="Intake", exact=True).click()
    expect(author.locator("#versions-note")).to_contain_text("Running instances keep the version they started on")
    author.get_by_role("button", name="Change this pathway").click()
    expect(author.get_by_role("heading", level=1)).to_contain_text("Draft")
    draft_url = author.url
    _open_editor(author, "intake.bpmn")

    # The due time of "Record the referral", through the side panel.
    author.locator('[data-element-id="record_referral"]').click()
    expect(author.locator("#panel h2")).to_have_text("Record the referral")
    expect(author.locator("#p-due")).to_have_value('"P1D"')
    author.locator("#p-due-amount").fill("3")
    author.locator("#p-due-amount").press("Tab")
    expect(author.locator("#p-due")).to_have_value('"P3D"')

    # A deliberately broken condition: saved into the draft, with its finding at the element and line.
    author.locator(f'[data-element-id="{FLOW}_label"]').click()
    author.locator("#p-condition").fill("crisis_started ==")
    author.locator("#p-condition").press("Tab")
    author.get_by_role("button", name="Save to the draft").click()
    finding = author.locator("#findings li.finding-error")
    expect(finding).to_contain_text(f"element {FLOW}")
    expect(finding).to_contain_text(re.compile(r"line \d+"))
    expect(finding).to_contain_text("condition is not valid Python")
    expect(author.locator(f'.djs-element.has-error[data-element-id="{FLOW}"]')).to_have_count(1)

    author.locator("#p-condition").fill("crisis_started")
    author.locator("#p-condition").press("Tab")
    author.get_by_role("button", name="Save to the draft").click()
    expect(author.locator("#findings")).to_contain_text("Saved. No problems found")
    expect(author.locator(".djs-element.has-error")).to_have_count(0)
    expect(author.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark stays (its licence)

    author.get_by_role("link", name="Back to the draft").click()
    expect(author.locator("table.changes-elements")).to_contain_text('"P3D"')
    author.get_by_label("What changes, and why?").fill("Referrals may take three days to record")
    author.get_by_role("button", name="Submit for review").click()
    expect(author.locator(".badge.status-submitted")).to_have_text("Waiting for review")
    expect(author.locator("#own-draft")).to_contain_text("a second supervisor must review")
    expect(author.get_by_role("button", name="Approve and publish")).to_have_count(0)

    # The author's own approval, sent anyway, is refused and changes nothing.
    token = author.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = author.request.post(draft_url + "/approve", form={"csrf_token": token})
    assert refused.status == 403 and "four-eyes" in refused.text()
    assert author.evaluate("window.cspViolations") == []

    reviewer = new_page()
    sign_in(reviewer, "supervisor")
    reviewer.get_by_role("link", name="Pathways").click()
    waiting = reviewer.locator(
        "section", has=reviewer.get_by_role("heading", name=re.compile("Waiting for your review"))
    )
    waiting.get_by_role("link", name=re.compile("Draft")).first.click()
    changes = reviewer.locator("table.changes-elements")
    expect(changes).to_contain_text("Record the referral")
    expect(changes).to_contain_text('"P1D"')
    expect(changes).to_contain_text('"P3D"')
    expect(reviewer.locator(".diagram-diff[data-compared='true'] .diff-list")).to_contain_text("record_referral")
    reviewer.get_by_role("button", name="Approve and publish").click(timeout=PUBLISH_TIMEOUT_MS)
    expect(reviewer.get_by_role("status").first).to_contain_text(
        "Published intake version 2", timeout=PUBLISH_TIMEOUT_MS
    )

    fresh = live.new_case("Nina", "New")
    assert _due(live, fresh) == timedelta(days=3)
    assert _due(live, running) == timedelta(days=1)  # the running case keeps the version it started on

    reviewer.get_by_role("link", name="intake version 2").click()
    reviewer.get_by_role("link", name="Intake", exact=True).click()
    versions = reviewer.locator("table.versions")
    expect(versions.locator("#version-2")).to_contain_text("Referrals may take three days to record")
    expect(versions.locator("#version-1")).to_contain_text("1")  # Rita's intake still runs on version 1
    versions.locator("#version-1").get_by_text("Roll back to version 1").click()
    reviewer.get_by_label("Why roll back?").fill("Urgent referrals were recorded too late")
    reviewer.get_by_role("button", name="Publish version 1 again").click(timeout=PUBLISH_TIMEOUT_MS)
    expect(reviewer.get_by_role("status").first).to_contain_text(
        "published again as version 3", timeout=PUBLISH_TIMEOUT_MS
    )
    expect(versions.locator("#version-3")).to_contain_text(
        "Roll back to version 1: Urgent referrals were recorded too late"
    )

    assert _due(live, live.new_case("Otto", "Rolledback")) == timedelta(days=1)
    assert _due(live, fresh) == timedelta(days=3)


def test_quality_reads_the_library_and_compares_versions_but_changes_nothing(page, live):
    _csp_watch(page)
    sign_in(page, "quality")
    page.get_by_role("link", name="Pathways").click()
    expect(page.get_by_role("button", name=re.compile("Change"))).to_have_count(0)
    page.get_by_role("link", name="Assessment", exact=True).click()
    expect(page.locator("[data-drawn='true']")).to_have_count(1)
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    expect(page.locator("details.rollback")).to_have_count(0)
    page.get_by_role("link", name="Version 1", exact=True).click()
    page.locator("details.form-card").filter(has_text="PHQ-9").locator("summary").click()
    expect(page.locator("details.form-card[open] fieldset[disabled]")).to_contain_text("Little interest or pleasure")
    expect(page.locator(".decision caption").first).to_contain_text("hit policy")
    assert page.request.get("/pathways/drafts/1/edit/intake.bpmn").status == 403
    assert page.evaluate("window.cspViolations") == []


def test_people_without_a_library_role_do_not_see_it(page, live):
    sign_in(page, "case_manager")
    expect(page.get_by_role("link", name="Pathways")).to_have_count(0)
    assert page.request.get("/pathways/").status == 403
    assert page.request.get("/pathways/intake").status == 403


def test_library_pages_pass_the_accessibility_checks(page, live):
    """axe-core on each library page (the diagram canvases, bpmn-js's own SVG, are left out)."""
    sign_in(page, "admin")
    page.goto("/pathways/")
    page.get_by_role("button", name="Change discharge").click()
    draft = page.url
    for url in ("/pathways/", "/pathways/discharge", "/pathways/discharge/versions/1", draft, "/pathways/import"):
        page.goto(url)
        page.add_script_tag(url="/static/vendor/axe.min.js")
        found = page.evaluate(
            "() => axe.run({exclude: [['.diagram-canvas']]}).then(r => r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
        )
        assert found == [], f"{url}: {found}"
