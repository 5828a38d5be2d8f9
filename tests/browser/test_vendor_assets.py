"""The vendored browser libraries in web/static/vendor/ (built by `make vendor`, see that folder's README) work
in Debian's Chromium under the app's own Content-Security-Policy.

The real app serves them (its static route and its security headers), with small test pages from
tests/browser/vendor_pages/ mounted at /vendor-test/ on the same origin, so the pages get exactly the policy
app pages get. Each page records every CSP violation (csp-probe.js); a test fails on any violation and on
any script error, so a bundle that needs eval, an inline style or a data: font shows up here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Blueprint, Response, abort, send_from_directory
from lxml import etree

from browser_support import served
from carepath.engine.settings import Settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "vendor_pages"
VENDOR = ROOT / "web" / "static" / "vendor"
LOCK = ROOT / "assets-src" / "package-lock.json"
INTAKE = ROOT / "workflows" / "intake.bpmn"
BPMN = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
RENAMED = "Record the referral and its urgency"  # the name the modeler page and the modified copy give record_referral
TIMEOUT_MS = 15_000


def _renamed_intake() -> bytes:
    tree = etree.parse(str(INTAKE))
    task = tree.find(".//bpmn:userTask[@id='record_referral']", BPMN)
    task.set("name", RENAMED)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _user_tasks() -> dict[str, str]:
    tree = etree.parse(str(INTAKE))
    return {t.get("id"): t.get("name") for t in tree.iterfind(".//bpmn:userTask", BPMN)}


def _locked_version(package: str) -> str:
    return json.loads(LOCK.read_text())["packages"][f"node_modules/{package}"]["version"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on 127.0.0.1 with the test pages at /vendor-test/ (no database is touched: static files only)."""
    from carepath.web import create_app

    tmp = tmp_path_factory.mktemp("vendor")
    settings = Settings(
        instance_dir=tmp,
        database_url=f"sqlite:///{tmp / 'unused.db'}",
        secret_key="vendor-test-secret",
        sync_library_on_start=False,
    )
    app = create_app(settings)
    documents = {"intake.bpmn": INTAKE.read_bytes, "intake-modified.bpmn": _renamed_intake}
    pages = Blueprint("vendor_test", __name__, url_prefix="/vendor-test")

    @pages.get("/workflows/<name>")
    def workflow(name):
        if name not in documents:
            abort(404)
        return Response(documents[name](), mimetype="application/xml")

    @pages.get("/<path:name>")
    def page(name):
        return send_from_directory(PAGES, name)

    app.register_blueprint(pages)
    with served(app, "carepath-vendor") as url:
        yield url
    app.extensions["carepath"].close()


class Opened:
    """A test page. Wait on it with function predicates only ("() => ..."): Playwright evaluates a bare
    expression with eval() in the page, which script-src 'self' blocks."""

    def __init__(self, page, errors: list[str]):
        self.page, self.errors = page, errors

    def result(self) -> dict:
        """What the page's script left in window.result (it fails the test if the script caught an error)."""
        self.page.wait_for_function("() => window.result !== undefined", timeout=TIMEOUT_MS)
        result = self.page.evaluate("window.result")
        assert "error" not in result, result["error"]
        return result

    def assert_clean(self) -> None:
        """No script error and no CSP violation on the page, from loading it until now."""
        assert self.page.evaluate("window.cspViolations") == []
        assert self.errors == []


@pytest.fixture
def open_page(browser, site):
    contexts = []

    def open_(name: str) -> Opened:
        context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto(f"/vendor-test/{name}")
        assert response.ok
        return Opened(page, errors)

    yield open_
    for context in contexts:
        context.close()


