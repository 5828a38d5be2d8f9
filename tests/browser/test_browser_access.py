"""Break the glass in a real browser: a clinician outside the care team is told why the record is closed,
gives a reason, and the record opens; the supervisor finds the access in the break-the-glass log."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_support import sign_in

pytestmark = pytest.mark.browser


def test_break_the_glass_then_the_supervisor_sees_it(new_page, live):
    case_id = live.new_case("Gina", "Glass")
    clinician = new_page()
    sign_in(clinician, "clinician")
    clinician.goto(f"/cases/{case_id}")
    expect(clinician.get_by_role("heading", name="Not on this client's care team")).to_be_visible()
    expect(clinician.get_by_text("Gina")).to_have_count(0)  # nothing of the record before the glass is broken
    clinician.get_by_label("Why do you need this record?").fill("too short")
    clinician.get_by_role("button", name="Open the record for 12 hours").click()
    expect(clinician.locator("#glass-reason-error")).to_contain_text("10 to 1000 characters")
    clinician.get_by_label("Why do you need this record?").fill("On call tonight; the client phoned the crisis line.")
    clinician.get_by_role("button", name="Open the record for 12 hours").click()
    expect(clinician.get_by_role("alert").first).to_contain_text("The record is open to you for 12 hours")
    expect(clinician.get_by_role("heading", name="Gina Glass")).to_be_visible()  # back on the case file

    supervisor = new_page()
    sign_in(supervisor, "supervisor")
    supervisor.get_by_role("link", name="Break-the-glass log").click()
    row = supervisor.locator("table.grants tbody tr").filter(has_text="Gina Glass")
    expect(row).to_contain_text("On call tonight; the client phoned the crisis line.")
    expect(row).to_contain_text("clinician")
    expect(row).to_contain_text("open now")
