"""Planning: the treatment plan, medication plan, community referrals with a closed loop, supervisor approval."""

from datetime import timedelta

import pytest
from pathway_support import due

REFERRALS = {
    "referrals": [
        {
            "resource_type": "housing",
            "organisation": "Harbor Housing Coalition, Ms. Reyes",
            "reason": "Facing eviction next month.",
            "sent_on": "2026-03-02",
        },
        {
            "resource_type": "primary_care",
            "organisation": "Riverside Family Practice",
            "reason": "No primary care provider; blood pressure not checked in years.",
            "sent_on": "2026-03-02",
        },
    ]
}


@pytest.fixture
def in_planning(care):
    case = care.new_case()
    care.walk_to(case, "planning")
    return case


def test_routine_plan_approved_starts_the_review_cycle(care, in_planning):
    case = in_planning
    plan_task = care.task(case, "treatment_plan")
    assert due(plan_task) == care.now() + timedelta(days=14)
    care.do(case, "treatment_plan")
    assert care.open(case) == ["plan_approval"]
    care.do(case, "plan_approval")
    assert care.statuses(case)[-2:] == [("planning", "completed"), ("periodic_review", "running")]
    assert care.open(case) == []


def test_medication_plan_when_the_clinician_asked_for_an_evaluation(care):
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
    care.do(
        case,
        "medication_plan",
        {
            "outcome": "prescribed",
            "medications": [{"name": "Sertraline", "dose": "50 mg", "schedule": "Every morning"}],
            "pharmacy": "Main Street Pharmacy, 555-0100",
            "next_refill_date": "2026-04-01",
            "reminders_by": "case_manager",
            "side_effects_understood": True,
        },
    )
    assert care.open(case) == ["plan_approval"]


def test_supervisor_returns_the_plan_for_revision(care, in_planning):
    case = in_planning
    care.do(case, "treatment_plan")
    care.do(case, "plan_approval", {"approved": False, "changes_requested": "Objectives need numbers and dates."})
    assert care.open(case) == ["revise_plan"]
    revise = care.task(case, "revise_plan")
    assert revise.role == "case_manager"
    assert care.driver.form_schema(revise)["$id"].endswith("/treatment_plan")
    care.do(case, "revise_plan", {"changes_made": "Added weekly walking target of 3 days."})
    assert care.open(case) == ["plan_approval"]
    care.do(case, "plan_approval")
    assert "periodic_review" in care.pathways(case)


def send_referrals(care, case):
    care.do(case, "treatment_plan", {"community_referrals_needed": True})
    assert care.open(case) == ["send_referrals"]
    care.do(case, "send_referrals", REFERRALS)
    care.do(case, "plan_approval")


def test_referral_loop_closed_within_30_days(care, in_planning):
    case = in_planning
    send_referrals(care, case)
    # The review cycle starts at approval; the referral follow-up runs on alongside it.
    assert ("periodic_review", "running") in care.statuses(case)
    follow_up = care.task(case, "referral_outcomes")
    assert due(follow_up) == care.now() + timedelta(days=21)
    care.sweep(days=20)
    care.do(
        case,
        "referral_outcomes",
        {
            "outcomes": [
                {"organisation": "Harbor Housing Coalition", "outcome": "connected"},
                {"organisation": "Riverside Family Practice", "outcome": "appointment_scheduled"},
            ]
        },
    )
    assert ("planning", "completed") in care.statuses(case)
    care.sweep(days=15)
    assert "referral_escalation" not in care.open(case)


def test_referral_loop_escalates_to_the_supervisor_at_30_days(care, in_planning):
    case = in_planning
    send_referrals(care, case)
    care.sweep(days=29, hours=23)
    assert "referral_escalation" not in care.open(case)
    care.sweep(hours=1)
    assert "referral_outcomes" not in care.open(case)  # the supervisor takes the loop over
    escalation = care.task(case, "referral_escalation")
    assert escalation.role == "supervisor"
    care.do(
        case,
        "referral_escalation",
        {"action": "outcome_obtained", "outcome_note": "Housing: on waiting list; primary care: seen."},
    )
    assert ("planning", "completed") in care.statuses(case)
