"""Quality pages: the measures table with its trend, a drill-down linking to case files, CSV downloads, the heat
map's figures, the event-log downloads (audited), and who may open them."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from carepath.engine.models import AuditEntry
from ui_support import StaffClient

PERIOD = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def worked(driver, clock):
    """Two intake referrals: one recorded on time, one a day late."""
    on_time, late = driver.new_case(), driver.new_case()
    clock.advance(hours=2)
    driver.complete((on_time, "record_referral"), {"urgency": "routine"})
    clock.advance(hours=24)
    driver.complete((late, "record_referral"), {"urgency": "routine"})
    return on_time, late


def test_quality_staff_find_the_measures_and_drill_down(app, worked):
    on_time, late = worked
    staff = StaffClient(app, "quality")
    inbox = staff.text("/inbox")
    assert 'href="/quality/"' in inbox  # the "Quality" link in the navigation
    page = staff.text(f"/quality/?{PERIOD}")
    assert 'data-measure="tasks_on_time"' in page and '<svg class="trend"' in page
    row = page[page.index('data-measure="tasks_on_time"') :]
    row = row[: row.index("</tr>")]
    assert 'class="num numerator">1<' in row and 'class="num denominator">2<' in row and "50%" in row
    drill = staff.text(f"/quality/measures/tasks_on_time?{PERIOD}")
    assert f'href="/cases/{on_time}"' in drill and f'href="/cases/{late}"' in drill
    assert "late by 2 hours" in drill
    table = staff.get(f"/quality/measures.csv?{PERIOD}")
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(table.get_data(as_text=True)))}
    assert (rows["tasks_on_time"]["numerator"], rows["tasks_on_time"]["denominator"]) == ("1", "2")
    cases = staff.get(f"/quality/measures/tasks_on_time/cases.csv?{PERIOD}")
    listed = list(csv.DictReader(io.StringIO(cases.get_data(as_text=True))))
    assert [(int(r["case_id"]), r["result"]) for r in listed] == [(on_time, "met"), (late, "missed")]


def test_the_heat_map_counts_each_step(app, worked):
    staff = StaffClient(app, "supervisor")
    page = staff.text(f"/quality/heatmap?pathway=intake&{PERIOD}")
    assert 'data-bpmn-url="/pathways/intake/versions/1/files/intake.bpmn"' in page
    table = page[page.index('class="heat-table"') :]
    assert '<code>record_referral</code></th><td class="num">2</td><td class="num">2</td>' in table
    assert '<code>asq_screen</code></th><td class="num">2</td>' in table
    assert staff.get("/quality/heatmap?pathway=nonsense").status_code == 404


def test_event_log_downloads_are_streamed_and_audited(app, cp, worked):
    staff = StaffClient(app, "quality")
    assert "events.xes" in staff.text(f"/quality/exports?{PERIOD}")
    got = staff.get(f"/quality/exports/events.csv?{PERIOD}")
    assert got.status_code == 200 and got.is_streamed
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    assert {r["activity"] for r in rows} >= {"record_referral", "case_opened"}
    assert (
        staff.get("/quality/exports/events.csv?from=2026-04-01&to=2026-04-30").get_data(as_text=True).count("\n") == 1
    )
    xes = ElementTree.fromstring(staff.get(f"/quality/exports/events.xes?{PERIOD}").get_data())
    ns = {"x": "http://www.xes-standard.org/"}
    assert len(xes.findall("x:trace", ns)) == 2
    assert staff.get(f"/quality/exports/events.pdf?{PERIOD}").status_code == 400
    with cp.db() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    assert [(e.username, e.detail["format"], e.detail["since"][:10]) for e in entries] == [
        ("quality", "csv", "2026-03-01"),
        ("quality", "csv", "2026-04-01"),
        ("quality", "xes", "2026-03-01"),
    ]


@pytest.mark.parametrize("role", ["intake", "case_manager", "clinician", "crisis", "admin"])
def test_only_quality_staff_and_supervisors_open_the_pages(app, role):
    staff = StaffClient(app, role)
    assert 'href="/quality/"' not in staff.text("/inbox")
    for path in (
        "/quality/",
        "/quality/measures/tasks_on_time",
        "/quality/measures.csv",
        "/quality/heatmap",
        "/quality/exports",
        "/quality/exports/events.csv",
    ):
        assert staff.get(path).status_code == 403, path
