"""Discharge: reason, final scores, summary, aftercare, client informed, supervisor closes the case."""

import pytest
from pathway_support import phq9_items

from carepath.engine.errors import InvalidFormData

DISCHARGE_STEPS = [
    "discharge_reason",
    "final_phq9",
    "final_gad7",
    "discharge_summary",
    "aftercare_plan",
    "inform_client",
    "approve_discharge",
]


@pytest.fixture
def discharging(care):
    """A case in periodic review (waiting for its date) whose case manager requests discharge."""
    case = care.new_case()
    care.walk_to(case, "periodic_review", idle=True)
    care.send(case, "discharge_requested", {"reason": "Client moving out of state."})
    return case


def test_routine_discharge_closes_the_case(care, discharging):
    case = discharging
    done = care.walk(case, lambda: care.case(case)["status"] == "closed")
    assert done == DISCHARGE_STEPS
    view = care.case(case)
    assert view["close_reason"] == "Discharged: treatment goals met"
    assert all(status != "running" for _, status in care.statuses(case))
    assert [s[0] for s in care.scores(case)][-2:] == ["phq9", "gad7"]


def test_roles_of_the_discharge_steps(care, discharging):
    case = discharging
    roles = {}
    while care.case(case)["status"] == "open":
        task = care.tasks(case)[0]
        roles[task.bpmn_id] = task.role
        care.do(case, task.bpmn_id)
    assert roles == {**{step: "case_manager" for step in DISCHARGE_STEPS[:-1]}, "approve_discharge": "supervisor"}


def test_approval_with_a_crisis_open_waits_for_the_supervisor_and_ending_work_tells_its_holders(care, discharging):
    case = discharging
    care.send(case, "crisis_reported", {"reason": "Relapse after a family death."})
    care.walk(
        case,
        lambda: "approve_discharge" in care.open(case),
        skip=("crisis_response", "safety_planning"),
        answers={"predischarge_review": {"decision": "proceed"}},
    )
    care.do(case, "approve_discharge")
    assert care.case(case)["status"] == "open"  # the crisis is not ended by the approval
    decision = care.task(case, "decide_closure")
    assert "crisis response" in decision.instructions and "Crisis triage" in decision.instructions
    care.do(
        case,
        "decide_closure",
        {
            "decision": "close_now",
            "reason": "Client admitted out of state; their crisis team has taken over.",
            "handed_over_to": "Mercy Hospital crisis unit",
        },
    )
    view = care.case(case)
    assert view["status"] == "closed" and "by supervisor decision" in view["close_reason"]
    assert ("crisis_response", "cancelled") in care.statuses(case)
    # Everyone whose task ended is told in their inbox.
    notices = {t.role for t in care.tasks(case) if t.bpmn_id.startswith("notice_")}
    assert {"crisis", "case_manager", "supervisor"} <= notices


def test_supervisor_returns_the_summary_for_revision(care, discharging):
    case = discharging
    care.walk(case, lambda: "approve_discharge" in care.open(case))
    care.do(case, "approve_discharge", {"approved": False, "changes_requested": "Name the receiving provider."})
    assert care.open(case) == ["revise_summary"]
    care.do(case, "revise_summary")
    care.do(case, "approve_discharge")
    assert care.case(case)["status"] == "closed"


def test_item9_at_discharge_opens_a_safety_plan_and_a_clinical_review(care, discharging):
    case = discharging
    care.do(case, "discharge_reason")
    care.do(case, "final_phq9", {"item9": 1})
    assert care.pathways(case)[-1] == "safety_planning"
    assert {"write_safety_plan", "safety_assessment"} <= set(care.open(case))
    care.do(case, "final_gad7")
    assert care.open(case, "discharge") == ["predischarge_review"]
    assert care.task(case, "predischarge_review").role == "clinician"
    care.do(case, "predischarge_review", {"decision": "proceed"})
    assert care.open(case, "discharge") == ["discharge_summary"]


def test_a_clinician_can_stop_the_discharge_and_restart_the_review_cycle(care, discharging):
    case = discharging
    care.do(case, "discharge_reason")
    care.do(case, "final_phq9", phq9_items(22))
    care.do(case, "final_gad7")
    care.do(case, "predischarge_review", {"decision": "continue_care"})
    assert care.case(case)["status"] == "open"
    assert care.statuses(case, "discharge", "periodic_review")[-2:] == [
        ("discharge", "completed"),
        ("periodic_review", "running"),
    ]
    care.sweep(days=30)  # restarted at high risk
    assert care.open(case, "periodic_review") == ["review_phq9"]


def test_unplanned_discharge_records_the_attempts_to_re_engage(care, discharging):
    case = discharging
    with pytest.raises(InvalidFormData) as err:
        care.cp.complete_task(
            care.actors["case_manager"],
            care.task(case, "discharge_reason").id,
            {"reason": "lost_contact", "last_contact_date": "2026-02-01"},
        )
    assert [f.path for f in err.value.fields] == ["engagement_attempts"]