def test_the_pages_get_the_apps_strict_policy(open_page):
    """What the other tests prove holds for this policy: no eval, no inline scripts or styles, fonts from 'self'."""
    opened = open_page("viewer.html")
    for url in ("/vendor-test/viewer.html", "/static/vendor/bpmn-viewer.js"):
        policy = opened.page.request.get(url).headers["content-security-policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives["script-src"] == ["'self'"], policy
        assert directives["style-src"] == ["'self'"], policy
        assert directives["default-src"] == ["'self'"], policy
        assert not {"font-src", "style-src-attr", "style-src-elem", "script-src-elem"} & set(directives), policy


def test_viewer_draws_the_intake_pathway_and_a_count_on_a_task(open_page):
    opened = open_page("viewer.html")
    result = opened.result()
    assert result["warnings"] == []
    page = opened.page
    for task_id in _user_tasks():
        shape = page.locator(f'.djs-element.djs-shape[data-element-id="{task_id}"]')
        assert shape.locator(":scope > .djs-visual > rect").count() == 1, task_id
    # the page's own overlay (a count drawn on the first task) and its heat marker
    badge = page.locator(f'.djs-overlay[data-overlay-id="{result["overlayId"]}"] .heat-count')
    assert badge.inner_text() == "12"
    assert badge.is_visible()
    assert "heat-high" in page.locator('.djs-element[data-element-id="record_referral"]').get_attribute("class")
    # and one more, added from outside the way a heat map adds a count per task
    overlay_id = page.evaluate("""() => {
        const badge = document.createElement('span');
        badge.className = 'heat-count';
        badge.textContent = '3';
        return viewer.get('overlays').add('check_eligibility', 'heat', {position: {bottom: 0, left: 0}, html: badge});
    }""")
    assert page.locator(f'.djs-overlay[data-overlay-id="{overlay_id}"] .heat-count').inner_text() == "3"
    assert page.evaluate("viewer.get('overlays').get({element: 'check_eligibility', type: 'heat'}).length") == 1
    opened.assert_clean()


def test_modeler_renames_a_task_and_exports_the_change(open_page):
    opened = open_page("modeler.html")
    result = opened.result()
    assert result["warnings"] == []
    exported = etree.fromstring(result["xml"].encode())
    names = {t.get("id"): t.get("name") for t in exported.iterfind(".//bpmn:userTask", BPMN)}
    assert names == {**_user_tasks(), "record_referral": RENAMED}
    page = opened.page
    assert "urgency" in page.locator('.djs-element[data-element-id="record_referral"] .djs-label').text_content()
    # the editing UI works under the policy too: palette and context pad, with the icon font from 'self'
    assert page.locator(".djs-palette .entry").count() > 5
    page.evaluate("modeler.get('selection').select(modeler.get('elementRegistry').get('check_eligibility'))")
    assert page.locator(".djs-context-pad .entry").count() > 3
    fonts = page.evaluate("""() => document.fonts.ready.then(
        fonts => Array.from(fonts).filter(f => f.family === 'bpmn').map(f => f.status))""")
    opened.assert_clean()
    assert "loaded" in fonts


def test_differ_reports_the_renamed_task(open_page):
    opened = open_page("differ.html")
    result = opened.result()
    assert list(result["changed"]) == ["record_referral"]
    # bpmn-js-differ 3.2.0 labels a changed value's two sides the wrong way round (oldValue is the new one),
    # so only the pair is checked here.
    change = result["changed"]["record_referral"]["name"]
    assert {change["oldValue"], change["newValue"]} == {_user_tasks()["record_referral"], RENAMED}
    assert result["added"] == [] and result["removed"] == [] and result["layoutChanged"] == []
    opened.assert_clean()


def test_axe_runs_on_a_page_and_finds_the_unlabelled_field(open_page):
    opened = open_page("a11y.html")
    page = opened.page
    # Injected by URL, as the browser tests will do on app pages (add_script_tag(path=...) would be an inline
    # script, which script-src 'self' blocks).
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("""() => axe.run().then(r => ({
        version: r.testEngine.version, violations: r.violations.map(v => v.id), passes: r.passes.length,
        keys: Object.keys(r).sort()}))""")
    assert result["version"] == _locked_version("axe-core")
    assert {"violations", "passes", "incomplete", "inapplicable"} <= set(result["keys"])
    assert result["violations"] == ["label"]
    assert result["passes"] > 0
    opened.assert_clean()


def test_the_shipped_bundles_have_no_eval_and_are_listed():
    readme = (VENDOR / "README.md").read_text()
    for bundle in ("bpmn-viewer.js", "bpmn-modeler.js", "bpmn-differ.js"):
        code = (VENDOR / bundle).read_text()
        assert not re.search(r"\beval\(|new Function\b", code), bundle
        assert f"`{bundle}`" in readme
    for package in ("bpmn-js", "bpmn-js-differ", "bpmn-moddle", "axe-core"):
        assert f"| {package} | {_locked_version(package)} |" in readme, package
    for path in VENDOR.rglob("*"):
        if path.is_file() and path.parent.name != "LICENSES" and path.name != "README.md":
            assert f"`{path.relative_to(VENDOR).as_posix()}`" in readme, path
