"""FUH and FUM case by case: a follow-up visit counts only when the pathway recorded it as qualifying
(its `visit_qualified` event), never because a visit was merely completed. Every case is checked three
ways: the counts, the drill-down rows, and the event log an outside reader would use.

The clock starts on Monday 2 March 2026, 09:00 UTC; each client below was discharged on Sunday 1 March,
so the 7-day deadline is 8 March 00:00 UTC and the 30-day one 31 March 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quality_support import counts, rows
from sqlalchemy import select

from carepath.engine import library
from carepath.engine.models import Event
from carepath.engine.pathway_files import FileSet

CRISIS = {"reason": "Client called: cannot keep themselves safe tonight."}
ADMITTED = {"client_reached": True, "client_status": "admitted_to_hospital", "contact_method": "collateral"}
DISCHARGED = datetime(2026, 3, 1, tzinfo=UTC)
DUE_7, DUE_30 = DISCHARGED + timedelta(days=7), DISCHARGED + timedelta(days=30)
STARTED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # the discharge recorded: the follow-up pathway starts
MISSED = {"attended": False, "missed_visit_actions": "Called twice; left a message."}


def at(day: int, hour: int = 10) -> datetime:
    """`day` days after the discharge date, at `hour`:00 UTC."""
    return DISCHARGED + timedelta(days=day, hours=hour)


def attended(day: int) -> dict:
    return {"attended": True, "visit_date": (DISCHARGED + timedelta(days=day)).date().isoformat()}


def discharged(driver, cp, actors, triage: dict) -> int:
    case = driver.new_case()
    cp.deliver_message(actors["crisis"], case, "crisis_reported", CRISIS)
    driver.complete((case, "crisis_triage"), triage)
    return case


def after_hospital_stay(driver, cp, actors) -> int:
    case = discharged(driver, cp, actors, {"disposition": "hospitalised", "facility": "St. Mary's"})
    driver.complete((case, "follow_up_24h"), ADMITTED)
    driver.complete((case, "follow_up_72h"), ADMITTED)
    driver.complete(
        (case, "hospital_discharge"),
        {"hospital": "St. Mary's", "discharge_date": "2026-03-01", "follow_up_appointment": "2026-03-04"},
    )
    return case


def qualifying_events(cp, case_id: int) -> list[datetime]:
    """What an outside reader of the event log sees: the times of the case's qualifying-visit events."""
    with cp.db() as session:
        found = session.scalars(
            select(Event.at)
            .where(Event.case_id == case_id, Event.activity == "visit_qualified", Event.lifecycle == "completed")
            .order_by(Event.at)
        ).all()
    return [t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in found]


def test_only_a_qualifying_visit_meets_fuh(driver, cp, clock, actors):
    on_time, second_try, three_missed, late_attended, late_missed = (
        after_hospital_stay(driver, cp, actors) for _ in range(5)
    )
    # Day 2: a visit on the day of discharge does not count (HEDIS FUH): rebooked, then seen on day 4.
    clock.set(at(2))
    driver.complete((second_try, "visit_7"), attended(0))
    driver.complete((second_try, "rebook"), {"new_visit_date": "2026-03-05"})
    # Days 2 to 4: three visits missed in the 7-day window. The stage ends without a rebooking, and that
    # must not read as met.
    for day in (2, 3, 4):
        clock.set(at(day, 12))
        driver.complete((three_missed, "visit_7"), MISSED)
        if day < 4:
            driver.complete((three_missed, "rebook"), {"new_visit_date": f"2026-03-0{day + 2}"})
        if day == 3:
            clock.set(at(3, 15))
            driver.complete((on_time, "visit_7"), attended(3))  # on time: seen on day 3
    clock.set(at(4))
    driver.complete((second_try, "visit_7"), attended(4))
    # Day 9, after the 7-day window: attended (counts for 30 days only, as HEDIS does), or missed.
    clock.set(at(9))
    driver.complete((late_attended, "visit_7"), attended(9))
    driver.complete((late_missed, "visit_7"), MISSED)
    for case in (on_time, second_try, late_attended, late_missed, three_missed):
        assert "visit_30" in [t.bpmn_id for t in driver.open_tasks(case)]

    # Between the deadlines: the 7-day rate is settled; the 30-day rows not yet done are pending.
    assert counts(cp, "fuh_7day") == (2, 5)
    assert counts(cp, "fuh_30day") == (3, 3)
    expected_7 = {
        on_time: [(True, DUE_7, at(3, 15))],
        second_try: [(True, DUE_7, at(4))],
        three_missed: [(False, DUE_7, None)],
        late_attended: [(False, DUE_7, at(9))],
        late_missed: [(False, DUE_7, None)],
    }
    assert {c: [(m, due, done) for m, _, due, done in r] for c, r in rows(cp, "fuh_7day").items()} == expected_7

    # After 30 days: a 7-day visit meets the 30-day deadline too; no qualifying visit, no credit.
    after = DUE_30 + timedelta(seconds=1)
    assert counts(cp, "fuh_30day", now=after) == (3, 5)
    expected_30 = {
        on_time: [(True, DUE_30, at(3, 15))],
        second_try: [(True, DUE_30, at(4))],
        three_missed: [(False, DUE_30, None)],
        late_attended: [(True, DUE_30, at(9))],
        late_missed: [(False, DUE_30, None)],
    }
    found_30 = rows(cp, "fuh_30day", now=after)
    assert {c: [(m, due, done) for m, _, due, done in r] for c, r in found_30.items()} == expected_30
    # The event log says the same, case by case: the first qualifying event is the row's "done".
    for case, [(_, _, done)] in expected_30.items():
        assert qualifying_events(cp, case)[:1] == ([done] if done else [])
    assert counts(cp, "fum_7day", now=after) == (0, 0)


