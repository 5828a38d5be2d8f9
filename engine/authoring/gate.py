"""The one door from an approved change (or a roll back) to published versions: the safety gate's hook.

Publishing from the browser or the API goes through `publish_checked`, which hands the library-to-be to a
gate with the signature of the pathway checker's `gated_publish(session, files, only, now, origin, by,
episodes, seed, accept_risk)`: the gate checks the safety invariants over many episodes and publishes, or
raises `UnsafeLibrary` with each violation and its reproduction when no reason to accept the risk was given.

The pathway checker (engine/safety/) is not part of this build yet. Until it is, `UNCHECKED` stands in: it
publishes without running any episode and says so (`ran: false`), and every page that shows the result
says the change was not checked. Wiring the checker is one line: make `default_gate()` return
`carepath.engine.safety.gate.gated_publish`. A Carepath object's `safety_gate` attribute may name another
gate with the same signature (the tests use one that looks only at the files).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from carepath.engine import library
from carepath.engine.errors import BadRequest, CarepathError
from carepath.engine.models import PathwayVersion
from carepath.engine.pathway_files import FileSet

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

    def as_dict(self) -> dict:
        return {"ran": self.ran, "episodes": self.episodes, "tasks_completed": self.tasks_completed,
                "paths": self.paths, "seconds": round(self.seconds, 1),
                "violations": [{"invariant": v.invariant, "message": v.message, "reproduction": v.reproduction}
                               for v in self.violations]}


class UnsafeChange(CarepathError):
    """The checker found a safety invariant broken and no reason to accept the risk was given."""
    code = "unsafe_pathway"

    def __init__(self, report: Report):
        names = ", ".join(sorted({v.invariant for v in report.violations}))
        super().__init__(f"The pathway checker found {len(report.violations)} safety problem(s) ({names}); nothing "
                         "was published. Send the draft back, or approve it with a reason for accepting the risk.")
        self.report = report


class UnsafeLibrary(CarepathError):
    """What a gate raises with its report when an invariant is broken. The checker's own exception has the same
    name, code and `report`; stand-in gates (the tests') raise this one."""
    code = "unsafe_library"

    def __init__(self, report: Any):
        super().__init__("a safety invariant is broken")
        self.report = report


@dataclass
class _UncheckedResult:
    report: Any
    versions: list


def UNCHECKED(session: Session, files: FileSet, only: set[str], now: datetime, origin: str, by: str | None,
              episodes: int = 0, seed: int = 0, accept_risk: str | None = None) -> _UncheckedResult:
    """Stand-in for the checker until it is part of the build: publish, and report that nothing ran."""
    built = library.build(files, only=only)
    return _UncheckedResult(None, library.publish(session, built, now, origin=origin, by=by))


Gate = Callable[..., Any]


def default_gate() -> Gate:
    return UNCHECKED


def report_of(raw: Any) -> Report:
    """The gate's report (None when nothing ran) in the shape Carepath shows."""
    if raw is None:
        return Report(ran=False)
    paths = getattr(raw, "paths", 0)
    return Report(ran=True, episodes=getattr(raw, "episodes", 0), tasks_completed=getattr(raw, "tasks_completed", 0),
                  paths=len(paths) if isinstance(paths, (set, list, tuple)) else int(paths or 0),
                  seconds=float(getattr(raw, "seconds", 0.0)),
                  violations=[Violation(v.invariant, v.message, list(v.reproduction))
                              for v in getattr(raw, "violations", [])])


def check_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise BadRequest(f"{what} needs a reason of at least {MIN_REASON} characters.")
    return text


def publish_checked(gate: Gate, session: Session, files: FileSet, only: set[str], now: datetime, origin: str,
                    by: str, reason: str, accept_risk: str | None = None) -> tuple[list[PathwayVersion], Report]:
    """Publish `only` from `files` through the gate, recording why on every version.

    Raises PathwayInvalid (the files do not build), UnsafeChange (a safety invariant broken and no reason
    given to accept the risk; nothing is published), BadRequest (a reason to accept the risk that is too short)."""
    if accept_risk is not None:
        accept_risk = check_reason(accept_risk, "Accepting a safety risk")
    try:
        result = gate(session, files, only, now, origin, by, accept_risk=accept_risk)
    except CarepathError as exc:
        # The gate's refusal is known by its code and report, so the checker's own UnsafeLibrary is caught
        # without importing it: wiring the checker stays the one line in default_gate().
        if exc.code != UnsafeLibrary.code or not hasattr(exc, "report"):
            raise
        raise UnsafeChange(report_of(exc.report)) from None
    for row in result.versions:
        row.reason = reason
    return list(result.versions), report_of(result.report)
