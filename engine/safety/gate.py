"""The publishing gate: a library is published only if the pathway checker finds every safety invariant held,
or someone accepts the risk with a reason, which is kept with each version published.

Every way of publishing goes through `SafetyGate`: the CLI (`carepath pathways publish`), a supervisor's
approval of a draft and a roll back. The check runs many episodes and takes seconds to minutes, so it runs
first, outside any database transaction (`check`); the versions are then published in a short transaction
and the check's outcome recorded on each of them (`record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import library
from ..errors import CarepathError
from ..models import PathwayVersion
from ..pathway_files import FileSet
from .checker import CheckReport, check_library

DEFAULT_EPISODES = 200
MIN_REASON = 10


class UnsafeLibrary(CarepathError):
    """The checker found a safety invariant broken; `report` has each violation with its reproduction."""

    code = "unsafe_library"

    def __init__(self, report: CheckReport):
        names = ", ".join(sorted({v.invariant for v in report.violations}))
        super().__init__(
            f"the pathway checker found {len(report.violations)} safety invariant(s) broken ({names}); "
            'nothing was published. Fix the pathways, or publish with --accept-risk "reason".'
        )
        self.report = report


def _record(report: CheckReport, accepted_risk: str | None) -> dict[str, Any]:
    return {
        "episodes": report.episodes,
        "tasks_completed": report.tasks_completed,
        "paths": len(report.paths),
        "seconds": round(report.seconds, 1),
        "accepted_risk": accepted_risk,
        "violations": [
            {"invariant": v.invariant, "message": v.message, "reproduction": v.reproduction} for v in report.violations
        ],
    }


@dataclass
class SafetyGate:
    """The checker as a gate: how many episodes it runs before publishing, from which seed."""

    episodes: int = DEFAULT_EPISODES
    seed: int = 0
    shrink_budget: int = 30

    def check(self, files: FileSet, only: set[str], accept_risk: str | None = None) -> CheckReport:
        """Check the whole library in `files` (the pathways in `only` as they would be published, with the rest
        of it). Run it outside any transaction. Raises PathwayInvalid (the files do not build), UnsafeLibrary
        (an invariant broken and no accepted risk), CarepathError (an accepted risk without a real reason)."""
        if accept_risk is not None and len(accept_risk.strip()) < MIN_REASON:
            raise CarepathError(f"Accepting a safety risk needs a reason of at least {MIN_REASON} characters.")
        library.build(files, only=only)
        report = check_library(files, episodes=self.episodes, seed=self.seed, shrink_budget=self.shrink_budget)
        if report.violations and accept_risk is None:
            raise UnsafeLibrary(report)
        return report

    @staticmethod
    def record(versions: list[PathwayVersion], report: CheckReport, accept_risk: str | None) -> None:
        """Keep the check's figures and findings, and any accepted risk, on each version published."""
        reason = accept_risk.strip() if report.violations and accept_risk else None
        for row in versions:
            row.accepted_risk = reason
            row.safety_check = _record(report, reason)
