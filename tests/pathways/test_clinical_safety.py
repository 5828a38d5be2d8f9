"""Clinical safety (issue 8): one scenario per finding, each walked through the shipped library as staff would.

Every test here failed on the library before the fix (c8a8210) and passes now; docs/pathways.md gives the
clinical reasoning and sources for each decision.
"""

from datetime import UTC, date, datetime, timedelta

from pathway_support import due, phq9_items, utc
from sqlalchemy import select

from carepath.engine.models import Event

POSITIVE_ASQ = {"q2": True, "q5": False}
NOT_ELIGIBLE = {
    "eligible": False,
    "ineligible_reason": "Outside the service area.",
    "referred_to": "Northside CMHC, warm hand-off by phone.",
}
CRISIS = {"reason": "Client called: cannot keep themselves safe tonight."}


def events(care, case, activity):
    with care.cp.db() as session:
        return list(session.scalars(select(Event).where(Event.case_id == case, Event.activity == activity)))


# ---------- 1. closing at intake ----------


def test_1_not_eligible_after_a_positive_screen_keeps_the_safety_work_and_asks_the_supervisor(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", POSITIVE_ASQ)
    care.do(case, "check_eligibility", NOT_ELIGIBLE)
    assert care.case(case)["status"] == "open"
    assert {"write_safety_plan", "safety_assessment"} <= set(care.open(case, "safety_planning"))
    decision = care.task(case, "decide_closure")
    assert decision.role == "supervisor" and "Safety plan" in decision.instructions
    care.do(case, "decide_closure", {"decision": "wait_for_safety_work", "reason": "Plan and assessment first."})
    care.do(case, "safety_assessment")
    care.do(case, "write_safety_plan")
    assert care.case(case)["status"] == "open"  # the 72-hour follow-up contact is still to come
    care.do(case, "follow_up_call")
    assert care.case(case)["status"] == "closed"
    assert ("safety_planning", "completed") in care.statuses(case)


def test_1_a_crisis_reported_during_intake_is_not_ended_when_the_client_declines(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen")
    care.send(case, "crisis_reported", CRISIS, by="intake")
    care.do(case, "check_eligibility")
    care.do(case, "obtain_consent", {"consent_to_services": False, "declined_reason": "Not now."})
    assert care.case(case)["status"] == "open"
    assert "crisis_triage" in care.open(case) and "decide_closure" in care.open(case)
    care.do(
        case,
        "decide_closure",
        {
            "decision": "close_now",
            "reason": "Client is with the county crisis team, who take over.",
            "handed_over_to": "County mobile crisis team",
        },
    )
    assert care.case(case)["status"] == "closed"
    notices = [t for t in care.tasks(case) if t.form_id == "work_ended_notice"]
    assert {t.role for t in notices} >= {"crisis", "case_manager", "supervisor"}
    assert all("County" in t.instructions or "crisis team" in t.instructions for t in notices)


# ---------- 2. discharge over live safety work ----------


def _discharging(care):
    case = care.new_case()
    care.walk_to(case, "periodic_review", idle=True)
    care.send(case, "discharge_requested", {"reason": "Client moving out of state."})
    return case


def test_2_approval_waits_for_an_open_safety_plan_and_closes_when_it_is_done(care):
    case = _discharging(care)
    care.do(case, "discharge_reason")
    care.do(case, "final_phq9", {"item9": 1})
    care.do(case, "final_gad7")
    care.do(case, "predischarge_review", {"decision": "proceed"})
    care.walk(case, lambda: "decide_closure" in care.open(case), skip=("safety_planning",))
    assert care.case(case)["status"] == "open"
    assert {"write_safety_plan", "safety_assessment"} <= set(care.open(case))
    care.walk(case, lambda: care.case(case)["status"] == "closed")
    assert ("safety_planning", "completed") in care.statuses(case)
    assert all(status != "cancelled" for _, status in care.statuses(case))


def test_2_an_open_crisis_sends_the_discharge_to_a_clinician_first(care):
    case = _discharging(care)
    care.send(case, "crisis_reported", CRISIS)
    care.do(case, "discharge_reason")
    care.do(case, "final_phq9")
    care.do(case, "final_gad7")  # scores all zero: only the open crisis gives concern
    review = care.task(case, "predischarge_review")
    assert review.role == "clinician" and "crisis response is open" in review.instructions


def test_2_an_unreviewed_safety_plan_is_reviewed_before_discharge(care):
    case = _discharging(care)
    care.send(case, "safety_plan_needed", {"reason": "Earlier concern", "source": "other"}, by="clinician")
    care.do(case, "write_safety_plan")
    care.walk(
        case, lambda: "aftercare_plan" in care.open(case), answers={"predischarge_review": {"decision": "proceed"}}
    )
    care.do(case, "aftercare_plan", {"safety_plan_reviewed": False})
    assert care.open(case, "discharge") == ["review_safety_plan"]
    assert care.task(case, "review_safety_plan").role == "clinician"


# ---------- 3. the brief suicide safety assessment's outcome ----------


def _screened(care):
    case = care.new_case()
    care.send(case, "safety_plan_needed", {"reason": "Positive ASQ", "source": "screen"}, by="clinician")
    return case


def test_3_urgent_follow_up_opens_an_appointment_within_72_hours(care):
    case = _screened(care)
    care.do(case, "safety_assessment", {"disposition": "urgent_follow_up"})
    task = care.task(case, "urgent_appointment")
    assert task.role == "clinician" and due(task) == care.now() + timedelta(hours=72)


def test_3_going_home_with_a_plan_opens_a_follow_up_contact(care):
    case = _screened(care)
    care.do(case, "safety_assessment", {"disposition": "safety_plan_and_follow_up"})
    assert care.task(case, "follow_up_call").role == "case_manager"


def test_3_a_plan_the_client_does_not_agree_to_is_revisited_then_goes_to_a_supervisor(care):
    case = _screened(care)
    care.do(case, "write_safety_plan", {"client_agrees": False})
    revisit = care.task(case, "revisit_plan")
    assert revisit.role == "clinician" and due(revisit) == care.now() + timedelta(hours=24)
    care.do(case, "revisit_plan", {"client_agrees": False})
    assert care.task(case, "plan_not_agreed").role == "supervisor"


# ---------- 4. a client not reached after a crisis ----------


def test_4_a_client_not_reached_is_tried_again_then_a_welfare_check(care):
    case = care.new_case()
    care.send(case, "crisis_reported", CRISIS)
    care.do(case, "crisis_triage")
    not_reached = {"client_reached": False, "next_steps": "Try his sister; text tonight."}
    care.do(case, "follow_up_24h", not_reached)
    retry = care.task(case, "retry_contact")
    assert retry.role == "crisis" and due(retry) <= care.now() + timedelta(hours=24)
    care.do(case, "retry_contact", not_reached)
    care.do(case, "retry_contact", not_reached)
    assert care.task(case, "welfare_check").role == "crisis"
    care.do(case, "welfare_check", {"outcome": "not_found"})
    assert care.task(case, "client_missing").role == "supervisor"
    assert "follow_up_72h" in care.open(case)


# ---------- 5. follow-up after hospital or emergency care ----------


def _in_crisis(care, triage):
    case = care.new_case()
    care.send(case, "crisis_reported", CRISIS)
    care.do(case, "crisis_triage", triage)
    return case


def test_5_an_emergency_department_visit_gets_7_and_30_day_follow_up(care):
    case = _in_crisis(care, {"disposition": "emergency_department", "facility": "County General ED"})
    ed_day = care.now().date()
    care.do(case, "follow_up_24h", {"client_status": "in_community"})
    care.do(case, "follow_up_72h", {"client_status": "in_community"})
    visit = care.task(case, "visit_7")
    assert visit.process_id == "hospital_follow_up" and utc(visit.due_at).date() == ed_day + timedelta(days=7)
    care.do(case, "visit_7", {"visit_date": care.now().date().isoformat()})
    assert utc(care.task(case, "visit_30").due_at).date() == ed_day + timedelta(days=30)


def test_5_a_visit_on_the_discharge_day_or_a_missed_one_is_rebooked(care):
    case = _in_crisis(care, {"disposition": "hospitalised", "facility": "St. Mary's"})
    care.do(case, "follow_up_24h", {"client_status": "admitted_to_hospital"})
    care.do(case, "follow_up_72h", {"client_status": "admitted_to_hospital"})
    today = care.now().date()
    care.do(
        case,
        "hospital_discharge",
        {
            "hospital": "St. Mary's",
            "discharge_date": today.isoformat(),
            "follow_up_appointment": (today + timedelta(days=2)).isoformat(),
        },
    )
    care.do(case, "visit_7", {"visit_date": today.isoformat()})  # the day of discharge: HEDIS FUH does not count it
    assert care.task(case, "rebook").role == "case_manager"
    care.sweep(days=2)
    care.do(case, "rebook", {"new_visit_date": care.now().date().isoformat()})
    care.do(case, "visit_7", {"attended": False, "missed_visit_actions": "Called twice; left a message."})
    assert "rebook" in care.open(case)


# ---------- 6. risk lowered by self-report ----------


def test_6_a_review_during_an_imminent_crisis_does_not_lower_the_risk(care):
    case = care.new_case()
    care.send(case, "review_scheduled", {"risk_level": "low", "review_number": 1}, by="supervisor")
    care.sweep(days=80)
    care.send(case, "crisis_reported", CRISIS)
    care.do(case, "crisis_triage", {"imminent_risk": True, "immediate_actions": "Stayed on the line; 911."})
    assert care.case(case)["risk_level"] == "imminent"
    care.sweep(days=10)  # the review date
    care.do(case, "review_phq9", phq9_items(0))
    care.do(case, "review_gad7")
    assert care.case(case)["risk_level"] == "imminent"
    assert "review_risk" not in care.open(case)  # no review of a lower level while the crisis is open
    assert "risk_review" in care.pathways(case)


def test_6_a_rise_in_risk_re_times_the_waiting_review(care):
    case = care.new_case()
    care.send(case, "review_scheduled", {"risk_level": "low", "review_number": 1}, by="supervisor")
    care.sweep(days=5)
    care.send(case, "crisis_reported", CRISIS)
    care.do(case, "crisis_triage")  # risk rises to high: the review falls due 30 days from the cycle's start
    care.sweep(days=24, hours=23)
    assert care.open(case, "periodic_review") == []
    care.sweep(hours=1)
    assert care.open(case, "periodic_review") == ["review_phq9"]


# ---------- 7. two safety plans ----------


def test_7_a_second_positive_screen_joins_the_open_safety_plan(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", POSITIVE_ASQ)
    care.walk_to(case, "assessment", skip=("safety_planning",))
    care.walk(case, lambda: "phq9_screen" in care.open(case), skip=("safety_planning",))
    care.do(case, "phq9_screen", {"item9": 2})
    assert care.pathways(case).count("safety_planning") == 1
    assert [t.form_id for t in care.tasks(case)].count("safety_plan") == 1
    joined = [e for e in events(care, case, "safety_plan_needed") if "joined" in e.activity_name]
    assert len(joined) == 1


# ---------- 8. smaller findings ----------


def test_8_a_refusal_to_answer_the_asq_is_a_positive_screen(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", {"declined_to_answer": True, "q1": False, "q5": False})
    assert care.scores(case, "asq") == [("asq", 0, "non_acute_positive")]
    assert "write_safety_plan" in care.open(case)


def test_8_a_refusal_with_question_5_unanswered_is_treated_as_acute(care):
    case = care.new_case()
    care.do(case, "record_referral")
    care.do(case, "asq_screen", {"declined_to_answer": True})
    assert care.scores(case, "asq") == [("asq", 0, "acute_positive")]
    assert "crisis_triage" in care.open(case)


def test_8_a_death_is_reviewed_and_needs_no_invented_scores(care):
    case = _discharging(care)
    care.do(case, "discharge_reason", {"reason": "deceased"})
    assert care.open(case, "discharge") == ["death_review"]
    care.do(case, "death_review", {"cause": "suicide", "reported_to": "State sentinel event line, 3 March."})
    assert care.open(case, "discharge") == ["discharge_summary"]
    care.do(case, "discharge_summary")
    assert care.open(case, "discharge") == ["approve_discharge"]  # no aftercare plan, nobody to inform
    assert [s for s in care.scores(case) if s[0] == "phq9"] == [("phq9", 0, "minimal")]  # the assessment's only


def test_8_a_safety_plan_needs_reasons_for_living_988_and_a_copy(care):
    from carepath.engine.errors import InvalidFormData

    case = _screened(care)
    task = care.task(case, "write_safety_plan")
    plan = {
        "warning_signs": ["x"],
        "internal_coping": ["x"],
        "social_distraction": [{"name": "x"}],
        "help_contacts": [{"name": "x"}],
        "professional_contacts": [{"name": "x"}],
        "means_safety": "x",
        "client_agrees": True,
    }
    try:
        care.cp.complete_task(care.actors["clinician"], task.id, plan)
        raise AssertionError("accepted")
    except InvalidFormData as err:
        assert {f.path for f in err.fields} >= {"reason_for_living", "lifeline_988_listed", "copy_given"}


def test_8_reviews_keep_to_their_schedule_when_done_late(care):
    case = care.new_case()
    care.send(case, "review_scheduled", {"risk_level": "low", "review_number": 1}, by="supervisor")
    start = care.now()
    opened = []
    for _ in range(3):
        care.sweep(days=1)
        while "review_phq9" not in care.open(case, "periodic_review"):
            care.sweep(days=1)
        opened.append((care.now() - start).days)
        care.sweep(days=6)  # reviewed six days late
        for step in ("review_phq9", "review_gad7", "progress_review"):
            care.do(case, step)
    assert opened == [90, 180, 270]


def test_8_the_access_clock_starts_at_the_referral_date_and_skips_holidays(care):
    care.clock.set(datetime(2026, 1, 16, 9, 0, tzinfo=UTC))  # Friday; Monday 19 January is MLK Day
    case = care.new_case()
    care.walk_to(case, "assessment", {"referral": {"urgency": "urgent", "referral_date": "2026-01-15"}})
    # Received Thursday 15 January: 1 business day is Friday 16 January (00:00, the start of the referral day).
    assert due(care.task(case, "needs_assessment")) == datetime(2026, 1, 16, 0, 0, tzinfo=UTC)
    care.clock.set(datetime(2026, 1, 16, 9, 0, tzinfo=UTC))
    case = care.new_case()
    care.walk_to(case, "assessment", {"referral": {"urgency": "urgent", "referral_date": "2026-01-16"}})
    assert due(care.task(case, "needs_assessment")) == datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def test_8_decision_tables_use_the_first_hit_policy():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "workflows"
    for table in root.glob("*.dmn"):
        assert 'hitPolicy="FIRST"' in table.read_text(), table.name
    assert date(2026, 1, 1)  # keep the import honest
