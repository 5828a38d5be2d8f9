"""The authoring editors and imports in Chromium: a Camunda Modeler diagram opened, edited and saved keeps its
camunda: extensions and second pool; the form editor's preview is the staff renderer; the decision-table editor
changes a cell and keeps the rest of the file; a hostile upload is refused with findings; two versions compared.
No page breaks the Content-Security-Policy."""

from __future__ import annotations

import re

import foreign_diagrams as F
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from browser_support import sign_in
from carepath.engine.authoring_models import PathwayDraft
from support import actors_of

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(page, live):
    page.add_init_script(
        "window.cspViolations = []; document.addEventListener('securitypolicyviolation', "
        "e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    sign_in(page, "admin")
    return page


def _drafts(live) -> int:
    with live.cp.db() as session:
        return session.scalar(select(func.count()).select_from(PathwayDraft))


def _show_files(page):
    files = page.locator("details.files-list")
    if files.get_attribute("open") is None:
        files.locator("summary").click()


def _new_draft(page, pathway: str) -> str:
    page.goto(f"/pathways/{pathway}")
    page.get_by_role("button", name="Change this pathway").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    return page.url


def test_a_camunda_modeler_diagram_is_imported_edited_and_keeps_its_extensions(admin, live, tmp_path):
    upload = tmp_path / "follow_up_call.bpmn"
    upload.write_text(F.camunda_pools())
    admin.goto("/pathways/import")
    admin.get_by_label("Files or a zip").set_input_files(str(upload))
    admin.get_by_label(re.compile("What is this change")).fill("A follow-up call drawn in Camunda Modeler")
    admin.get_by_role("button", name="Import into a new draft").click()
    expect(admin.get_by_role("status").first).to_contain_text("0 error(s)")
    expect(admin.locator("ul.findings")).to_contain_text("camunda:")
    draft_id = int(admin.url.rsplit("/", 1)[-1])
    _show_files(admin)
    admin.get_by_role("link", name="Edit follow_up_call.bpmn").click()
    admin.wait_for_selector("body[data-editor-ready='true']")
    admin.locator('[data-element-id="call_client"]').click()
    admin.locator("#p-form").select_option("eligibility.schema.json")
    admin.locator('[data-element-id="call_client"]').click(modifiers=["Shift"])
    admin.locator('[data-element-id="end"]').click(modifiers=["Shift"])  # two selected: bpmn-js's multi-element pad
    admin.get_by_role("button", name="Save to the draft").click()
    expect(admin.locator("#findings")).to_contain_text("Saved")
    saved = live.cp.draft_file(actors_of(live.cp)["admin"], draft_id, "follow_up_call.bpmn")
    assert 'value="eligibility.schema.json"' in saved
    for kept in (
        'camunda:asyncBefore="true"',
        "camunda:executionListener",
        'camunda:historyTimeToLive="180"',
        'modeler:executionPlatform="Camunda Platform"',
        'camunda:inputParameter name="reason"',
        'id="Participant_client"',
        'id="Flow_msg_call"',
        'id="Activity_answer"',
    ):
        assert kept in saved, kept
    assert admin.evaluate("window.cspViolations") == []


def test_the_form_editor_previews_with_the_staff_renderer_and_saves(admin, live):
    draft_url = _new_draft(admin, "intake")
    _show_files(admin)
    admin.get_by_role("link", name="Edit consent.schema.json").click()
    admin.wait_for_selector("body[data-editor-ready='true']")
    preview = admin.locator("#preview")
    expect(preview.locator(".field").first).to_be_visible()
    admin.get_by_role("button", name="Add a question").click()
    question = admin.locator("li.question").last
    question.get_by_label("Question", exact=True).fill("Does the client need an interpreter?")
    question.get_by_label("Question", exact=True).press("Tab")
    question.get_by_label("Name in the task data").fill("interpreter_needed")
    question.get_by_label("Name in the task data").press("Tab")
    admin.locator("li.question").last.get_by_label("Kind of answer").select_option("boolean")
    expect(preview).to_contain_text("Does the client need an interpreter?")
    expect(preview.locator('input[type="radio"][name="interpreter_needed"]')).to_have_count(2)
    admin.get_by_role("button", name="Save to the draft").click()
    expect(admin.locator("#findings")).to_contain_text("Saved")
    admin.goto(draft_url)
    expect(admin.locator("table.changes-fields")).to_contain_text("Does the client need an interpreter?")
    assert admin.evaluate("window.cspViolations") == []


def test_the_decision_table_editor_changes_a_cell_and_keeps_the_rest(admin, live):
    draft_url = _new_draft(admin, "assessment")
    draft_id = int(draft_url.rsplit("/", 1)[-1])
    before = live.cp.draft_file(actors_of(live.cp)["admin"], draft_id, "risk_level.dmn")
    admin.goto(f"/pathways/drafts/{draft_id}/edit/risk_level.dmn")
    admin.wait_for_selector("body[data-editor-ready='true']")
    last_row = admin.locator("table.dmn-edit tbody tr").last
    expect(last_row.locator("input").last).to_have_value(re.compile("Everything else|."))
    output = last_row.get_by_label(re.compile("then risk_level"))
    expect(output).to_have_value('"low"')
    output.fill('"moderate"')
    output.press("Tab")
    admin.get_by_role("button", name="Save to the draft").click()
    expect(admin.locator("#findings")).to_contain_text("Saved. No problems found")
    after = live.cp.draft_file(actors_of(live.cp)["admin"], draft_id, "risk_level.dmn")
    assert after.count('"moderate"') == before.count('"moderate"') + 1
    assert "<documentation>" in after and after.count("<rule ") == before.count("<rule ")
    admin.goto(draft_url)
    expect(admin.locator("table.changes-rules")).to_contain_text('"moderate"')
    assert admin.evaluate("window.cspViolations") == []


def test_a_hostile_upload_is_refused_with_findings_and_writes_nothing(admin, live, tmp_path):
    before = _drafts(live)
    for name, text in (("xxe.bpmn", F.XXE), ("h_import.bpmn", F.with_script("h_import", "import os"))):
        upload = tmp_path / name
        upload.write_text(text)
        admin.goto("/pathways/import")
        admin.get_by_label("Files or a zip").set_input_files(str(upload))
        admin.get_by_role("button", name="Import into a new draft").click()
        expect(admin.get_by_role("alert")).to_contain_text("Nothing was imported")
        expect(admin.locator("#refused")).to_contain_text(name)
    expect(admin.locator("#refused")).to_contain_text("imports a module")
    assert _drafts(live) == before


def test_two_versions_compared_on_the_diagram_and_in_the_engine_s_terms(admin, live):
    actors = actors_of(live.cp)
    files = live.cp.pathway_version_files(actors["admin"], "planning", 1)
    bpmn = files["planning.bpmn"].replace("value='\"P14D\"'", "value='\"P10D\"'", 1)
    assert bpmn != files["planning.bpmn"]
    draft, _ = live.cp.create_draft(actors["admin"], {"planning.bpmn": bpmn}, "Plans due in ten days", submitted=True)
    [published] = live.cp.approve_draft(actors["supervisor"], draft["id"])
    admin.goto(f"/pathways/planning/compare?from=1&to={published['version']}")
    section = admin.locator(".diagram-diff[data-compared='true']")
    expect(section.locator(".diff-list")).to_contain_text("changed")
    expect(admin.locator(".djs-element.diff-changed").first).to_be_attached()
    expect(admin.locator("table.changes-elements")).to_contain_text('"P10D"')
    expect(admin.locator(".bjs-powered-by").first).to_be_visible()
    assert admin.evaluate("window.cspViolations") == []


def test_a_signavio_export_is_made_runnable_in_the_editor(admin, live, tmp_path):
    """Kept in a draft with its error; with nothing selected, the panel makes its process the executable one."""
    upload = tmp_path / "signavio_intake.bpmn"
    upload.write_text(F.signavio_export())
    admin.goto("/pathways/import")
    admin.get_by_label("Files or a zip").set_input_files(str(upload))
    admin.get_by_role("button", name="Import into a new draft").click()
    expect(admin.locator("ul.findings li.finding-error")).to_contain_text("exactly one executable process")
    _show_files(admin)
    admin.get_by_role("link", name="Edit signavio_intake.bpmn").click()
    admin.wait_for_selector("body[data-editor-ready='true']")
    expect(admin.locator("#p-process-0")).to_have_value("signavio_intake")
    admin.get_by_label("Carepath runs this process (executable)").check()
    admin.get_by_role("button", name="Save to the draft").click()
    expect(admin.locator("#findings")).to_contain_text("Saved.")
    expect(admin.locator("#findings")).not_to_contain_text("exactly one executable process")
    expect(admin.locator("#findings")).to_contain_text("signavio:")  # its extensions are still there, and said so
    assert admin.evaluate("window.cspViolations") == []
