"""Every scoring rule of the bundled instruments at every band edge, through the real forms and pathways:
the score a case shows (`scores` in the case view) right after the form is completed."""

from datetime import timedelta

import pytest

from carepath.engine.errors import InvalidFormData

PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


def items(total: int, count: int) -> dict:
    """Answers 0–3 to `count` items adding up to `total`, filled from item 1."""
    answers = {}
    for i in range(1, count + 1):
        answers[f"item{i}"] = min(3, total)
        total -= answers[f"item{i}"]
    assert total == 0
    return answers


def phq9(total: int) -> dict:
    # Fill items 1–8 first, so item 9 (which opens a safety plan) is only used above 24.
    answers = items(min(total, 24), 8)
    answers["item9"] = total - min(total, 24)
    return answers


def last_score(driver, case_id: int, instrument: str) -> tuple[int, str]:
    score = [s for s in driver.case(case_id)["scores"] if s["instrument"] == instrument][-1]
    return score["total"], score["severity"]


def complete(driver, case_id: int, bpmn_id: str, answers: dict | None = None):
    return driver.complete((case_id, bpmn_id), answers or {})


@pytest.fixture
def assessment(driver, cp, actors):
    """A case whose assessment has just started (as intake hands over to it)."""

    def start() -> int:
        case_id = driver.new_case()
        due = (cp.clock.now() + timedelta(days=14)).isoformat()
        cp.deliver_message(actors["intake"], case_id, "intake_completed", {"assessment_due": due})
        complete(driver, case_id, "needs_assessment")
        return case_id

    return start


@pytest.fixture
def discharge(driver, cp, actors):
    """A case whose discharge has just started, with its reason recorded (final PHQ-9 next)."""

    def start() -> int:
        case_id = driver.new_case()
        cp.deliver_message(actors["case_manager"], case_id, "discharge_requested", {"reason": "test"})
        complete(driver, case_id, "discharge_reason")
        return case_id

    return start


@pytest.mark.parametrize("total, severity", PHQ9_BANDS)
def test_phq9_bands_at_assessment(driver, assessment, total, severity):
    case_id = assessment()
    complete(driver, case_id, "audit_c_screen")
    complete(driver, case_id, "asq_screen")
    complete(driver, case_id, "phq9_screen", phq9(total))
    assert last_score(driver, case_id, "phq9") == (total, severity)


@pytest.mark.parametrize("total, severity", GAD7_BANDS)
def test_gad7_bands_at_assessment(driver, assessment, total, severity):
    case_id = assessment()
    complete(driver, case_id, "audit_c_screen")
    complete(driver, case_id, "asq_screen")
    complete(driver, case_id, "phq9_screen")
    complete(driver, case_id, "gad7_screen", items(total, 7))
    assert last_score(driver, case_id, "gad7") == (total, severity)


@pytest.mark.parametrize(
    "phq9_total, phq9_band, gad7_total, gad7_band",
    [
        (4, "minimal", 9, "mild"),
        (5, "mild", 10, "moderate"),
        (19, "moderately_severe", 14, "moderate"),
        (20, "severe", 15, "severe"),
    ],
)
def test_final_scores_at_discharge_use_the_same_bands(driver, discharge, phq9_total, phq9_band, gad7_total, gad7_band):
    case_id = discharge()
    complete(driver, case_id, "final_phq9", phq9(phq9_total))
    complete(driver, case_id, "final_gad7", items(gad7_total, 7))
    assert last_score(driver, case_id, "phq9") == (phq9_total, phq9_band)
    assert last_score(driver, case_id, "gad7") == (gad7_total, gad7_band)


@pytest.mark.parametrize(
    "phq9_total, phq9_band, gad7_total, gad7_band",
    [(9, "mild", 4, "minimal"), (10, "moderate", 5, "mild"), (15, "moderately_severe", 21, "severe")],
)
def test_scores_at_a_periodic_review_use_the_same_bands(
    driver, cp, actors, phq9_total, phq9_band, gad7_total, gad7_band
):
    case_id = driver.new_case()
    cp.deliver_message(actors["supervisor"], case_id, "review_scheduled", {"risk_level": "low"})
    cp.deliver_message(actors["supervisor"], case_id, "review_brought_forward", {})
    complete(driver, case_id, "review_phq9", phq9(phq9_total))
    complete(driver, case_id, "review_gad7", items(gad7_total, 7))
    assert last_score(driver, case_id, "phq9") == (phq9_total, phq9_band)
    assert last_score(driver, case_id, "gad7") == (gad7_total, gad7_band)


