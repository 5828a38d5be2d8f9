"""The quality API (CONTRACT: /api/v1/quality/...): the measures for a period, each measure's cases, paged,
audited; quality staff and supervisors only; bad periods are 400s."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carepath.engine.models import AuditEntry


def late_and_on_time(driver, clock) -> tuple[int, int]:
    on_time, late = driver.new_case(), driver.new_case()
    clock.advance(hours=2)
    driver.complete((on_time, "record_referral"), {"urgency": "routine"})
    clock.advance(hours=24)
    driver.complete((late, "record_referral"), {"urgency": "routine"})
    return on_time, late


def test_measures_and_their_cases(api, driver, clock, cp):
    on_time, late = late_and_on_time(driver, clock)
    status, body = api.get("/api/v1/quality/measures?from=2026-03-01&to=2026-03-31", "quality")
    assert status == 200
    found = {m["id"]: m for m in body}
    assert {
        "safety_plan_24h",
        "crisis_follow_up_24h",
        "initial_evaluation_timely",
        "reviews_on_time",
        "fuh_7day",
        "tasks_on_time",
    } <= set(found)
    assert (found["tasks_on_time"]["numerator"], found["tasks_on_time"]["denominator"]) == (1, 2)
    assert found["tasks_on_time"]["rate"] == 0.5
    status, rows = api.get("/api/v1/quality/measures/tasks_on_time/cases?from=2026-03-01&to=2026-03-31", "supervisor")
    assert status == 200
    assert [(r["case_id"], r["met"]) for r in rows] == [(on_time, True), (late, False)]
    assert rows[1]["late_seconds"] == 2 * 3600 and rows[1]["done"].startswith("2026-03-03T11:00:00")
    assert set(rows[0]) >= {"case_id", "client_id", "met", "start", "due", "done"}
    with cp.db() as session:
        read = session.scalars(select(AuditEntry).where(AuditEntry.record_type == "quality_cases")).all()
    assert sorted((a.username, a.client_id, a.channel) for a in read) == [
        ("supervisor", rows[0]["client_id"], "api"),
        ("supervisor", rows[1]["client_id"], "api"),
    ]
    # Outside the period: nothing.
    assert api.get("/api/v1/quality/measures/tasks_on_time/cases?from=2026-04-01&to=2026-04-30", "quality") == (200, [])


def test_drill_down_pages_with_a_link_header(api, driver, clock):
    cases = [driver.new_case() for _ in range(3)]
    clock.advance(days=2)
    url = "/api/v1/quality/measures/tasks_on_time/cases?from=2026-03-01&to=2026-03-31&limit=2"
    first = api.client.get(url, headers={"Authorization": f"Bearer {api.token('quality')}"})
    assert first.status_code == 200 and len(first.get_json()) == 2
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    second = api.client.get(link[1 : link.index(">")], headers={"Authorization": f"Bearer {api.token('quality')}"})
    assert [r["case_id"] for r in first.get_json() + second.get_json()] == cases
    assert "Link" not in second.headers


@pytest.mark.parametrize("role", ["intake", "case_manager", "clinician", "crisis", "admin"])
def test_other_roles_are_refused(api, role):
    assert api.get("/api/v1/quality/measures", role)[0] == 403
    assert api.get("/api/v1/quality/measures/tasks_on_time/cases", role)[0] == 403


@pytest.mark.parametrize(
    "query, status",
    [("from=2026-13-01", 400), ("to=yesterday", 400), ("from=2026-03-10&to=2026-03-01", 400), ("from=2026-03-01", 200)],
)
def test_periods(api, query, status):
    got, body = api.get(f"/api/v1/quality/measures?{query}", "quality")
    assert got == status, body
    if status == 400:
        assert body["error"]["code"]


def test_unknown_measure_is_404(api):
    assert api.get("/api/v1/quality/measures/nonsense/cases", "quality")[0] == 404
