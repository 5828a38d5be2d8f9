"""Browser tests: the app served by a real HTTP server on 127.0.0.1 (one SQLite database per module,
seeded like the other tests), driven by Playwright with Debian's Chromium (never a downloaded one).

When a test fails, screenshots of the page it was on, and of the inbox, the last task page and the last
case file it saw, are saved under test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from browser_support import served
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.settings import Settings
from support import CaseDriver, actors_of
from ui_support import add_user, ensure_crisis_pathway

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium; `make test` does)"
        if os.environ.get("CAREPATH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)  # CI: a missing browser is a failure, never a quiet skip
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Live:
    """The served app and the engine behind it (same process, same database)."""

    def __init__(self, url: str, cp: Carepath):
        self.url, self.cp = url, cp
        self.driver = CaseDriver(cp, actors_of(cp))

    def new_case(self, given: str, family: str, **kw) -> int:
        return self.driver.new_case(given, family, **{"case_manager": "case_manager", **kw})

    def walk_to(self, case_id: int, form_id: str, answers: dict | None = None):
        """Complete tasks (routine answers) until one with `form_id` is open; return it."""
        d = self.driver
        d.walk(case_id, until=lambda: any(t.form_id == form_id for t in d.open_tasks(case_id)), answers=answers)
        return next(t for t in d.open_tasks(case_id) if t.form_id == form_id)

    def task(self, task_id: int):
        from carepath.engine.models import HumanTask

        with self.cp.db() as session:
            return session.get(HumanTask, task_id)


@pytest.fixture(scope="module")
def live(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "carepath.db"
    shutil.copyfile(sqlite_template, path)
    cp = Carepath(
        Settings(
            database_url=f"sqlite:///{path}",
            secret_key="browser-test-secret",
            sync_library_on_start=False,
            approval_episodes=3,
        ),
        FixedClock(T0),
    )
    ensure_crisis_pathway(cp)
    add_user(cp, "intake2", ["intake"])
    from carepath.web import create_app

    app = create_app(carepath=cp)
    with served(app, "carepath-live") as url:
        yield Live(url, cp)
    cp.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class Visits:
    """The last inbox, task page and case file a page showed, for the failure screenshots."""

    KINDS = {"inbox": re.compile(r"/inbox"), "task": re.compile(r"/tasks/\d+$"), "casefile": re.compile(r"/cases/\d+$")}

    def __init__(self):
        self.last: dict[str, str] = {}

    def saw(self, url: str) -> None:
        path = url.split("?")[0]
        for kind, pattern in self.KINDS.items():
            if pattern.search(path):
                self.last[kind] = url


def _screenshots(request, pages: list) -> None:
    """The page as it was, then the inbox, the last task page and the last case file each person saw."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::")[-1])[:120]
    ARTIFACTS.mkdir(exist_ok=True)
    for i, (page, visits) in enumerate(pages):
        prefix = ARTIFACTS / f"{name}-person{i + 1}"
        try:
            page.screenshot(path=f"{prefix}-now.png", full_page=True)
            for kind in ("inbox", "task", "casefile"):
                url = visits.last.get(kind) or ("/inbox" if kind == "inbox" else None)
                if url:
                    page.goto(url)
                    page.screenshot(path=f"{prefix}-{kind}.png", full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must never hide the failure itself
            continue


@pytest.fixture
def new_page(browser, live, request):
    """Open pages in fresh browser contexts (one person each): new_page() or new_page(java_script=False)."""
    contexts, pages = [], []

    def make(java_script: bool = True, viewport: dict | None = None):
        context = browser.new_context(
            base_url=live.url, java_script_enabled=java_script, viewport=viewport or {"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        visits = Visits()
        page.on("framenavigated", lambda frame: visits.saw(frame.url) if frame.parent_frame is None else None)
        contexts.append(context)
        pages.append((page, visits))
        return page

    yield make
    failed = any(
        getattr(request.node, f"report_{when}", None) is not None and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        _screenshots(request, pages)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
