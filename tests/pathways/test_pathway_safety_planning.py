"""Safety planning: who writes the plan, the brief suicide safety assessment, prefill from the current plan."""

from datetime import timedelta

from pathway_support import due

from carepath.engine import inbox

PLAN = {
    "warning_signs": ["Not sleeping", "Pulling away from my sister"],
    "internal_coping": ["Walk the dog", "Breathing exercise from the app"],
    "social_distraction": [{"name": "The library on Elm Street"}],
    "help_contacts": [{"name": "Ana (sister)", "phone": "555-0142"}],
    "professional_contacts": [{"name": "988 Suicide & Crisis Lifeline", "phone": "988"}],
    "means_safety": "Medications kept by Ana; no firearms at home.",
    "client_agrees": True,
}


def requested(care, payload):
    case = care.new_case()
    care.send(case, "safety_plan_needed", payload, by="clinician")
    return case


def test_after_a_positive_screen_a_clinician_plans_and_assesses_the_same_day(care):
    case = requested(care, {"reason": "Positive ASQ", "source": "screen"})
    tasks = {t.bpmn_id: t for t in care.tasks(case) if t.process_id == "safety_planning"}
    assert set(tasks) == {"write_safety_plan", "safety_assessment"}
    assert {t.role for t in tasks.values()} == {"clinician"}
    assert due(tasks["write_safety_plan"]) == care.now() + timedelta(hours=8)
    care.do(case, "safety_assessment")
    care.do(case, "write_safety_plan", PLAN)
    # Going home with a safety plan: the case manager follows up within 72 hours.
    follow_up = care.task(case, "follow_up_call")
    assert follow_up.role == "case_manager" and due(follow_up) == care.now() + timedelta(hours=72)
    care.do(case, "follow_up_call", {"client_reached": True, "notes": "Safe; plan on the fridge."})
    assert care.statuses(case, "safety_planning", "crisis_response") == [("safety_planning", "completed")]


def test_a_safety_assessment_needing_emergency_evaluation_starts_crisis_response(care):
    case = requested(care, {"reason": "PHQ-9 item 9 above 0", "source": "screen"})
    care.do(case, "safety_assessment", {"disposition": "emergency_evaluation"})
    assert "crisis_response" in care.pathways(case)
    assert "crisis_triage" in care.open(case)


def test_in_a_crisis_the_crisis_team_writes_the_plan(care):
    case = requested(care, {"reason": "Crisis", "source": "crisis"})
    assert [(t.bpmn_id, t.role) for t in care.tasks(case) if t.process_id == "safety_planning"] == [
        ("crisis_safety_plan", "crisis")
    ]


def test_other_requests_go_to_a_clinician_without_the_screen_assessment(care):
    case = requested(care, {"reason": "Hospital discharge", "source": "hospital_discharge"})
    assert care.open(case, "safety_planning") == ["write_safety_plan"]
    case = requested(care, {})
    assert care.open(case, "safety_planning") == ["write_safety_plan"]


def test_an_update_starts_from_the_clients_current_plan(care, actors):
    case = requested(care, {"reason": "Positive ASQ", "source": "screen"})
    care.do(case, "write_safety_plan", PLAN)
    care.do(case, "safety_assessment")
    care.do(case, "follow_up_call", {"client_reached": True, "notes": "Safe."})
    care.send(case, "safety_plan_needed", {"reason": "Crisis", "source": "crisis"}, by="crisis")
    task = care.task(case, "crisis_safety_plan")
    with care.cp.db.begin() as session:
        detail = inbox.read_task(session, care.cp.specs, actors["crisis"], task.id, care.now())
    assert detail["data"]["warning_signs"] == PLAN["warning_signs"]
    assert detail["documentation"]
