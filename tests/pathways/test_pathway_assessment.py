"""Assessment: needs assessment, AUDIT-C with brief intervention, ASQ/PHQ-9/GAD-7, risk level, review, sign-off."""

import pytest
from pathway_support import gad7_items, phq9_items

ASSESSMENT_SCREENS = ["needs_assessment", "audit_c_screen", "asq_screen", "phq9_screen", "gad7_screen"]


@pytest.fixture
def in_assessment(care):
    case = care.new_case()
    care.walk_to(case, "assessment")
    return case


def screens(care, case, audit_c=None, asq=None, phq9=None, gad7=None):
    """Complete the assessment screens with the given answers (routine otherwise), up to clinical review."""
    care.do(case, "needs_assessment")
    care.do(case, "audit_c_screen", audit_c)
    if "brief_intervention" in care.open(case):
        care.do(case, "brief_intervention")
    care.do(case, "asq_screen", asq)
    care.do(case, "phq9_screen", phq9)
    care.do(case, "gad7_screen", gad7)


def test_routine_assessment_hands_over_to_planning(care, in_assessment):
    case = in_assessment
    done = care.walk_to(case, "planning")
    assert done == ASSESSMENT_SCREENS + ["clinical_review", "supervisor_signoff"]
    assert care.task(case, "treatment_plan").role == "case_manager"
    assert care.case(case)["risk_level"] == "low"
    assert ("assessment", "completed") in care.statuses(case)
    assert [s[0] for s in care.scores(case)] == ["asq", "audit_c", "asq", "phq9", "gad7"]


def test_clinical_review_and_signoff_go_to_their_roles(care, in_assessment):
    case = in_assessment
    screens(care, case)
    assert care.task(case, "clinical_review").role == "clinician"
    care.do(case, "clinical_review")
    assert care.task(case, "supervisor_signoff").role == "supervisor"


def test_positive_audit_c_opens_a_brief_intervention(care, in_assessment):
    case = in_assessment
    care.do(case, "needs_assessment")
    care.do(case, "audit_c_screen", {"item1": 3, "item2": 1, "item3": 1, "scoring_sex": "male"})
    assert care.scores(case, "audit_c") == [("audit_c", 5, "positive")]
    assert care.open(case) == ["brief_intervention"]
    care.do(case, "brief_intervention", {"referral_offered": True, "referral_details": "Outpatient SUD clinic."})
    assert care.open(case) == ["asq_screen"]


def test_negative_audit_c_goes_straight_to_the_asq(care, in_assessment):
    case = in_assessment
    care.do(case, "needs_assessment")
    care.do(case, "audit_c_screen", {"item1": 1, "item2": 1, "item3": 0, "scoring_sex": "female"})
    assert care.scores(case, "audit_c") == [("audit_c", 2, "negative")]
    assert care.open(case) == ["asq_screen"]


def test_acute_positive_asq_starts_crisis_response_with_its_safety_plan(care, in_assessment):
    case = in_assessment
    care.do(case, "needs_assessment")
    care.do(case, "audit_c_screen")
    care.do(case, "asq_screen", {"q3": True, "q5": True})
    assert care.pathways(case)[-2:] == ["crisis_response", "safety_planning"]
    assert {t.form_id for t in care.tasks(case)} >= {"safety_plan", "crisis_triage", "phq9"}
    # PHQ-9 item 9 after an acute screen does not ask for yet another safety plan.
    care.do(case, "phq9_screen", {"item9": 2})
    assert care.pathways(case).count("safety_planning") == 1
    care.do(case, "gad7_screen")
    assert care.case(case)["risk_level"] == "imminent"


def test_non_acute_positive_asq_opens_a_safety_plan(care, in_assessment):
    case = in_assessment
    screens(care, case, asq={"q4": True, "q4_how_when": "Overdose, 2019.", "q5": False}, phq9={"item9": 1})
    assert care.pathways(case).count("safety_planning") == 1  # one plan, not one per positive screen
    assert "crisis_response" not in care.pathways(case)
    assert care.case(case)["risk_level"] == "high"


def test_phq9_item9_alone_opens_a_safety_plan_the_same_step(care, in_assessment):
    case = in_assessment
    care.do(case, "needs_assessment")
    care.do(case, "audit_c_screen")
    care.do(case, "asq_screen")
    care.do(case, "phq9_screen", {"item9": 1})
    assert care.pathways(case)[-1] == "safety_planning"
    assert {"write_safety_plan", "safety_assessment"} <= set(care.open(case))
    assert care.scores(case, "phq9") == [("phq9", 1, "minimal")]


@pytest.mark.parametrize(
    "phq9_total, gad7_total, item9, risk",
    [
        (0, 0, 0, "low"),
        (9, 9, 0, "low"),
        (10, 0, 0, "moderate"),
        (0, 10, 0, "moderate"),
        (14, 14, 0, "moderate"),
        (15, 0, 0, "high"),  # moderately severe depression: monthly reviews (docs/pathways.md)
        (0, 15, 0, "high"),  # severe anxiety
        (20, 0, 0, "high"),
        (1, 0, 1, "high"),
    ],
)
def test_risk_level_decision_table(care, in_assessment, phq9_total, gad7_total, item9, risk):
    case = in_assessment
    screens(care, case, phq9=phq9_items(phq9_total, item9), gad7=gad7_items(gad7_total))
    assert care.case(case)["risk_level"] == risk


def test_supervisor_can_return_the_assessment_to_the_clinician(care, in_assessment):
    case = in_assessment
    screens(care, case)
    care.do(case, "clinical_review", {"diagnostic_impression": "Major depressive disorder, single episode."})
    care.do(case, "supervisor_signoff", {"approved": False, "return_reason": "Add a risk formulation."})
    assert care.open(case) == ["clinical_review"]
    assert "planning" not in care.pathways(case)
    care.do(case, "clinical_review", {"risk_formulation": "Low risk: no ideation, strong family support."})
    care.do(case, "supervisor_signoff")
    assert "planning" in care.pathways(case)


def test_medication_evaluation_flag_reaches_planning(care, in_assessment):
    case = in_assessment
    screens(care, case)
    care.do(
        case,
        "clinical_review",
        {"medication_evaluation_needed": True, "medication_evaluation_reason": "Persistent depressive symptoms."},
    )
    care.do(case, "supervisor_signoff")
    care.do(case, "treatment_plan")
    assert care.open(case) == ["medication_plan"]
    assert care.task(case, "medication_plan").role == "clinician"
