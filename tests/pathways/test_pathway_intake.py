"""Intake: referral, first-contact ASQ, eligibility, consent; the CCBHC access standard; crisis at once."""

from datetime import UTC, datetime, timedelta

from pathway_support import due

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_routine_referral_hands_over_with_assessment_due_in_ten_business_days(care):
    case = care.new_case()
    assert care.open(case) == ["record_referral"]
    done = care.walk_to(case, "assessment")
    assert done == ["record_referral", "asq_screen", "check_eligibility", "obtain_consent"]
    assert care.pathways(case) == ["intake", "assessment"]
    assert care.statuses(case)[0] == ("intake", "completed")
    # Monday 2 March + 10 business days = Monday 16 March, same time of day.
    assert due(care.task(case, "needs_assessment")) == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    assert care.scores(case) == [("asq", 0, "negative")]


def test_urgent_referral_is_assessed_within_one_business_day(care):
    care.clock.set(MONDAY_9 + timedelta(days=4))  # Friday
    case = care.new_case()
    care.walk_to(case, "assessment", {"referral": {"urgency": "urgent"}})
    # Friday + 1 business day = Monday.
    assert due(care.task(case, "needs_assessment")) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert "crisis_response" not in care.pathways(case)


def test_emergent_referral_starts_crisis_response_as_soon_as_it_is_recorded(care):
    case = care.new_case()
    care.do(case, "record_referral", {"urgency": "emergent", "current_location": "At home with her sister."})
    assert care.pathways(case) == ["intake", "crisis_response", "safety_planning"]
    open_now = care.open(case)
    assert "crisis_triage" in open_now and "crisis_safety_plan" in open_now
    assert "asq_screen" in open_now  # intake carries on alongside the crisis team
    care.walk_to(case, "assessment", skip=("crisis_response", "safety_planning"))
    assert due(care.task(case, "needs_assessment")) == MONDAY_9 + timedelta(days=1)
    assert care.pathways(case).count("crisis_response") == 1


def test_acute_positive_screen_starts_crisis_and_opens_a_safety_plan_in_the_same_step(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", {"q1": True, "q3": True, "q5": True})
    assert care.scores(case) == [("asq", 2, "acute_positive")]
    assert care.pathways(case) == ["intake", "crisis_response", "safety_planning"]
    forms = {t.form_id for t in care.tasks(case)}
    assert {"safety_plan", "crisis_triage", "eligibility"} <= forms
    assert [t.role for t in care.tasks(case) if t.form_id == "safety_plan"] == ["crisis"]


def test_non_acute_positive_screen_opens_a_safety_plan_and_makes_the_assessment_urgent(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", {"q2": True, "q5": False})
    assert care.scores(case) == [("asq", 1, "non_acute_positive")]
    assert care.pathways(case) == ["intake", "safety_planning"]
    assert set(care.open(case, "safety_planning")) == {"write_safety_plan", "safety_assessment"}
    care.walk_to(case, "assessment", skip=("safety_planning",))
    assert due(care.task(case, "needs_assessment")) == MONDAY_9 + timedelta(days=1)


def test_acute_screen_after_an_emergent_referral_does_not_start_a_second_crisis(care):
    case = care.new_case()
    care.do(case, "record_referral", {"urgency": "emergent", "current_location": "Emergency room lobby."})
    care.do(case, "asq_screen", {"q1": True, "q5": True})
    assert care.pathways(case).count("crisis_response") == 1
    # One safety plan at a time: the screen's request joins the crisis team's open plan (the triage is the
    # emergency evaluation an acute screen needs).
    assert care.pathways(case).count("safety_planning") == 1
    assert "crisis_safety_plan" in care.open(case)


def test_not_eligible_closes_the_case(care):
    case = care.new_case()
    care.walk(case, lambda: "check_eligibility" in care.open(case))
    care.do(
        case,
        "check_eligibility",
        {
            "eligible": False,
            "ineligible_reason": "Lives outside the service area.",
            "referred_to": "Northside Community Mental Health, warm hand-off by phone.",
        },
    )
    view = care.case(case)
    assert view["status"] == "closed"
    assert view["close_reason"] == "Not eligible for services (referred elsewhere)"
    assert care.statuses(case) == [("intake", "completed"), ("case_closure", "completed")]
    assert care.open(case) == []


def test_declining_services_closes_the_case(care):
    case = care.new_case()
    care.walk(case, lambda: "obtain_consent" in care.open(case))
    care.do(case, "obtain_consent", {"consent_to_services": False, "declined_reason": "Wants to wait a month."})
    assert care.case(case)["status"] == "closed"
    assert care.case(case)["close_reason"] == "Client declined services"


def test_closing_at_intake_while_a_crisis_is_under_way_asks_the_supervisor_and_waits(care):
    case = care.new_case()
    care.do(case, "record_referral", {"urgency": "emergent", "current_location": "Mobile crisis on the way."})
    care.do(case, "asq_screen")
    care.do(
        case,
        "check_eligibility",
        {
            "eligible": False,
            "ineligible_reason": "Private insurance only.",
            "referred_to": "Riverside Behavioral Health.",
        },
    )
    assert care.case(case)["status"] == "open"
    decision = care.task(case, "decide_closure")
    assert decision.role == "supervisor" and "crisis response" in decision.instructions
    assert "crisis_triage" in care.open(case)  # the crisis team's work is untouched
    care.do(
        case,
        "decide_closure",
        {"decision": "wait_for_safety_work", "reason": "Crisis team still with the client; close when they are done."},
    )
    assert care.case(case)["status"] == "open"
    care.walk(case, lambda: care.case(case)["status"] == "closed")
    assert ("crisis_response", "completed") in care.statuses(case)
    assert ("safety_planning", "completed") in care.statuses(case)
    assert care.case(case)["close_reason"] == "Not eligible for services (referred elsewhere)"
