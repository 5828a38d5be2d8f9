"""Medication refill reminders: a week before each refill date, one reminder per refill cycle, until the
medication stops; a refill problem goes to the clinician."""

from datetime import UTC, datetime, timedelta

import pytest
from pathway_support import due

SERTRALINE = {
    "outcome": "prescribed",
    "medications": [{"name": "Sertraline", "dose": "50 mg", "schedule": "Every morning"}],
    "pharmacy": "Main Street Pharmacy, 555-0100",
    "next_refill_date": "2026-04-01",
    "reminders_by": "case_manager",
    "side_effects_understood": True,
}


@pytest.fixture
def prescribed(care):
    """A case whose medication plan (refill due 1 April) was just recorded; T0 is Monday 2 March."""
    case = care.new_case()
    care.walk_to(
        case,
        "planning",
        {
            "clinical_review": {
                "medication_evaluation_needed": True,
                "medication_evaluation_reason": "Severe insomnia and low mood.",
            }
        },
    )
    care.do(case, "treatment_plan")
    care.do(case, "medication_plan", SERTRALINE)
    return case


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_reminder_opens_a_week_before_the_refill_date_and_not_before(care, prescribed):
    case = prescribed
    assert ("medication_refill", "running") in care.statuses(case)
    assert care.open(case, "medication_refill") == []
    care.clock.set(at("2026-03-25T08:59"))
    care.sweep()
    assert care.open(case, "medication_refill") == []
    care.clock.set(at("2026-03-25T09:00"))
    care.sweep()
    assert care.open(case, "medication_refill") == ["refill_check"]
    reminder = care.task(case, "refill_check")
    assert due(reminder) == at("2026-04-01T17:00")  # by the end of the refill date
    assert reminder.role == "case_manager"


def test_each_refill_date_recorded_schedules_the_next_cycle_until_the_medication_stops(care, prescribed):
    case = prescribed
    care.clock.set(at("2026-03-25T09:00"))
    care.sweep()
    care.do(case, "refill_check", {"status": "on_track", "next_refill_date": "2026-05-01"})
    assert care.statuses(case, "medication_refill") == [
        ("medication_refill", "completed"),
        ("medication_refill", "running"),
    ]
    care.clock.set(at("2026-04-24T09:00"))
    care.sweep()
    care.do(case, "refill_check", {"status": "reminded"})  # no next date: the medication has stopped
    assert care.statuses(case, "medication_refill") == [("medication_refill", "completed")] * 2
    care.sweep(days=60)
    assert care.open(case, "medication_refill") == []


def test_a_refill_problem_goes_to_the_clinician(care, prescribed):
    case = prescribed
    care.clock.set(at("2026-03-25T09:00"))
    care.sweep()
    care.do(
        case,
        "refill_check",
        {
            "status": "problem",
            "problem": "The prescription ran out; no repeat on file.",
            "next_refill_date": "2026-05-01",
        },
    )
    problem = care.task(case, "refill_problem")
    assert problem.role == "clinician"
    care.do(case, "refill_problem", {"action_taken": "Renewed the prescription with the pharmacy.", "resolved": True})
    assert care.statuses(case, "medication_refill")[-1] == ("medication_refill", "running")


def test_no_reminders_without_a_refill_date(care):
    case = care.new_case()
    care.walk_to(
        case,
        "planning",
        {"clinical_review": {"medication_evaluation_needed": True, "medication_evaluation_reason": "Low mood."}},
    )
    care.do(case, "treatment_plan")
    care.do(case, "medication_plan", {"outcome": "no_medication"})
    assert "medication_refill" not in care.pathways(case)


def test_a_refill_date_less_than_a_week_away_reminds_at_once(care):
    case = care.new_case()
    care.walk_to(
        case,
        "planning",
        {"clinical_review": {"medication_evaluation_needed": True, "medication_evaluation_reason": "Low mood."}},
    )
    care.do(case, "treatment_plan")
    soon = (care.now() + timedelta(days=3)).date().isoformat()
    care.do(case, "medication_plan", {**SERTRALINE, "next_refill_date": soon})
    care.sweep(minutes=1)
    assert care.open(case, "medication_refill") == ["refill_check"]
