"""Periodic review: one instance per cycle, due by risk level, continue or discharge, plan updates."""

import pytest
from pathway_support import phq9_items

REVIEW_TASKS = ["review_phq9", "review_gad7", "progress_review"]


def scheduled(care, risk="low", number=1):
    """A case whose review cycle was just started (as planning does), with its intake left aside."""
    case = care.new_case()
    care.send(case, "review_scheduled", {"risk_level": risk, "review_number": number}, by="supervisor")
    return case


def review_tasks(care, case):
    return care.open(case, "periodic_review")


@pytest.mark.parametrize("risk, days", [("low", 90), ("moderate", 60), ("high", 30), ("imminent", 14), (None, 30)])
def test_the_review_falls_due_by_risk_level_and_not_before(care, risk, days):
    case = scheduled(care, risk)
    assert review_tasks(care, case) == []
    care.sweep(days=days - 1, hours=23)
    assert review_tasks(care, case) == []
    care.sweep(hours=1)
    assert review_tasks(care, case) == ["review_phq9"]


def test_a_high_risk_assessment_schedules_the_first_review_at_30_days(care):
    case = care.new_case()
    care.walk_to(case, "periodic_review", {"phq9": phq9_items(20)}, idle=False)
    care.walk(case, lambda: not care.open(case, "planning") and not care.open(case, "safety_planning"))
    assert care.case(case)["risk_level"] == "high"
    care.sweep(days=29)
    assert review_tasks(care, case) == []
    care.sweep(days=1)
    assert review_tasks(care, case) == ["review_phq9"]


def test_continue_hands_over_to_a_new_review_instance(care):
    case = scheduled(care, "low", number=3)
    care.sweep(days=90)
    for step in REVIEW_TASKS:
        care.do(case, step)
    assert care.statuses(case, "periodic_review") == [("periodic_review", "completed"), ("periodic_review", "running")]
    schedule = care.data(case, "periodic_review")["schedule"]
    assert {k: schedule[k] for k in ("risk_level", "review_number")} == {"risk_level": "low", "review_number": 4}
    # The next cycle follows the risk level found at this review.
    care.sweep(days=90)
    assert review_tasks(care, case) == ["review_phq9"]


def test_the_review_updates_the_risk_level_and_the_next_interval(care):
    case = scheduled(care, "low")
    care.sweep(days=90)
    care.do(case, "review_phq9", phq9_items(12))
    care.do(case, "review_gad7")
    assert care.case(case)["risk_level"] == "moderate"
    care.do(case, "progress_review")
    care.sweep(days=59)
    assert review_tasks(care, case) == []
    care.sweep(days=1)
    assert review_tasks(care, case) == ["review_phq9"]


def test_discharge_decision_starts_the_discharge_pathway(care):
    case = scheduled(care)
    care.sweep(days=90)
    care.do(case, "review_phq9")
    care.do(case, "review_gad7")
    care.do(case, "progress_review", {"decision": "discharge", "decision_rationale": "All goals met."})
    assert care.statuses(case, "periodic_review", "discharge") == [
        ("periodic_review", "completed"),
        ("discharge", "running"),
    ]
    assert care.pathways(case).count("periodic_review") == 1
    assert care.open(case, "discharge") == ["discharge_reason"]


def test_plan_changes_are_made_and_approved_before_the_next_cycle(care):
    case = scheduled(care)
    care.sweep(days=90)
    care.do(case, "review_phq9")
    care.do(case, "review_gad7")
    care.do(case, "progress_review", {"plan_update_needed": True})
    assert review_tasks(care, case) == ["update_plan"]
    care.do(case, "update_plan", {"changes_made": "New goal: return to part-time work."})
    care.do(case, "approve_update", {"approved": False, "changes_requested": "Add a target date."})
    assert review_tasks(care, case) == ["update_plan"]
    care.do(case, "update_plan")
    care.do(case, "approve_update")
    assert care.pathways(case).count("periodic_review") == 2


def test_item9_at_a_review_opens_a_safety_plan_the_same_step(care):
    case = scheduled(care)
    care.sweep(days=90)
    care.do(case, "review_phq9", {"item9": 1})
    assert care.pathways(case)[-1] == "safety_planning"
    assert {"write_safety_plan", "safety_assessment"} <= set(care.open(case))
    care.do(case, "review_gad7")
    assert care.case(case)["risk_level"] == "high"


def test_a_post_crisis_review_can_bring_the_review_forward(care):
    case = scheduled(care, "low")
    care.sweep(days=10)
    care.send(case, "review_brought_forward", {"reason": "Post-crisis review", "risk_level": "high"})
    assert review_tasks(care, case) == ["review_phq9"]


def test_a_discharge_requested_while_waiting_ends_the_cycle(care):
    case = scheduled(care, "low")
    care.send(case, "discharge_requested", {"reason": "Client moving out of state."})
    assert ("periodic_review", "completed") in care.statuses(case)
    assert care.open(case, "discharge") == ["discharge_reason"]
    care.sweep(days=120)
    assert review_tasks(care, case) == []


def test_a_year_at_moderate_risk_brings_six_reviews_on_schedule(care):
    """Reviewed the day each falls due, a moderate-risk client has a review every 60 days: six in a year."""
    case = scheduled(care, "moderate")
    start = care.now()
    opened = []
    for _day in range(1, 366):
        care.sweep(days=1)
        if "review_phq9" in review_tasks(care, case):
            opened.append((care.now() - start).days)
            care.do(case, "review_phq9", phq9_items(12))  # still moderate
            for step in REVIEW_TASKS[1:]:
                care.do(case, step)
    assert opened == [60, 120, 180, 240, 300, 360]
    cycles = care.statuses(case, "periodic_review")
    assert cycles == [("periodic_review", "completed")] * 6 + [("periodic_review", "running")]
