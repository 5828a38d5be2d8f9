"""Each measure's numerator and denominator, case by case, with work done on time, late and not yet due,
on both databases. The clock starts on Monday 2 March 2026, 09:00 UTC (tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quality_support import counts, rows
from sqlalchemy import select

from carepath.engine.models import Event
from carepath.engine.timers import Worker

POSITIVE_ASQ = {"q1": True, "q5": False}
CRISIS = {"reason": "Client called: cannot keep themselves safe tonight."}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def screened_positive(driver) -> int:
    case = driver.new_case()
    driver.complete((case, "record_referral"), {"urgency": "routine"})
    driver.complete((case, "asq_screen"), POSITIVE_ASQ)
    return case


def test_safety_plan_within_24_hours_of_a_positive_screen(driver, cp, clock):
    t0 = clock.now()
    on_time, late, at_the_deadline = (screened_positive(driver) for _ in range(3))
    negative = driver.new_case()
    driver.complete((negative, "record_referral"), {"urgency": "routine"})
    driver.complete((negative, "asq_screen"))
    clock.advance(hours=2)
    driver.complete((on_time, "write_safety_plan"))
    clock.set(t0 + timedelta(hours=24))
    driver.complete((at_the_deadline, "write_safety_plan"))
    clock.set(t0 + timedelta(hours=25))
    driver.complete((late, "write_safety_plan"))
    pending = screened_positive(driver)  # screened now: 24 hours to go

    assert counts(cp, "safety_plan_24h") == (2, 3)
    assert rows(cp, "safety_plan_24h") == {
        on_time: [(True, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=2))],
        at_the_deadline: [(True, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=24))],
        late: [(False, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=25))],
    }
    # Once its deadline passes without a plan, the pending screen is missed.
    later = t0 + timedelta(hours=49, seconds=1)
    assert counts(cp, "safety_plan_24h", now=later) == (2, 4)
    assert rows(cp, "safety_plan_24h", now=later)[pending] == [
        (False, t0 + timedelta(hours=25), t0 + timedelta(hours=49), None)
    ]


def test_a_plan_the_client_declined_still_counts_as_safety_planning_done(driver, cp, clock):
    """The measure's definition: a safety plan (form safety_plan) completed within 24 h. A declined plan is
    safety planning done and documented; the pathway revisits it, and only agreed plans pass
    `safety_plan_agreed` in the log."""
    t0 = clock.now()
    revisited, refused = screened_positive(driver), screened_positive(driver)
    clock.advance(hours=2)
    for case in (revisited, refused):
        driver.complete((case, "write_safety_plan"), {"client_agrees": False})
    clock.advance(hours=10)
    driver.complete((revisited, "revisit_plan"), {"client_agrees": True})  # agreed 12 hours after the screen
    driver.complete((refused, "revisit_plan"), {"client_agrees": False})
    driver.complete((refused, "plan_not_agreed"), {"decision": "refusal_documented"})
    assert "safety_plan_not_agreed" not in [t.form_id for t in driver.open_tasks(refused)]

    later = t0 + timedelta(hours=24, seconds=1)
    assert counts(cp, "safety_plan_24h", now=later) == (2, 2)
    assert rows(cp, "safety_plan_24h", now=later) == {
        revisited: [(True, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=2))],
        refused: [(True, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=2))],
    }
    with cp.db() as session:
        agreed = session.scalars(select(Event.case_id).where(Event.activity == "safety_plan_agreed")).all()
    assert agreed == [revisited]


def to_assessment(driver, urgency: str = "routine") -> int:
    case = driver.new_case()
    driver.complete((case, "record_referral"), {"urgency": urgency})
    for step in ("asq_screen", "check_eligibility", "obtain_consent"):
        driver.complete((case, step))
    driver.complete((case, "needs_assessment"))
    return case


def test_initial_evaluation_counts_business_days_and_holidays(driver, cp, clock):
    # Routine, Monday 2 March 09:00: 10 business days is Monday 16 March 09:00.
    routine_met, routine_late = to_assessment(driver), to_assessment(driver)
    # Urgent on Friday 6 March 09:00: due Monday 9 March 09:00, the weekend skipped.
    clock.set(utc(2026, 3, 6, 9))
    urgent_met, urgent_late = to_assessment(driver, "urgent"), to_assessment(driver, "urgent")
    clock.set(utc(2026, 3, 9, 9))  # exactly at the deadline: on time
    driver.complete((urgent_met, "audit_c_screen"))
    clock.set(utc(2026, 3, 9, 9, 0, 1))  # one second later: late
    driver.complete((urgent_late, "audit_c_screen"))
    clock.set(utc(2026, 3, 16, 8, 59))
    driver.complete((routine_met, "audit_c_screen"))
    clock.set(utc(2026, 3, 16, 9, 30))
    driver.complete((routine_late, "audit_c_screen"))
    # Urgent on Friday 22 May 2026: Monday 25 May is Memorial Day, so it is due Tuesday 26 May 09:00.
    clock.set(utc(2026, 5, 22, 9))
    holiday = to_assessment(driver, "urgent")
    clock.set(utc(2026, 5, 26, 8))
    driver.complete((holiday, "audit_c_screen"))

    assert counts(cp, "initial_evaluation_timely") == (3, 5)
    found = {case: [(met, due) for met, _, due, _ in r] for case, r in rows(cp, "initial_evaluation_timely").items()}
    assert found == {
        routine_met: [(True, utc(2026, 3, 16, 9))],
        routine_late: [(False, utc(2026, 3, 16, 9))],
        urgent_met: [(True, utc(2026, 3, 9, 9))],
        urgent_late: [(False, utc(2026, 3, 9, 9))],
        holiday: [(True, utc(2026, 5, 26, 9))],
    }
    # A period is UTC dates, inclusive: the May referral is in May only.
    assert counts(cp, "initial_evaluation_timely", "2026-05-22", "2026-05-22") == (1, 1)
    assert counts(cp, "initial_evaluation_timely", "2026-03-01", "2026-05-21") == (2, 4)


def test_an_ineligible_client_is_left_out_of_the_initial_evaluation(driver, cp, clock):
    case = driver.new_case()
    driver.complete((case, "record_referral"), {"urgency": "routine"})
    driver.complete((case, "asq_screen"))
    driver.complete((case, "check_eligibility"), {"eligible": False})
    assert driver.case(case)["status"] == "closed"
    clock.advance(days=30)
    assert counts(cp, "initial_evaluation_timely") == (0, 0)


def in_crisis(driver, cp, actors) -> int:
    case = driver.new_case()
    cp.deliver_message(actors["crisis"], case, "crisis_reported", CRISIS)
    driver.complete((case, "crisis_triage"))
    return case


def test_crisis_follow_up_within_24_hours(driver, cp, clock, actors):
    t0 = clock.now()
    met, late = in_crisis(driver, cp, actors), in_crisis(driver, cp, actors)
    clock.advance(hours=20)
    driver.complete((met, "follow_up_24h"), {"client_reached": True})
    clock.set(t0 + timedelta(hours=26))
    Worker(cp).sweep()  # the overdue follow-up goes to the supervisor; it stays with the crisis team
    driver.complete((late, "follow_up_24h"), {"client_reached": True})
    pending = in_crisis(driver, cp, actors)

    assert counts(cp, "crisis_follow_up_24h") == (1, 2)
    assert rows(cp, "crisis_follow_up_24h") == {
        met: [(True, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=20))],
        late: [(False, t0, t0 + timedelta(hours=24), t0 + timedelta(hours=26))],
    }
    assert rows(cp, "crisis_follow_up_24h", pending=True)[pending] == [
        (False, t0 + timedelta(hours=26), t0 + timedelta(hours=50), None)
    ]


def test_tasks_on_time_counts_every_task_with_a_due_time(driver, cp, clock):
    t0 = clock.now()
    case = driver.new_case()  # record_referral: due in 1 day
    clock.advance(hours=23)
    driver.complete((case, "record_referral"), {"urgency": "routine"})  # on time; asq_screen due in 1 day
    clock.advance(hours=25)
    driver.complete((case, "asq_screen"))  # late by an hour; check_eligibility now due in 1 day
    assert counts(cp, "tasks_on_time") == (1, 2)
    assert counts(cp, "tasks_on_time", pathway="assessment") == (0, 0)
    assert counts(cp, "tasks_on_time", pathway="intake") == (1, 2)
    assert counts(cp, "tasks_on_time", case_manager="nobody") == (0, 0)
    found = rows(cp, "tasks_on_time")[case]
    assert [(met, start, done) for met, start, _, done in found] == [
        (True, t0, t0 + timedelta(hours=23)),
        (False, t0 + timedelta(hours=23), t0 + timedelta(hours=48)),
    ]
    # The open task is missed once it passes its due time, and counts as such until it is done.
    assert counts(cp, "tasks_on_time", now=t0 + timedelta(hours=72, seconds=1)) == (1, 3)


HOSPITAL_TRIAGE = {"disposition": "hospitalised", "facility": "St. Mary's Behavioral Health Unit"}
ADMITTED = {"client_reached": True, "client_status": "admitted_to_hospital", "contact_method": "collateral"}


def discharged_from_hospital(driver, cp, actors, clock) -> tuple[int, datetime]:
    """A crisis ending in a hospital stay; the discharge (yesterday) recorded now. Returns the 7-day deadline."""
    case = driver.new_case()
    cp.deliver_message(actors["crisis"], case, "crisis_reported", CRISIS)
    driver.complete((case, "crisis_triage"), HOSPITAL_TRIAGE)
    driver.complete((case, "follow_up_24h"), ADMITTED)
    driver.complete((case, "follow_up_72h"), ADMITTED)
    discharged = (clock.now() - timedelta(days=1)).date()
    driver.complete(
        (case, "hospital_discharge"),
        {
            "hospital": "St. Mary's",
            "discharge_date": discharged.isoformat(),
            "follow_up_appointment": (discharged + timedelta(days=3)).isoformat(),
        },
    )
    return case, utc(discharged.year, discharged.month, discharged.day) + timedelta(days=7)


def test_follow_up_after_hospitalization_within_7_and_30_days(driver, cp, clock, actors):
    met, due_7 = discharged_from_hospital(driver, cp, actors, clock)
    missed, _ = discharged_from_hospital(driver, cp, actors, clock)
    clock.advance(days=2)
    driver.complete((met, "visit_7"), {"attended": True, "visit_date": clock.now().date().isoformat()})
    # A visit on the day of discharge does not count after a hospital stay: the pathway asks for a rebooking.
    driver.complete(
        (missed, "visit_7"), {"attended": True, "visit_date": (due_7 - timedelta(days=7)).date().isoformat()}
    )
    assert counts(cp, "fuh_7day") == (1, 1)  # the other is pending until its deadline
    assert counts(cp, "fuh_7day", now=due_7 + timedelta(seconds=1)) == (1, 2)
    assert counts(cp, "fuh_30day") == (1, 1)  # the 7-day visit also meets the 30-day deadline
    assert counts(cp, "fum_7day", now=due_7 + timedelta(days=60)) == (0, 0)
    assert {
        case: [met_ for met_, *_ in r] for case, r in rows(cp, "fuh_30day", now=due_7 + timedelta(days=24)).items()
    } == {met: [True], missed: [False]}


def test_depression_remission_at_12_months(driver, cp, clock):
    from sqlalchemy import select

    from carepath.engine.models import PathwayInstance, Score

    t0 = clock.now()
    remitted, not_remitted, too_early, pending = (driver.new_case() for _ in range(4))
    with cp.db.begin() as session:
        instance = {
            c: session.scalars(select(PathwayInstance.id).where(PathwayInstance.case_id == c)).first()
            for c in (remitted, not_remitted, too_early, pending)
        }

        def phq9(case, at, total):
            session.add(
                Score(case_id=case, instance_id=instance[case], instrument="phq9", total=total, severity="", at=at)
            )

        for case in (remitted, not_remitted, too_early):
            phq9(case, t0, 15)
        phq9(remitted, t0 + timedelta(days=200), 12)  # a later PHQ-9 above 9 is not a new index
        phq9(remitted, t0 + timedelta(days=380), 4)
        phq9(not_remitted, t0 + timedelta(days=380), 7)
        phq9(too_early, t0 + timedelta(days=300), 3)  # before 12 months - 60 days
        phq9(pending, t0 + timedelta(days=100), 20)
    now = t0 + timedelta(days=426)
    assert counts(cp, "depression_remission_12m", now=now) == (1, 3)
    assert rows(cp, "depression_remission_12m", now=now)[remitted] == [
        (True, t0, t0 + timedelta(days=425), t0 + timedelta(days=380))
    ]
