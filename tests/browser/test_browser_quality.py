"""A quality user finds the measures, opens a drill-down, downloads its CSV, and opens the heat map: the
diagram is drawn with counts on it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def worked(live):
    """Two referrals: one recorded at once (its ASQ then left past its one-day deadline), one recorded late."""
    on_time, late = live.new_case("Quinn", "Quality"), live.new_case("Lara", "Late")
    live.driver.complete((on_time, "record_referral"), {"urgency": "routine"})
    live.cp.clock.advance(hours=25)
    live.driver.complete((late, "record_referral"), {"urgency": "routine"})
    return on_time, late


def test_quality_user_finds_measures_drills_down_and_downloads(page, live, worked, tmp_path):
    on_time, late = worked
    sign_in(page, "quality")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quality").click()
    expect(page.get_by_role("heading", name="Quality measures")).to_be_visible()
    row = page.locator('tr[data-measure="tasks_on_time"]')
    expect(row.locator(".numerator")).to_have_text("1")
    expect(row.locator(".denominator")).to_have_text("3")  # and the first one's ASQ, now overdue
    expect(row.get_by_role("img", name=re.compile("by month"))).to_be_visible()
    row.get_by_role("link", name="Tasks completed on time").click()
    expect(page.get_by_role("heading", name=re.compile("Tasks completed on time"))).to_be_visible()
    table = page.locator("table.drill-down")
    expect(table.get_by_role("link", name=f"Case {late}")).to_be_visible()
    expect(table.locator("tr", has_text=f"Case {late}")).to_contain_text("Missed")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download every case in this list (CSV)").click()
    saved = tmp_path / "cases.csv"
    info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("case_id,client_id,pathway,result")
    assert any(line.startswith(f"{late},") and ",missed," in line for line in lines)
    table.get_by_role("link", name=f"Case {on_time}", exact=True).first.click()
    expect(page.get_by_role("heading", name="Promises to Quinn")).to_be_visible()


def test_the_heat_map_draws_the_pathway_with_counts(page, live, worked):
    sign_in(page, "quality")
    page.goto("/quality/")
    page.get_by_role("link", name="Pathway heat map").click()
    page.get_by_label("Pathway", exact=True).select_option("intake")
    page.get_by_role("button", name="Show").click()
    canvas = page.locator("#heatmap")
    expect(canvas).to_have_attribute("data-drawn", "true")
    badge = canvas.locator(".heat-badge").first
    expect(badge).to_be_visible()
    expect(canvas.locator(".djs-overlay-heat", has_text="2×").first).to_be_visible()  # the referral, reached twice
    expect(canvas.locator(".flow-count").first).to_be_visible()
    expect(canvas.locator("g.djs-element.heat-4").first).to_be_attached()


def test_quality_pages_pass_the_accessibility_checks(page, live, worked):
    sign_in(page, "quality")
    for url in ("/quality/", "/quality/measures/tasks_on_time", "/quality/heatmap?pathway=intake", "/quality/exports"):
        page.goto(url)
        page.add_script_tag(url="/static/vendor/axe.min.js")
        found = page.evaluate(
            "() => axe.run({exclude: [['.diagram-canvas']]}).then(r => r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
        )
        assert found == [], f"{url}: {found}"
