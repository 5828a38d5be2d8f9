"""Crisis response: triage, safety plan, notices, 24/72-hour follow-ups, hospital and FUH, post-crisis review."""

from datetime import timedelta

import pytest
from pathway_support import due, utc

CRISIS = {"reason": "Client called: cannot keep themselves safe tonight."}
HOSPITAL_TRIAGE = {"disposition": "hospitalised", "facility": "St. Mary's Behavioral Health Unit"}


@pytest.fixture
def in_crisis(care):
    """A case in planning that reports a crisis."""
    case = care.new_case()
    care.walk_to(case, "planning")
    care.send(case, "crisis_reported", CRISIS)
    return case


def crisis_tasks(care, case):
    return care.open(case, "crisis_response")


def test_a_reported_crisis_opens_triage_notices_and_a_safety_plan_at_once(care, in_crisis):
    case = in_crisis
    assert care.pathways(case)[-2:] == ["crisis_response", "safety_planning"]
    tasks = {t.bpmn_id: t for t in care.tasks(case)}
    assert tasks["crisis_triage"].role == "crisis"
    assert tasks["notify_case_manager"].role == "case_manager"
    assert tasks["notify_supervisor"].role == "supervisor"
    assert tasks["crisis_safety_plan"].role == "crisis"
    assert due(tasks["crisis_triage"]) == care.now() + timedelta(hours=1)


def test_follow_ups_are_due_24_and_72_hours_after_the_report(care, in_crisis):
    case = in_crisis
    reported = care.now()
    care.sweep(minutes=30)
    care.do(case, "crisis_triage")
    assert care.case(case)["risk_level"] == "high"
    assert due(care.task(case, "follow_up_24h")) == reported + timedelta(hours=24)
    assert care.task(case, "follow_up_24h").role == "crisis"
    care.sweep(hours=20)
    care.do(case, "follow_up_24h")
    follow_up_72h = care.task(case, "follow_up_72h")
    assert due(follow_up_72h) == reported + timedelta(hours=72)
    assert follow_up_72h.role == "case_manager"


def test_routine_crisis_ends_with_the_post_crisis_review(care, in_crisis):
    case = in_crisis
    done = care.walk(case, lambda: ("crisis_response", "completed") in care.statuses(case), skip=("planning",))
    assert done == [
        "crisis_triage",
        "notify_case_manager",
        "notify_supervisor",
        "crisis_safety_plan",
        "follow_up_24h",
        "follow_up_72h",
        "post_crisis_review",
    ]
    # Planning was not disturbed. The review suggested "low": risk goes down only by a clinician's decision,
    # once the crisis is over.
    assert care.open(case) == ["treatment_plan", "review_risk"]
    assert care.case(case)["risk_level"] == "high"
    assert care.task(case, "review_risk").role == "clinician"
    care.do(case, "review_risk", {"risk_level": "low", "rationale": "Settled since the crisis; plan in use."})
    assert care.case(case)["risk_level"] == "low"


def test_imminent_risk_sets_the_case_risk_to_imminent(care, in_crisis):
    case = in_crisis
    care.do(case, "crisis_triage", {"imminent_risk": True, "immediate_actions": "Stayed on the phone; 911."})
    assert care.case(case)["risk_level"] == "imminent"


def test_after_a_hospital_stay_a_follow_up_visit_is_due_within_7_days_of_discharge(care, in_crisis):
    case = in_crisis
    care.do(case, "crisis_triage", HOSPITAL_TRIAGE)
    care.do(case, "follow_up_24h", {"client_status": "admitted_to_hospital", "contact_method": "collateral"})
    care.do(case, "follow_up_72h", {"client_status": "admitted_to_hospital", "contact_method": "collateral"})
    assert crisis_tasks(care, case)[-1] == "hospital_discharge"
    care.sweep(days=6)
    discharged = (care.now() - timedelta(days=1)).date()
    care.do(
        case,
        "hospital_discharge",
        {
            "hospital": "St. Mary's",
            "discharge_date": discharged.isoformat(),
            "follow_up_appointment": (discharged + timedelta(days=3)).isoformat(),
        },
    )
    fuh = care.task(case, "visit_7")
    assert fuh.role == "clinician" and fuh.process_id == "hospital_follow_up"
    assert utc(fuh.due_at).date() == discharged + timedelta(days=7)
    # The safety plan is reviewed after the stay: the crisis plan still open takes the request in.
    assert care.pathways(case).count("safety_planning") == 1
    assert "post_crisis_review" in crisis_tasks(care, case)
    care.do(case, "visit_7", {"visit_date": care.now().date().isoformat()})
    assert care.task(case, "visit_30").role == "clinician"


def test_a_follow_up_that_finds_the_client_admitted_takes_the_hospital_path(care, in_crisis):
    case = in_crisis
    care.do(case, "crisis_triage", {"disposition": "emergency_department", "facility": "County General ED"})
    care.do(case, "follow_up_24h", {"client_status": "admitted_to_hospital"})
    care.do(case, "follow_up_72h", {"client_status": "in_community"})
    assert "hospital_discharge" in crisis_tasks(care, case)


def test_post_crisis_review_can_update_the_plan_and_bring_the_review_forward(care):
    case = care.new_case()
    care.walk_to(case, "periodic_review", idle=True)
    care.send(case, "crisis_reported", CRISIS)
    care.walk(case, lambda: "post_crisis_review" in care.open(case))
    care.do(
        case,
        "post_crisis_review",
        {"current_risk_level": "high", "plan_update_needed": True, "bring_review_forward": True},
    )
    assert care.case(case)["risk_level"] == "high"
    assert "review_phq9" in care.open(case, "periodic_review")
    assert crisis_tasks(care, case) == ["update_plan"]
    care.do(case, "update_plan")
    assert ("crisis_response", "completed") in care.statuses(case)


def test_a_crisis_during_planning_runs_alongside_without_disturbing_it(care):
    case = care.new_case()
    care.walk_to(case, "planning")
    care.do(case, "treatment_plan")
    assert care.open(case) == ["plan_approval"]
    care.send(case, "crisis_reported", CRISIS)
    assert care.open(case, "planning") == ["plan_approval"]
    care.do(case, "crisis_triage")
    care.do(case, "plan_approval")  # planning goes on while the crisis is open
    assert care.statuses(case, "planning", "periodic_review", "crisis_response") == [
        ("planning", "completed"),
        ("crisis_response", "running"),
        ("periodic_review", "running"),
    ]
    care.walk(case, lambda: ("crisis_response", "completed") in care.statuses(case))
    assert care.statuses(case, "periodic_review") == [("periodic_review", "running")]
    assert care.case(case)["status"] == "open"
