"""A client's whole episode of care, through time: intake -> assessment -> planning -> two reviews -> discharge."""

from datetime import timedelta

import pytest
from pathway_support import due


@pytest.fixture
def database_url(any_database_url):
    """The episode runs on SQLite and on PostgreSQL (when CAREPATH_TEST_POSTGRES_URL is set)."""
    return any_database_url


def test_whole_episode_from_referral_to_closed_case(care):
    case = care.new_case(given="Maria", family="Lopez")
    assert care.walk_to(case, "assessment") == ["record_referral", "asq_screen", "check_eligibility", "obtain_consent"]
    care.sweep(days=3)
    care.walk_to(case, "planning")
    care.sweep(days=5)
    care.walk_to(case, "periodic_review", idle=True)
    assert care.case(case)["risk_level"] == "low"
    approved_at = care.now()

    # First review: 90 days after the plan was approved (low risk), not a moment before.
    care.sweep(days=89)
    assert care.open(case, "periodic_review") == []
    care.sweep(days=1)
    first = care.task(case, "review_phq9")
    assert first.created_at is not None and due(first) == approved_at + timedelta(days=97)
    care.walk(case, lambda: care.pathways(case).count("periodic_review") == 2)

    # A crisis between reviews runs alongside and ends on its own.
    care.sweep(days=20)
    care.send(case, "crisis_reported", {"reason": "Panic attack at work; family worried."})
    care.walk(case, lambda: ("crisis_response", "completed") in care.statuses(case))

    # Second review decides discharge; the supervisor closes the case.
    care.sweep(days=70)
    assert care.open(case, "periodic_review") == ["review_phq9"]
    care.walk(
        case,
        lambda: care.case(case)["status"] == "closed",
        {"progress_review": {"decision": "discharge", "decision_rationale": "Goals met; working again."}},
    )

    view = care.case(case)
    assert view["status"] == "closed" and view["close_reason"] == "Discharged: treatment goals met"
    # The post-crisis review and the second review's scores each suggested a lower risk: a clinician decided
    # each time (risk_review). The case
    # closed through case_closure once the supervisor approved; late tasks were escalated along the way.
    assert [p for p, _ in care.statuses(case) if p != "overdue_escalation"] == [
        "intake",
        "assessment",
        "planning",
        "periodic_review",
        "periodic_review",
        "crisis_response",
        "safety_planning",
        "risk_review",
        "risk_review",
        "discharge",
        "case_closure",
    ]
    assert all(status == "completed" for _, status in care.statuses(case))
    assert care.open(case) == []
    instruments = [s[0] for s in care.scores(case)]
    assert instruments.count("phq9") == 4 and instruments.count("gad7") == 4  # assessment, 2 reviews, discharge
    # Nothing is left for the worker: no timers, and a later sweep changes nothing.
    care.sweep(days=365)
    assert care.open(case) == [] and care.case(case)["status"] == "closed"


def test_an_overdue_task_opens_a_supervisor_review_and_stays_with_its_owner(care):
    case = care.new_case()
    referral = care.task(case, "record_referral")
    care.sweep(days=1, seconds=1)
    assert care.open(case) == ["record_referral", "review_overdue_task"]
    escalation = care.task(case, "review_overdue_task")
    assert escalation.role == "supervisor"
    assert care.task(case, "record_referral").id == referral.id
    care.do(case, "review_overdue_task", {"action": "followed_up", "note": "Intake lead called the referrer."})
    assert ("overdue_escalation", "completed") in care.statuses(case)
