"""The case file, for people: each promise with how it stands (met, pending with time left, missed by how
much), and a timeline of who did what (late or not, each completed form a link), engine steps on request."""

from __future__ import annotations

from ui_support import StaffClient


def test_promises_and_a_readable_timeline(app, driver, clock):
    case = driver.new_case("Maria", "Lopez")
    clock.advance(hours=26)
    referral = driver.task(case, "record_referral")
    driver.complete(referral, {"urgency": "routine"})  # 2 hours late
    driver.complete((case, "asq_screen"), {"q1": True, "q5": False})  # positive: a safety plan within 24 h
    clock.advance(hours=3)
    html = StaffClient(app, "quality").text(f"/cases/{case}")
    panel = html.split('aria-labelledby="adherence-title"')[1].split("</section>")[0]
    rows = [r for r in panel.split("<tr")[2:]]
    safety = next(r for r in rows if "Safety plan within 24 hours" in r)
    assert "Pending" in safety and "21 hours left" in safety
    referral_row = next(r for r in rows if "Tasks completed on time" in r and "Missed" in r)
    assert "late by 2 hours" in referral_row

    timeline = html.split('<ol class="timeline"')[1].split("</ol>")[0]
    assert f'href="/tasks/{referral.id}">Record the referral</a>' in timeline
    assert "Late by 2 hours" in timeline and "On time" in timeline  # the referral late, the ASQ on time
    assert "Score the ASQ" not in timeline  # an engine step
    everything = StaffClient(app, "quality").text(f"/cases/{case}?timeline=all")
    assert "Score the ASQ" in everything.split('<ol class="timeline"')[1].split("</ol>")[0]
    # The completed form opens read-only for quality staff.
    done = StaffClient(app, "quality").get(f"/tasks/{referral.id}")
    assert done.status_code == 200 and "<form" not in done.get_data(as_text=True).split("<main")[1]


def test_the_case_file_lists_the_promises_the_quality_report_holds_for_the_case(driver, cp, clock, actors):
    """Whatever pathways a case ran (intake only; a crisis ending in a hospital stay and its follow-up), its
    case file lists exactly the rows every measure's report holds for it, pending ones included."""
    from quality_support import rows
    from test_measures import discharged_from_hospital

    from carepath.engine.quality.measures import MEASURES

    referral_only = driver.new_case()
    hospital, _ = discharged_from_hospital(driver, cp, actors, clock)
    clock.advance(days=2)
    driver.complete((hospital, "visit_7"), {"attended": True, "visit_date": clock.now().date().isoformat()})
    for case in (referral_only, hospital):
        shown = {
            (p["measure"], p["start"], p["due"], p["done"])
            for p in cp.read_case_file(actors["quality"], case)["adherence"]
        }
        held = {
            (m.id, start.isoformat(), due.isoformat(), done.isoformat() if done else None)
            for m in MEASURES
            if m.id != "reviews_on_time"  # listed under tasks_on_time
            for _met, start, due, done in rows(cp, m.id, case_id=case, pending=True).get(case, [])
        }
        assert shown == held
    measures_shown = {p["measure"] for p in cp.read_case_file(actors["quality"], hospital)["adherence"]}
    assert {"crisis_follow_up_24h", "fuh_7day", "fuh_30day", "tasks_on_time"} <= measures_shown
