"""The pathway library: builds pathways from files, publishes them as versions, and serves parsed specs.

A pathway is one BPMN process plus the DMN tables, called processes and forms it uses; its version
changes when any of those files changes (by content hash). Instances keep the version they started
on, so a change reaches a client at the next hand-over, with no instance migration.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import pathway_files as pf
from .errors import Finding, PathwayInvalid
from .models import PathwayVersion
from .spiff import dump_spec, load_spec


@dataclass
class BuiltPathway:
    process_id: str
    name: str
    sources: dict[str, str]
    content_hash: str
    spec: dict[str, Any]
    start_messages: list[str]


@dataclass
class _Scanned:
    """The library's files parsed as XML, with who uses what; cheap enough to redo on every start."""

    files: pf.FileSet
    bpmn: dict[str, etree._Element]  # file name -> root element
    dmn: dict[str, etree._Element]
    decision_file: dict[str, str]  # decision id -> DMN file name
    findings: list[Finding]


def _scan(files: pf.FileSet) -> _Scanned:
    findings: list[Finding] = []
    bpmn: dict[str, etree._Element] = {}
    dmn: dict[str, etree._Element] = {}
    decision_file: dict[str, str] = {}
    for name in files.names(".bpmn"):
        root, errs = pf.parse_xml(files.files[name], name)
        findings += errs
        if root is not None:
            bpmn[name] = root
    for name in files.names(".dmn"):
        root, errs = pf.parse_xml(files.files[name], name)
        findings += errs
        if root is None:
            continue
        dmn[name] = root
        for decision in pf.decision_ids(root):
            if decision in decision_file:
                findings.append(
                    Finding(name, None, f"decision {decision!r} is also defined in {decision_file[decision]}")
                )
            decision_file[decision] = name
    return _Scanned(files, bpmn, dmn, decision_file, findings)


def _file_set_of(scan: _Scanned, bpmn_name: str) -> tuple[list[str], list[Finding]]:
    """The files one pathway is made of: its BPMN, called processes, DMN tables and forms."""
    findings, seen, todo = [], set(), [bpmn_name]
    names: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        names.add(name)
        root = scan.bpmn[name]
        for called in pf.called_processes(root):
            target = f"{called}.bpmn"
            if target in scan.bpmn:
                todo.append(target)
            else:
                findings.append(Finding(name, None, f"called process {called!r} not found ({target})"))
        for decision in pf.referenced_decisions(root):
            if decision in scan.decision_file:
                names.add(scan.decision_file[decision])
            else:
                findings.append(Finding(name, None, f"decision table {decision!r} not found in any .dmn file"))
        for form in pf.referenced_forms(root):
            if form in scan.files.files:
                names.add(form)
                ui = form.replace(".schema.json", ".ui.json")
                if ui in scan.files.files:
                    names.add(ui)
    return sorted(names), findings