def test_a_late_30_day_visit_does_not_count(driver, cp, clock, actors):
    case = after_hospital_stay(driver, cp, actors)
    clock.set(at(8))
    driver.complete((case, "visit_7"), MISSED)  # the 7-day window has closed: on to the 30-day visit
    clock.set(at(32))
    driver.complete((case, "visit_30"), attended(32))  # after day 30: the supervisor is told
    assert "not_achieved" in [t.bpmn_id for t in driver.open_tasks(case)]
    assert counts(cp, "fuh_30day") == (0, 1)
    assert rows(cp, "fuh_30day")[case] == [(False, STARTED, DUE_30, None)]
    assert qualifying_events(cp, case) == []


def test_after_an_emergency_visit_the_day_itself_counts(driver, cp, clock, actors):
    case = discharged(driver, cp, actors, {"disposition": "emergency_department", "facility": "County General ED"})
    in_community = {"client_reached": True, "client_status": "in_community"}
    driver.complete((case, "follow_up_24h"), in_community)
    driver.complete((case, "follow_up_72h"), in_community)  # the FUM follow-up starts now
    seen = clock.now()  # 2 March, the day of the emergency visit: the 7-day deadline is 9 March 00:00 UTC
    driver.complete((case, "visit_7"), {"attended": True, "visit_date": seen.date().isoformat()})
    assert rows(cp, "fum_7day")[case] == [(True, STARTED, datetime(2026, 3, 9, tzinfo=UTC), seen)]
    assert counts(cp, "fum_7day") == (1, 1)
    assert counts(cp, "fum_30day") == (1, 1)
    assert counts(cp, "fuh_7day") == (0, 0)
    assert qualifying_events(cp, case) == [seen]


def test_a_follow_up_on_a_version_from_before_qualifying_visits_keeps_the_rule_it_was_counted_by(
    driver, cp, clock, actors
):
    """An agency's history: follow-ups that ran on a version without `visit_qualified` (here the shipped one with
    that element renamed) never recorded the event, so they are counted by the rule of their time (the first
    visit that opened no rebooking) instead of all reading as missed after an upgrade."""
    files = cp.library_files().files
    older = {
        **files,
        "hospital_follow_up.bpmn": files["hospital_follow_up.bpmn"].replace("visit_qualified", "visit_seen"),
    }
    with cp.db.begin() as session:
        library.publish(session, library.build(FileSet(older), only={"hospital_follow_up"}), clock.now(), "publish")
    seen, rebooked, missed = (after_hospital_stay(driver, cp, actors) for _ in range(3))
    clock.set(at(3, 15))
    driver.complete((seen, "visit_7"), attended(3))
    driver.complete((rebooked, "visit_7"), attended(0))  # the day of discharge: rebooked, then seen on day 5
    driver.complete((rebooked, "rebook"), {"new_visit_date": "2026-03-06"})
    driver.complete((missed, "visit_7"), MISSED)
    driver.complete((missed, "rebook"), {"new_visit_date": "2026-03-06"})
    clock.set(at(5))
    driver.complete((rebooked, "visit_7"), attended(5))
    assert all(qualifying_events(cp, case) == [] for case in (seen, rebooked, missed))

    after = DUE_7 + timedelta(seconds=1)
    assert counts(cp, "fuh_7day", now=after) == (2, 3)
    found = rows(cp, "fuh_7day", now=after)
    assert {c: [(m, done) for m, _, _, done in r] for c, r in found.items()} == {
        seen: [(True, at(3, 15))],
        rebooked: [(True, at(5))],
        missed: [(False, None)],
    }
