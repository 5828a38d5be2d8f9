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