def content_hash(sources: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def _check_all(scan: _Scanned, names: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    for name in names:
        if name.endswith(".bpmn"):
            try:
                VALIDATOR.validate(scan.bpmn[name], name)
            except ValidationException as exc:
                findings.append(Finding(name, getattr(exc, "line_number", None) or None, f"BPMN schema: {exc}"))
                continue
            findings += pf.check_bpmn(name, scan.bpmn[name], scan.files)
        elif name.endswith(".dmn"):
            findings += pf.check_dmn(name, scan.dmn[name])
        elif name.endswith(".json"):
            findings += pf.check_form(name, scan.files.files[name])[1]
    return findings


def _build_spec(scan: _Scanned, process_id: str, names: list[str]) -> tuple[Any, dict[str, Any]]:
    """The process's SpiffWorkflow spec and its called processes' specs (SpiffWorkflow has no types)."""
    parser = SpiffBpmnParser()  # XML schema already checked in _check_all
    for name in names:
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(etree.ElementTree(scan.bpmn[name]), name)
        elif name.endswith(".dmn"):
            parser.add_dmn_xml(scan.dmn[name], name)
    spec = parser.get_spec(process_id)
    return spec, parser.get_subprocess_specs(process_id)


def _start_messages(spec: Any) -> list[str]:
    names: set[str] = set()
    start = spec.task_specs.get("Start")
    for ts in start.outputs if start else []:
        event = getattr(ts, "event_definition", None)
        if isinstance(event, MessageEventDefinition):
            names.add(event.name)
    return sorted(names)


@dataclass
class Plan:
    """One pathway's file set in a library: its BPMN and every called process, DMN table and form it uses."""

    process_id: str
    names: list[str]
    sources: dict[str, str]
    content_hash: str


def _plan(scan: _Scanned, only: set[str] | None) -> tuple[list[Plan], list[Finding]]:
    findings = list(scan.findings)
    plans = []
    for bpmn_name in sorted(scan.bpmn):
        process_id = bpmn_name[: -len(".bpmn")]
        if only is not None and process_id not in only:
            continue
        names, errs = _file_set_of(scan, bpmn_name)
        findings += errs
        sources = {n: scan.files.files[n] for n in names}
        plans.append(Plan(process_id, names, sources, content_hash(sources)))
    return plans, findings


def plan(files: pf.FileSet, only: set[str] | None = None) -> list[Plan]:
    """Each pathway's file set (without checking or building anything): what a change to a file touches."""
    return _plan(_scan(files), only)[0]


def build_report(
    files: pf.FileSet, only: set[str] | None = None, skip_hashes: dict[str, set[str]] | None = None
) -> tuple[list[BuiltPathway], list[Finding], list[Plan]]:
    """Check and build every pathway in `files` (or those named in `only`), without raising.

    Returns the pathways that built, every finding (sorted, each once), and the plan of every pathway
    considered, built or not. A pathway whose content hash is in `skip_hashes[process_id]` is planned but
    neither checked nor built again."""
    scan = _scan(files)
    plans, findings = _plan(scan, only)
    checked: set[str] = set()
    broken: set[str] = set()  # files with findings: no pathway using one is built (one finding, not one each)
    built = []
    for plan in plans:
        if skip_hashes and plan.content_hash in skip_hashes.get(plan.process_id, set()):
            continue
        new_findings = _check_all(scan, [n for n in plan.names if n not in checked])
        checked.update(plan.names)
        findings += new_findings
        broken.update(f.file for f in new_findings)
        if new_findings or broken & set(plan.names):
            continue
        try:
            spec, subs = _build_spec(scan, plan.process_id, plan.names)
        except ValidationException as exc:
            findings.append(
                Finding(
                    getattr(exc, "file_name", "") or f"{plan.process_id}.bpmn",
                    getattr(exc, "line_number", None) or None,
                    str(exc)[:300],
                )
            )
            continue
        except Exception as exc:  # noqa: BLE001
            # SpiffWorkflow's parser meets diagrams from other tools with whatever error comes first (a
            # TypeError, a KeyError); an uploaded file must get a finding, never a crash.
            findings.append(
                Finding(
                    f"{plan.process_id}.bpmn",
                    None,
                    f"the engine cannot read this pathway ({type(exc).__name__}: {str(exc)[:200]})",
                )
            )
            continue
        built.append(
            BuiltPathway(
                plan.process_id,
                getattr(spec, "description", None) or plan.process_id,
                plan.sources,
                plan.content_hash,
                dump_spec(spec, subs),
                _start_messages(spec),
            )
        )
    return built, sorted(set(findings), key=lambda f: (f.file, f.line or 0, f.message)), plans


def build(
    files: pf.FileSet, only: set[str] | None = None, skip_hashes: dict[str, set[str]] | None = None
) -> list[BuiltPathway]:
    """Check and build every pathway in `files` (or those named in `only`); see build_report.

    Raises PathwayInvalid with every finding, so an agency sees all problems at once."""
    built, findings, _ = build_report(files, only, skip_hashes)
    if findings:
        raise PathwayInvalid(findings)
    return built


def validate(files: pf.FileSet) -> list[Finding]:
    """Every problem in the files, or an empty list."""
    try:
        build(files)
    except PathwayInvalid as exc:
        return exc.findings
    return []


def publish(
    session: Session,
    pathways: list[BuiltPathway],
    now: datetime,
    origin: str,
    by: str | None = None,
    reason: str | None = None,
) -> list[PathwayVersion]:
    """Make each pathway the current version of its process (a new version number each), saying why."""
    published = []
    for p in pathways:
        last = (
            session.scalar(
                select(PathwayVersion.version)
                .where(PathwayVersion.process_id == p.process_id)
                .order_by(PathwayVersion.version.desc())
                .limit(1)
            )
            or 0
        )
        session.execute(
            update(PathwayVersion).where(PathwayVersion.process_id == p.process_id).values(is_current=False)
        )
        row = PathwayVersion(
            process_id=p.process_id,
            version=last + 1,
            name=p.name,
            content_hash=p.content_hash,
            origin=origin,
            is_current=True,
            spec=p.spec,
            sources=p.sources,
            start_messages=p.start_messages,
            published_at=now,
            published_by=by,
            reason=reason,
        )
        session.add(row)
        published.append(row)
    session.flush()
    return published


def sync_library(db: sessionmaker[Session], files: pf.FileSet, now: datetime) -> list[PathwayVersion]:
    """Publish what changed in workflows/ and forms/ since they were last published from there.

    Versions published on purpose (CLI, upload) stay current until the library files change again.
    Safe to run from several processes at once: a lost race is retried against the winner's rows."""
    for _attempt in range(3):
        with db() as session:
            latest: dict[str, str] = {}
            for pid, digest in session.execute(
                select(PathwayVersion.process_id, PathwayVersion.content_hash)
                .where(PathwayVersion.origin == "library")
                .order_by(PathwayVersion.version)
            ):
                latest[pid] = digest
        built = build(files, skip_hashes={pid: {h} for pid, h in latest.items()})
        if not built:
            return []
        try:
            with db.begin() as session:
                return publish(session, built, now, origin="library")
        except IntegrityError:
            continue  # another process published the same files first
    return []


def list_versions(session: Session) -> list[dict[str, Any]]:
    """Every published version, oldest first per pathway, with which one is current."""
    rows = session.execute(
        select(
            PathwayVersion.process_id,
            PathwayVersion.version,
            PathwayVersion.name,
            PathwayVersion.is_current,
            PathwayVersion.origin,
            PathwayVersion.published_at,
            PathwayVersion.start_messages,
        ).order_by(PathwayVersion.process_id, PathwayVersion.version)
    ).all()
    return [
        {
            "pathway": r.process_id,
            "version": r.version,
            "name": r.name,
            "current": r.is_current,
            "origin": r.origin,
            "published_at": r.published_at.isoformat(),
            "started_by": r.start_messages,
        }
        for r in rows
    ]


@dataclass
class LoadedPathway:
    """A published version, parsed: shared by every instance of that version (never mutated)."""

    version_id: int
    process_id: str
    version: int
    spec: object
    subprocess_specs: dict[str, Any]
    sources: dict[str, str]

    def form(self, filename: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        schema_text = self.sources.get(filename)
        ui_text = self.sources.get(filename.replace(".schema.json", ".ui.json"))
        return (json.loads(schema_text) if schema_text else None, json.loads(ui_text) if ui_text else None)


class SpecCache:
    """Parsed specs by pathway version id. Versions are immutable, so the cache never goes stale."""

    def __init__(self) -> None:
        self._loaded: dict[int, LoadedPathway] = {}
        self._lock = threading.Lock()

    def by_id(self, session: Session, version_id: int) -> LoadedPathway:
        """The parsed version, reading its row only the first time this process needs it (a step names the
        version by id, and the row's spec and sources are read once per process)."""
        loaded = self._loaded.get(version_id)
        if loaded is not None:
            return loaded
        version = session.get(PathwayVersion, version_id)
        if version is None:
            raise LookupError(f"no pathway version {version_id}")
        return self.get(version)

    def get(self, version: PathwayVersion) -> LoadedPathway:
        loaded = self._loaded.get(version.id)
        if loaded is None:
            spec, subs = load_spec(version.spec)
            loaded = LoadedPathway(version.id, version.process_id, version.version, spec, subs, version.sources)
            with self._lock:
                self._loaded.setdefault(version.id, loaded)
        return loaded


def pathway_ids(session: Session) -> list[str]:
    """Every pathway with a published version, by id (what an inbox can be filtered by)."""
    return list(session.scalars(select(PathwayVersion.process_id).distinct().order_by(PathwayVersion.process_id)))
