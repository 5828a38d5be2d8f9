"""The pathway checker and the publishing gate: the shipped library holds every safety invariant over a
budgeted run (the deep run is `carepath pathways check --episodes 2000`, see docs/pathways.md), and the
library as it was before issue 8 is found unsafe by the checker on its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from carepath.engine.models import PathwayVersion
from carepath.engine.pathway_files import FileSet
from carepath.engine.safety.checker import check_library
from carepath.engine.safety.gate import SafetyGate, UnsafeLibrary
from carepath.engine.safety.invariants import INVARIANTS

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_8 = "c8a8210"
# A few tens of seconds in `make test`; the deep run is documented in docs/pathways.md.
SUITE_EPISODES = 8


def library() -> FileSet:
    files, findings = FileSet.from_library(ROOT / "workflows", ROOT / "forms")
    assert not findings
    return files


def old_library(tmp_path) -> FileSet:
    for folder in ("workflows", "forms"):
        (tmp_path / folder).mkdir()
        names = subprocess.run(
            ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{BEFORE_ISSUE_8}:{folder}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for name in names:
            text = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{BEFORE_ISSUE_8}:{folder}/{name}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            (tmp_path / folder / name).write_text(text)
    files, findings = FileSet.from_library(tmp_path / "workflows", tmp_path / "forms")
    assert not findings
    return files


def test_the_shipped_library_holds_every_invariant():
    report = check_library(library(), episodes=SUITE_EPISODES, seed=0)
    assert report.ok, report.text()
    assert report.episodes == SUITE_EPISODES and report.tasks_completed > 10 * SUITE_EPISODES
    assert len(report.paths) > SUITE_EPISODES // 2


def test_the_checker_finds_the_old_pathways_unsafe_by_itself(tmp_path):
    report = check_library(old_library(tmp_path), episodes=6, seed=0, shrink_budget=0)
    found = {v.invariant for v in report.violations}
    # 1 and 2: closing at intake or on discharge ends safety work silently; 7: two safety plans at once.
    assert {"no_silent_cancellation", "no_close_over_safety_work", "screen_gets_safety_plan"} & found
    assert "no_close_over_safety_work" in found and "one_safety_plan_at_a_time" in found
    reproduction = next(v for v in report.violations if v.invariant == "one_safety_plan_at_a_time").reproduction
    assert any("asq_screen" in step or "phq9" in step or "safety_plan_needed" in step for step in reproduction)


def test_the_checker_is_deterministic_for_a_seed():
    first = check_library(library(), episodes=2, seed=42)
    second = check_library(library(), episodes=2, seed=42)
    assert first.paths == second.paths and first.tasks_completed == second.tasks_completed


def test_every_invariant_has_an_id_a_statement_and_a_check():
    ids = [inv.id for inv in INVARIANTS]
    assert len(ids) == len(set(ids)) >= 10
    assert all(inv.statement.endswith(".") and callable(inv.check) for inv in INVARIANTS)


def test_publishing_an_unsafe_library_is_refused_unless_the_risk_is_accepted(cp, tmp_path):
    old = old_library(tmp_path)
    files = FileSet({**library().files, "safety_planning.bpmn": old.files["safety_planning.bpmn"]})
    gate = SafetyGate(episodes=4, seed=3, shrink_budget=0)
    with pytest.raises(UnsafeLibrary) as refused:
        cp.publish_files(files, {"safety_planning"}, "cli", gate)
    assert refused.value.report.violations and "reproduction" in str(refused.value.report.violations[0])
    rows, report = cp.publish_files(
        files, {"safety_planning"}, "cli", gate, accept_risk="Pilot site only; joined plans come in version 3."
    )
    assert report.violations
    with cp.db() as session:
        row = session.scalar(
            select(PathwayVersion).where(
                PathwayVersion.process_id == "safety_planning", PathwayVersion.version == rows[0][1]
            )
        )
        assert row.accepted_risk == "Pilot site only; joined plans come in version 3."
        assert row.safety_check["violations"] and row.safety_check["episodes"] == 4
