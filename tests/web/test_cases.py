"""The case file (timeline, open tasks, pathway positions, score chart, plans) and "Report a crisis"."""

from __future__ import annotations

import re

from sqlalchemy import select

from carepath.engine.models import Event, HumanTask
from ui_support import POSITIVE_ASQ


def test_case_file_shows_timeline_open_tasks_and_pathway_positions(staff, referral, driver):
    task = driver.task(referral["case_id"], "record_referral")
    html = staff("case_manager").text(f"/cases/{referral['case_id']}")
    assert "Maria Lopez" in html and "Case file" in html
    assert "Where Maria is in each pathway" in html and "Waiting for:" in html
    assert f'href="/tasks/{task.id}"' in html
    timeline = html.split('<ol class="timeline"')[1].split("</ol>")[0]
    assert "Case opened" in timeline and "by intake" in timeline
    # Engine steps (a task becoming ready, scripts) show only when asked for.
    assert task.title not in timeline
    everything = staff("case_manager").text(f"/cases/{referral['case_id']}?timeline=all")
    assert task.title in everything.split('<ol class="timeline"')[1].split("</ol>")[0]


def test_scores_over_time_are_a_server_drawn_chart_with_a_table(staff, task_with_form, driver):
    task = task_with_form("gad7", {"phq9": {"item1": 3, "item2": 2}})
    driver.complete(task, {"item1": 2})
    html = staff("case_manager").text(f"/cases/{task.case_id}")
    chart = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert '<svg viewBox="0 0 640 260" role="img"' in chart and "<script" not in chart
    assert "<circle" in chart and "<rect" in chart  # PHQ-9 dots, GAD-7 squares
    assert "PHQ-9: 5 (mild)" in chart and "GAD-7: 2 (minimal)" in chart
    assert "Scores as a table" in html


def test_case_file_without_scores_says_so(staff, referral):
    assert "No PHQ-9 or GAD-7 scores yet." in staff("case_manager").text(f"/cases/{referral['case_id']}")


def test_current_safety_plan_is_on_the_case_file_and_beside_tasks(staff, task_with_form, driver):
    task = task_with_form("safety_plan", POSITIVE_ASQ)
    schema = driver.form_schema(task)
    text_field = next(
        n for n, p in schema["properties"].items() if p.get("type") == "string" and n in schema.get("required", [])
    )
    driver.complete(task, {text_field: "Lock the medicines away with my sister"})
    html = staff("clinician").text(f"/cases/{task.case_id}")
    plan = html.split('id="safety_plan-title"')[1].split("</section>")[0]
    assert "Lock the medicines away with my sister" in plan and schema["properties"][text_field]["title"] in plan
    open_task = next(iter(driver.open_tasks(task.case_id)), None)
    if open_task is not None:
        person = staff(open_task.role if open_task.assignee_id is None else "case_manager")
        page = person.get(f"/tasks/{open_task.id}").get_data(as_text=True)
        if 'class="context"' in page:
            assert "Lock the medicines away with my sister" in page


def test_report_a_crisis_starts_the_crisis_pathway_with_a_task_for_the_crisis_team(staff, referral, crisis_ready):
    cm = staff("case_manager")
    resp = cm.post(f"/cases/{referral['case_id']}/crisis", {"reason": "Called saying they cannot stay safe tonight"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{referral['case_id']}"
    assert "Crisis reported. The crisis team has been alerted" in cm.text(resp.headers["Location"])
    with crisis_ready.db() as session:
        tasks = session.scalars(
            select(HumanTask).where(
                HumanTask.case_id == referral["case_id"], HumanTask.role == "crisis", HumanTask.status == "open"
            )
        ).all()
        message = session.scalar(
            select(Event).where(
                Event.case_id == referral["case_id"], Event.lifecycle == "message", Event.activity == "crisis_reported"
            )
        )
    assert tasks and message is not None and message.username == "case_manager"
    inbox = staff("crisis").text("/inbox?view=team")
    assert any(f'data-task-id="{t.id}"' in inbox for t in tasks)


def test_a_crisis_report_needs_a_reason(staff, referral, crisis_ready):
    resp = staff("case_manager").post(f"/cases/{referral['case_id']}/crisis", {"reason": "   "})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'<details class="crisis" open', html) and 'id="crisis-reason-error"' in html
    assert 'aria-describedby="crisis-reason-error"' in html


def test_without_a_crisis_pathway_the_report_says_what_to_do(staff, referral, cp):
    from ui_support import has_crisis_pathway

    if has_crisis_pathway(cp):
        return  # the shipped library has one; the message is for agencies without
    resp = staff("case_manager").post(
        f"/cases/{referral['case_id']}/crisis", {"reason": "Unsafe"}, follow_redirects=True
    )
    assert "No crisis pathway is published" in resp.get_data(as_text=True)


def test_unknown_case_is_a_friendly_404(staff):
    resp = staff("clinician").get("/cases/999999")
    assert resp.status_code == 404 and "No case" in resp.get_data(as_text=True)


def test_chart_places_points_by_time_and_labels_the_axis():
    from carepath.web.cases.chart import score_chart

    scores = {
        "phq9": [
            {"total": 20, "severity": "severe", "at": "2026-03-02T09:00:00+00:00"},
            {"total": 8, "severity": "mild", "at": "2026-05-02T09:00:00+00:00"},
        ],
        "gad7": [{"total": 12, "severity": "moderate", "at": "2026-04-01T09:00:00+00:00"}],
    }
    chart = score_chart(scores)
    phq9, gad7 = chart.series
    left, top, right, bottom = chart.plot
    assert left < phq9.points[0].x < gad7.points[0].x < phq9.points[1].x < right
    assert phq9.points[0].y < gad7.points[0].y < phq9.points[1].y  # higher score, higher on the chart
    assert [t[1] for t in chart.x_ticks] == ["2 Mar", "1 Apr", "2 May"]
    assert [t[2] for t in chart.x_ticks] == ["start", "middle", "end"]
    assert score_chart({"asq": [{"total": 1, "severity": "positive", "at": "2026-03-02T09:00:00+00:00"}]}) is None


def test_a_phq9_and_a_gad7_of_the_same_day_stand_at_the_same_x():
    from carepath.web.cases.chart import score_chart

    chart = score_chart(
        {
            "phq9": [{"total": 20, "severity": "severe", "at": "2026-03-02T09:00:00+00:00"}],
            "gad7": [{"total": 12, "severity": "moderate", "at": "2026-03-02T09:40:00+00:00"}],
        }
    )
    phq9, gad7 = chart.series
    assert phq9.points[0].x == gad7.points[0].x and [t[1] for t in chart.x_ticks] == ["2 Mar"]
