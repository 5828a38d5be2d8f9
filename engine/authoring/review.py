"""A draft's files judged against the published library: what is refused, which pathways the change touches,
the full file set it must carry, and every finding with its file, line and element.

The published library is the union of the current versions' files (a later publication wins for a file two
pathways share). A draft's files are laid over it; a pathway is touched when one of the draft's files that
differs from the library is among its files (or is its BPMN) and its content hash changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import library as lib
from .. import pathway_files as pf
from ..errors import Finding
from ..models import PathwayVersion
from .checks import bpmn_notes, locate, refusals

MAX_FILES = 200
MAX_TOTAL_BYTES = 20_000_000


@dataclass(frozen=True)
class CurrentVersion:
    pathway: str
    version: int
    content_hash: str
    names: frozenset[str]


@dataclass
class Library:
    """The published library as one file set, and each pathway's current version."""

    files: dict[str, str]
    current: dict[str, CurrentVersion]

    def users_of(self, names: Iterable[str]) -> set[str]:
        """Pathways whose current version uses any of these files."""
        names = set(names)
        return {p for p, cur in self.current.items() if cur.names & names}


def current_library(session: Session) -> Library:
    rows = session.execute(
        select(PathwayVersion.process_id, PathwayVersion.version, PathwayVersion.content_hash, PathwayVersion.sources)
        .where(PathwayVersion.is_current.is_(True))
        .order_by(PathwayVersion.published_at, PathwayVersion.id)
    ).all()
    files: dict[str, str] = {}
    current = {}
    for r in rows:
        files.update(r.sources)
        current[r.process_id] = CurrentVersion(r.process_id, r.version, r.content_hash, frozenset(r.sources))
    return Library(files, current)


@dataclass
class Review:
    refused: list[Finding] = field(default_factory=list)  # files that must not be kept (nothing is written)
    findings: list[Finding] = field(default_factory=list)  # errors and warnings on the kept files
    files: dict[str, str] = field(default_factory=dict)  # the draft's full file set
    pathways: list[str] = field(default_factory=list)  # pathways the change touches
    base: dict[str, int] = field(default_factory=dict)  # pathway -> current version the draft was judged on

    @property
    def errors(self) -> list[Finding]:
        return self.refused + [f for f in self.findings if f.severity == "error"]

    @property
    def everything(self) -> list[Finding]:
        return self.refused + self.findings


def refuse_files(given: dict[str, str]) -> list[Finding]:
    """Refusals for a whole set of files: too many, too large together, or any one file refused."""
    if len(given) > MAX_FILES:
        return [Finding("(upload)", None, f"{len(given)} files: a draft holds at most {MAX_FILES}")]
    if sum(len(t.encode("utf-8", "surrogatepass")) for t in given.values()) > MAX_TOTAL_BYTES:
        return [Finding("(upload)", None, f"the files add up to more than {MAX_TOTAL_BYTES // 1_000_000} MB")]
    found: list[Finding] = []
    for name in sorted(given):
        found += refusals(name, given[name])
    return found


def review(library: Library, given: dict[str, str]) -> Review:
    """Judge `given` (a draft's files) over the library. Never raises for what is in the files."""
    refused = refuse_files(given)
    if refused:
        return Review(refused=refused)
    changed = {n for n, t in given.items() if library.files.get(n) != t}
    overlay = pf.FileSet({**library.files, **given})
    candidates = {n[: -len(".bpmn")] for n in changed if n.endswith(".bpmn")} | library.users_of(changed)
    skip = {p: {cur.content_hash} for p, cur in library.current.items()}
    _built, findings, plans = lib.build_report(overlay, only=candidates, skip_hashes=skip)
    touched = [
        p
        for p in plans
        if p.process_id not in library.current or p.content_hash != library.current[p.process_id].content_hash
    ]
    findings = [f for f in findings if f.file in overlay.files or f.file.endswith(".bpmn")]
    for name in sorted(n for n in changed if n.endswith(".bpmn")):
        findings += bpmn_notes(name, given[name])
    used = set().union(*(p.names for p in touched)) if touched else set()
    for name in sorted(changed - used - {n for n in changed if n.endswith(".bpmn")}):
        findings += _orphan(name, given[name], library)
    if not touched and not (changed - used):
        findings.append(
            Finding(
                "(draft)",
                None,
                "this draft changes nothing yet: it holds the published files as they are",
                severity="warning",
            )
        )
    files = dict(given)
    for plan in touched:
        files.update(plan.sources)
    base = {
        p: library.current[p].version
        for p in library.users_of(files) | {t.process_id for t in touched}
        if p in library.current
    }
    return Review(
        findings=locate(_unique(findings), overlay.files),
        files=files,
        pathways=sorted(p.process_id for p in touched),
        base=base,
    )


def _orphan(name: str, text: str, library: Library) -> list[Finding]:
    """A changed file no touched pathway uses: still checked, and the author told it will not be published."""
    found: list[Finding] = []
    if name.endswith(".json"):
        found += pf.check_form(name, text)[1]
    elif name.endswith(".dmn"):
        root, errs = pf.parse_xml(text, name)
        found += errs if root is None else pf.check_dmn(name, root)
    if not library.users_of({name}):
        found.append(
            Finding(
                name,
                None,
                "no pathway uses this file yet: it stays in the draft but is not published until a pathway names it",
                severity="warning",
            )
        )
    return found


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in sorted(findings, key=lambda f: (f.file, f.line or 0, f.severity, f.message)):
        key = (f.file, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
