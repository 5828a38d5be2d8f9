"""The one door from an approved change (or a roll back) to published versions: the safety gate.

A gate has the pathway checker's interface (engine/safety/gate.py `SafetyGate`): `check(files, only,
accept_risk)` runs the safety invariants over many episodes, outside any transaction, and returns its report
or raises `UnsafeLibrary` with each violation and its reproduction when no reason to accept the risk was
given; `record(versions, report, accept_risk)` keeps the outcome on the versions published. The Carepath
object's `safety_gate` is the real checker; the tests may put a gate of their own there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from .. import library
from ..errors import BadRequest, CarepathError
from ..models import PathwayVersion
from ..pathway_files import FileSet

MIN_REASON = 10  # characters: a reason someone could act on later, not "ok"


@dataclass
class Violation:
    invariant: str
    message: str
    reproduction: list[str]


@dataclass
class Report:
    """The checker's report, as pages, the API and the draft's record show it."""

    ran: bool
    violations: list[Violation] = field(default_factory=list)
    episodes: int = 0
    tasks_completed: int = 0
    paths: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "episodes": self.episodes,
            "tasks_completed": self.tasks_completed,
            "paths": self.paths,
            "seconds": round(self.seconds, 1),
            "violations": [
                {"invariant": v.invariant, "message": v.message, "reproduction": v.reproduction}
                for v in self.violations
            ],
        }


class UnsafeChange(CarepathError):
    """The checker found a safety invariant broken and no reason to accept the risk was given."""

    code = "unsafe_pathway"

    def __init__(self, report: Report):
        names = ", ".join(sorted({v.invariant for v in report.violations}))
        super().__init__(
            f"The pathway checker found {len(report.violations)} safety problem(s) ({names}); nothing "
            "was published. Send the draft back, or approve it with a reason for accepting the risk."
        )
        self.report = report


class UnsafeLibrary(CarepathError):
    """What a gate raises with its report when an invariant is broken. The checker's own exception has the same
    name, code and `report`; stand-in gates (the tests') raise this one."""

    code = "unsafe_library"

    def __init__(self, report: Any):
        super().__init__("a safety invariant is broken")
        self.report = report


class Gate(Protocol):
    def check(self, files: FileSet, only: set[str], accept_risk: str | None = None) -> Any: ...

    def record(self, versions: list[PathwayVersion], report: Any, accept_risk: str | None) -> None: ...


def report_of(raw: Any) -> Report:
    """The gate's report (None when nothing ran) in the shape Carepath shows."""
    if raw is None:
        return Report(ran=False)
    paths = getattr(raw, "paths", 0)
    return Report(
        ran=True,
        episodes=getattr(raw, "episodes", 0),
        tasks_completed=getattr(raw, "tasks_completed", 0),
        paths=len(paths) if isinstance(paths, (set, list, tuple)) else int(paths or 0),
        seconds=float(getattr(raw, "seconds", 0.0)),
        violations=[Violation(v.invariant, v.message, list(v.reproduction)) for v in getattr(raw, "violations", [])],
    )


def check_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise BadRequest(f"{what} needs a reason of at least {MIN_REASON} characters.")
    return text


def check(gate: Gate, files: FileSet, only: set[str], accept_risk: str | None = None) -> tuple[Any, Report]:
    """Run the gate's check, outside any transaction: its raw report and the report Carepath shows.

    Raises PathwayInvalid (the files do not build), UnsafeChange (a safety invariant broken and no reason given
    to accept the risk), BadRequest (a reason to accept the risk that is too short)."""
    if accept_risk is not None:
        accept_risk = check_reason(accept_risk, "Accepting a safety risk")
    try:
        raw = gate.check(files, only, accept_risk=accept_risk)
    except CarepathError as exc:
        # The gate's refusal is known by its code and report (the checker's UnsafeLibrary, or a test gate's).
        if exc.code != UnsafeLibrary.code or not hasattr(exc, "report"):
            raise
        raise UnsafeChange(report_of(exc.report)) from None
    return raw, report_of(raw)


def publish(
    gate: Gate,
    session: Session,
    files: FileSet,
    only: set[str],
    now: datetime,
    origin: str,
    by: str,
    reason: str,
    raw: Any,
    accept_risk: str | None = None,
) -> list[PathwayVersion]:
    """In the publishing transaction, after `check`: publish `only` from `files`, recording why and the check."""
    versions = library.publish(session, library.build(files, only=only), now, origin=origin, by=by, reason=reason)
    gate.record(versions, raw, accept_risk)
    return versions
