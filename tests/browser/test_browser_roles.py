"""Each demo role signs in and sees what the role allows, and nothing more."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_support import sign_in

pytestmark = pytest.mark.browser

# role -> (main navigation it sees, client records readable, inbox views)
SEES = {
    "intake": (["Inbox", "Clients", "Register a client"], True, ["My tasks", "Team queue"]),
    "case_manager": (["Inbox", "Clients", "Register a client"], True, ["My tasks", "Team queue"]),
    "clinician": (["Inbox", "Clients"], True, ["My tasks", "Team queue"]),
    "supervisor": (["Inbox", "Clients", "Register a client", "Pathways"], True, ["My tasks", "Team queue", "All open work"]),
    "crisis": (["Inbox", "Clients"], True, ["My tasks", "Team queue"]),
    "quality": (["Inbox", "Clients", "Pathways"], True, ["My tasks", "Team queue"]),
    "admin": (["Inbox", "Pathways"], False, ["My tasks", "Team queue"]),
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
        if reads_records:
            expect(page.get_by_role("heading", name="Rhea Roles")).to_be_visible()
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