@pytest.mark.parametrize(
    "answers, total, result",
    [
        ({"q1": False, "q2": False, "q3": False, "q4": False}, 0, "negative"),
        ({"q1": True, "q2": False, "q3": False, "q4": False, "q5": False}, 1, "non_acute_positive"),
        ({"q1": False, "q2": True, "q3": False, "q4": False, "q5": False}, 1, "non_acute_positive"),
        ({"q1": False, "q2": False, "q3": True, "q4": False, "q5": False}, 1, "non_acute_positive"),
        (
            {"q1": False, "q2": False, "q3": False, "q4": True, "q5": False, "q4_how_when": "Overdose, 2019."},
            1,
            "non_acute_positive",
        ),
        (
            {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q4_how_when": "Twice, 2015 and 2020."},
            4,
            "non_acute_positive",
        ),
        ({"q1": True, "q2": False, "q3": False, "q4": False, "q5": True}, 1, "acute_positive"),
        ({"q1": True, "q2": True, "q3": True, "q4": False, "q5": True}, 3, "acute_positive"),
    ],
)
def test_asq_results_at_intake(driver, answers, total, result):
    case_id = driver.new_case()
    complete(driver, case_id, "record_referral")
    complete(driver, case_id, "asq_screen", answers)
    assert last_score(driver, case_id, "asq") == (total, result)
    pathways = driver.pathways(case_id)
    assert ("safety_planning" in pathways) == (result != "negative")
    assert ("crisis_response" in pathways) == (result == "acute_positive")


def test_asq_question_5_is_required_after_any_yes(driver):
    case_id = driver.new_case()
    complete(driver, case_id, "record_referral")
    task = driver.task(case_id, "asq_screen")
    with pytest.raises(InvalidFormData) as err:
        driver.cp.complete_task(driver.actor_for(task), task.id, {"q1": False, "q2": True, "q3": False, "q4": False})
    assert [f.path for f in err.value.fields] == ["q5"]


@pytest.mark.parametrize(
    "answers, total, result",
    [
        ({"item1": 0, "scoring_sex": "female"}, 0, "negative"),
        ({"item1": 1, "item2": 1, "item3": 0, "scoring_sex": "female"}, 2, "negative"),
        ({"item1": 1, "item2": 1, "item3": 1, "scoring_sex": "female"}, 3, "positive"),
        ({"item1": 1, "item2": 1, "item3": 1, "scoring_sex": "male"}, 3, "negative"),
        ({"item1": 2, "item2": 1, "item3": 1, "scoring_sex": "male"}, 4, "positive"),
        ({"item1": 1, "item2": 1, "item3": 0, "scoring_sex": "other_or_not_stated"}, 2, "negative"),
        ({"item1": 1, "item2": 1, "item3": 1, "scoring_sex": "other_or_not_stated"}, 3, "positive"),
        ({"item1": 4, "item2": 4, "item3": 4, "scoring_sex": "male"}, 12, "positive"),
    ],
)
def test_audit_c_cut_offs_at_assessment(driver, assessment, answers, total, result):
    case_id = assessment()
    complete(driver, case_id, "audit_c_screen", answers)
    assert last_score(driver, case_id, "audit_c") == (total, result)
    assert ("brief_intervention" in [t.bpmn_id for t in driver.open_tasks(case_id)]) == (result == "positive")


def test_audit_c_questions_2_and_3_are_required_unless_the_client_never_drinks(driver, assessment):
    case_id = assessment()
    task = driver.task(case_id, "audit_c_screen")
    with pytest.raises(InvalidFormData) as err:
        driver.cp.complete_task(driver.actor_for(task), task.id, {"item1": 2, "scoring_sex": "male"})
    assert sorted(f.path for f in err.value.fields) == ["item2", "item3"]


def test_phq9_item9_opens_a_safety_plan_whatever_the_total(driver, assessment):
    case_id = assessment()
    complete(driver, case_id, "audit_c_screen")
    complete(driver, case_id, "asq_screen")
    complete(driver, case_id, "phq9_screen", {**{f"item{i}": 0 for i in range(1, 9)}, "item9": 1})
    assert last_score(driver, case_id, "phq9") == (1, "minimal")
    assert "safety_plan" in [t.form_id for t in driver.open_tasks(case_id)]
