"""The pathway library as its pages show it: every pathway with its versions (who published each, when, why,
which is current, how many running instances sit on it), a version's files, a version as a zip, and rolling
back (an earlier version published again as the newest)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor
from ..authoring_models import PathwayDraft
from ..errors import NotFound
from ..models import PathwayInstance, PathwayVersion
from ..pathway_files import FileSet
from ..states import InstanceStatus
from .drafts import READERS, Status
from .review import current_library
from .tables import message_names, process_documentation

ROLLBACK = frozenset({"admin", "supervisor"})  # put an earlier version back; a reason is always recorded
OPEN_DRAFTS = (Status.EDITING, Status.SUBMITTED, Status.RETURNED)
ZIP_FOLDERS = {".bpmn": "workflows", ".dmn": "workflows", ".json": "forms"}


def _running(session: Session, pathway: str | None = None) -> dict[int, int]:
    """Running instances per pathway version id."""
    stmt = (
        select(PathwayInstance.pathway_version_id, func.count())
        .where(PathwayInstance.status == InstanceStatus.RUNNING)
        .group_by(PathwayInstance.pathway_version_id)
    )
    if pathway is not None:
        stmt = stmt.where(PathwayInstance.process_id == pathway)
    return dict(session.execute(stmt).all())


def _version_row(v: Row[*tuple[Any, ...]], running: dict[int, int], drafts: dict[int, str]) -> dict[str, Any]:
    return {
        "version": v.version,
        "name": v.name,
        "current": v.is_current,
        "origin": v.origin,
        "published_at": v.published_at.isoformat(),
        "published_by": v.published_by,
        "reason": v.reason,
        "draft_id": v.draft_id,
        "draft_author": drafts.get(v.draft_id),
        "running": running.get(v.id, 0),
    }


_VERSION_COLUMNS = (
    PathwayVersion.id,
    PathwayVersion.process_id,
    PathwayVersion.version,
    PathwayVersion.name,
    PathwayVersion.is_current,
    PathwayVersion.origin,
    PathwayVersion.published_at,
    PathwayVersion.published_by,
    PathwayVersion.reason,
    PathwayVersion.draft_id,
)


def _authors(session: Session) -> dict[int, str]:
    return dict(session.execute(select(PathwayDraft.id, PathwayDraft.author)).all())


def overview(session: Session, actor: Actor) -> dict[str, Any]:
    """Every pathway (current version, how many versions, running instances) and the drafts in progress."""
    actor.require(READERS, "read the pathway library")
    running = _running(session)
    pathways: dict[str, dict[str, Any]] = {}
    for v in session.execute(select(*_VERSION_COLUMNS).order_by(PathwayVersion.process_id, PathwayVersion.version)):
        p = pathways.setdefault(v.process_id, {"pathway": v.process_id, "versions": 0, "running": 0, "current": None})
        p["versions"] += 1
        p["running"] += running.get(v.id, 0)
        if v.is_current:
            p["current"] = _version_row(v, running, {})
    drafts = [
        draft_row(d)
        for d in session.scalars(
            select(PathwayDraft).where(PathwayDraft.status.in_(OPEN_DRAFTS)).order_by(PathwayDraft.updated_at.desc())
        )
    ]
    return {"pathways": sorted(pathways.values(), key=lambda p: p["pathway"]), "drafts": drafts}


def draft_row(d: PathwayDraft) -> dict[str, Any]:
    errors = sum(1 for f in d.findings or [] if f.get("severity", "error") == "error")
    return {
        "id": d.id,
        "title": d.title,
        "status": d.status,
        "author": d.author,
        "pathways": d.pathways,
        "created_at": d.created_at.isoformat(),
        "updated_at": d.updated_at.isoformat(),
        "errors": errors,
        "warnings": len(d.findings or []) - errors,
        "reviewed_by": d.reviewed_by,
        "published": d.published,
    }


def history(session: Session, actor: Actor, pathway: str) -> dict[str, Any]:
    """A pathway's versions, newest first, with the current version's files and the drafts that touch it."""
    actor.require(READERS, "read the pathway library")
    running, authors = _running(session, pathway), _authors(session)
    rows = session.execute(
        select(*_VERSION_COLUMNS).where(PathwayVersion.process_id == pathway).order_by(PathwayVersion.version.desc())
    ).all()
    if not rows:
        raise NotFound(f"There is no pathway {pathway!r}.")
    versions = [_version_row(v, running, authors) for v in rows]
    current = next((v for v in versions if v["current"]), versions[0])
    sources = version_sources(session, actor, pathway, current["version"])
    drafts = [
        draft_row(d)
        for d in session.scalars(
            select(PathwayDraft).where(PathwayDraft.status.in_(OPEN_DRAFTS)).order_by(PathwayDraft.updated_at.desc())
        )
        if pathway in (d.pathways or []) or pathway in (d.base or {})
    ]
    return {
        "pathway": pathway,
        "name": current["name"],
        "versions": versions,
        "current": current,
        "files": sorted(sources),
        "documentation": process_documentation(sources.get(f"{pathway}.bpmn", "")),
        "drafts": drafts,
    }


def version_sources(session: Session, actor: Actor, pathway: str, version: int) -> dict[str, str]:
    actor.require(READERS, "read the pathway library")
    sources = session.scalar(
        select(PathwayVersion.sources).where(PathwayVersion.process_id == pathway, PathwayVersion.version == version)
    )
    if sources is None:
        raise NotFound(f"{pathway} has no version {version}.")
    return dict(sources)


def versions_with_files(session: Session, actor: Actor, pathway: str) -> list[dict[str, Any]]:
    """The API's view: every version, oldest first, with its files."""
    actor.require(READERS, "read the pathway library")
    running, authors = _running(session, pathway), _authors(session)
    rows = session.execute(
        select(*_VERSION_COLUMNS, PathwayVersion.sources)
        .where(PathwayVersion.process_id == pathway)
        .order_by(PathwayVersion.version)
    ).all()
    if not rows:
        raise NotFound(f"There is no pathway {pathway!r}.")
    return [{**_version_row(r, running, authors), "files": dict(r.sources)} for r in rows]


def zip_of(files: dict[str, str], top: str) -> bytes:
    """The files as a zip laid out like the library (workflows/, forms/), under one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            folder = next(f for suffix, f in ZIP_FOLDERS.items() if name.endswith(suffix))
            info = zipfile.ZipInfo(f"{top}/{folder}/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def export_version(session: Session, actor: Actor, pathway: str, version: int, now: datetime) -> bytes:
    files = version_sources(session, actor, pathway, version)
    audit.record(session, actor, "export", "pathway", f"{pathway}/{version}", None, now)
    return zip_of(files, f"{pathway}-v{version}")


def rollback_files(session: Session, actor: Actor, pathway: str, version: int) -> FileSet:
    """The library with `version` of `pathway` laid back over it (what publishing it again would run)."""
    actor.require(ROLLBACK, "roll back a pathway")
    sources = version_sources(session, actor, pathway, version)
    return FileSet({**current_library(session).files, **sources})


def editor_choices(session: Session, draft_files: dict[str, str]) -> dict[str, Any]:
    """What the editor's side panel offers: forms and message names used across the library and the draft."""
    files = {**current_library(session).files, **draft_files}
    return {
        "forms": sorted(n for n in files if n.endswith(".schema.json")),
        "messages": message_names((n, t) for n, t in files.items() if n.endswith(".bpmn")),
        "decisions": sorted(n for n in files if n.endswith(".dmn")),
    }
