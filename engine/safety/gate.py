"""The publishing gate: a library is published only if the pathway checker finds every safety invariant held,
or someone accepts the risk with a reason, which is kept with each version published.

`gated_publish` is what every way of publishing calls (the CLI today; a browser flow where a supervisor
approves a draft can call the same function with the draft's files).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from carepath.engine import library
from carepath.engine.errors import CarepathError
from carepath.engine.pathway_files import FileSet
from .checker import CheckReport, check_library

DEFAULT_EPISODES = 200
MIN_REASON = 10


class UnsafeLibrary(CarepathError):
    """The checker found a safety invariant broken; `report` has each violation with its reproduction."""
    code = "unsafe_library"

    def __init__(self, report: CheckReport):
        names = ", ".join(sorted({v.invariant for v in report.violations}))
        super().__init__(f"the pathway checker found {len(report.violations)} safety invariant(s) broken ({names}); "
                         "nothing was published. Fix the pathways, or publish with --accept-risk \"reason\".")
        self.report = report


@dataclass
class GateResult:
    report: CheckReport
    versions: list


def _record(report: CheckReport, accepted_risk: str | None) -> dict:
    return {"episodes": report.episodes, "tasks_completed": report.tasks_completed, "paths": len(report.paths),
            "seconds": round(report.seconds, 1), "accepted_risk": accepted_risk,
            "violations": [{"invariant": v.invariant, "message": v.message, "reproduction": v.reproduction}
                           for v in report.violations]}


def gated_publish(session: Session, files: FileSet, only: set[str], now: datetime, origin: str, by: str | None,
                  episodes: int = DEFAULT_EPISODES, seed: int = 0, accept_risk: str | None = None,
                  shrink_budget: int = 30) -> GateResult:
    """Check the whole library in `files` (the pathways in `only` as they would be published, with the rest of
    it), then publish `only`. Raises PathwayInvalid (files do not build), UnsafeLibrary (an invariant broken
    and no accepted risk), CarepathError (an accepted risk without a real reason)."""
    if accept_risk is not None and len(accept_risk.strip()) < MIN_REASON:
        raise CarepathError(f"--accept-risk needs a reason of at least {MIN_REASON} characters.")
    built = library.build(files, only=only)
    report = check_library(files, episodes=episodes, seed=seed, shrink_budget=shrink_budget)
    if report.violations and accept_risk is None:
        raise UnsafeLibrary(report)
    reason = accept_risk.strip() if report.violations and accept_risk else None
    rows = library.publish(session, built, now, origin=origin, by=by)
    for row in rows:
        row.accepted_risk = reason
        row.safety_check = _record(report, reason)
    return GateResult(report, rows)
