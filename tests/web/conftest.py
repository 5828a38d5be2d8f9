"""Fixtures for the staff UI through Flask's test client (CSRF protection on, as in production)."""

from __future__ import annotations

import pytest

from ui_support import StaffClient, ensure_crisis_pathway


@pytest.fixture
def staff(app):
    """Signed-in test clients: staff("intake").get("/inbox"); staff() is signed out."""

    def make(username: str | None = None) -> StaffClient:
        return StaffClient(app, username)

    return make


@pytest.fixture
def referral(driver):
    """A new case waiting at its first task (record referral, intake team queue)."""
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    task = driver.task(case_id, "record_referral")
    return {"case_id": case_id, "client_id": task.client_id, "task_id": task.id}


@pytest.fixture
def crisis_ready(cp):
    """The library can start a crisis pathway (the shipped one, or the tests' stand-in)."""
    ensure_crisis_pathway(cp)
    return cp


@pytest.fixture
def task_with_form(driver):
    """A new case walked (routine answers, or `answers` by form id) until a task with the given form is
    open; returns that task."""

    def walk(form_id: str, answers: dict | None = None, **case):
        case_id = driver.new_case(**{"case_manager": "case_manager", **case})
        driver.walk(
            case_id, until=lambda: any(t.form_id == form_id for t in driver.open_tasks(case_id)), answers=answers
        )
        return next(t for t in driver.open_tasks(case_id) if t.form_id == form_id)

    return walk
