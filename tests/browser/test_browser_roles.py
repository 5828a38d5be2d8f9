"""Each demo role signs in and sees what the role allows, and nothing more."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_support import sign_in

pytestmark = pytest.mark.browser

# role -> (main navigation it sees, what the case file of a client registered by intake, with the demo case
# manager, shows them: the record, the care-team page with "break the glass", or "not allowed"; inbox views)
LOG = "Break-the-glass log"
BILLING = "Contacts for billing"
SEES = {
    "intake": (["Inbox", "Clients", "Register a client"], "record", ["My tasks", "Team queue"]),
    "case_manager": (["Inbox", "My caseload", "Clients", "Register a client"], "record", ["My tasks", "Team queue"]),
    "clinician": (["Inbox", "Clients"], "care team", ["My tasks", "Team queue"]),
    "supervisor": (
        ["Inbox", "Overdue work", "Clients", "Register a client", LOG, BILLING, "Pathways", "Quality"],
        "record",
        ["My tasks", "Team queue", "All open work"],
    ),
    "crisis": (["Inbox", "Clients"], "care team", ["My tasks", "Team queue"]),
    "quality": (["Inbox", "Clients", LOG, BILLING, "Pathways", "Quality"], "record", ["My tasks", "Team queue"]),
    "admin": (["Inbox", "Pathways"], "not allowed", ["My tasks", "Team queue"]),
}


def test_each_demo_role_sees_only_what_it_may_use(new_page, live):
    case_id = live.new_case("Rhea", "Roles")
    for role, (nav, reads_records, views) in SEES.items():
        page = new_page()
        sign_in(page, role)
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
        main_nav = page.get_by_role("navigation", name="Main")
        expect(main_nav.get_by_role("link")).to_have_text(nav)
        expect(page.get_by_role("navigation", name="Inbox views").get_by_role("link")).to_have_count(len(views))
        for view in views:
            expect(page.get_by_role("link", name=view)).to_be_visible()
        page.goto(f"/cases/{case_id}")
        if reads_records == "record":
            expect(page.get_by_role("heading", name="Rhea Roles")).to_be_visible()
        elif reads_records == "care team":
            expect(page.get_by_role("heading", name="Not on this client's care team")).to_be_visible()
            expect(page.get_by_role("button", name="Open the record for 12 hours")).to_be_visible()
        else:
            expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        if "Register a client" not in nav:
            page.goto("/clients/new")
            expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        page.context.close()


def test_wrong_password_shows_a_clear_message(page):
    page.goto("/")
    page.get_by_label("Username").fill("intake")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
