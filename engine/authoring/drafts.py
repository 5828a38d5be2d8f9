"""Drafts of pathway changes and their four-eyes review.

A draft holds the full file set of the pathways it touches. Every save is judged (review.py): a refused file
is never written; findings are kept with the draft and shown at their element and line. The author submits
(no errors left, and a summary saying what changes and why); a supervisor who is not the author approves,
which publishes through the safety gate (gate.py), or sends it back with a comment. Every step goes to the
draft's history and to the audit log.

    editing --submit--> submitted --approve--> published
       ^                    |
       +----- returned <----+ send back (with a comment)        editing/returned/submitted --withdraw--> withdrawn
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from .. import audit
from ..access import Actor
from ..authoring_models import PathwayDraft, PathwayDraftStep
from ..errors import BadRequest, Finding, NotAllowed, NotFound, PathwayInvalid, StaleInstance
from ..models import PathwayVersion
from ..pathway_files import FileSet
from .gate import MIN_REASON, Report, check_reason
from .review import Library, Review, current_library, review

AUTHORS = frozenset({"admin"})  # write drafts, import files
REVIEWERS = frozenset({"supervisor"})  # approve or send back someone else's draft
READERS = frozenset({"admin", "supervisor", "quality"})  # the library pages, versions, diffs, drafts


class Status(StrEnum):
    EDITING = "editing"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


EDITABLE = (Status.EDITING, Status.RETURNED)


class DraftRefused(PathwayInvalid):
    """Files refused outright (hostile or unreadable): nothing was written."""

    code = "files_refused"


def record_step(
    session: Session, draft: PathwayDraft, actor: Actor, action: str, now: datetime, comment: str | None = None
) -> None:
    session.add(PathwayDraftStep(draft_id=draft.id, at=now, username=actor.username, action=action, comment=comment))
    audit.record(session, actor, action, "pathway_draft", draft.id, None, now)


def load(session: Session, draft_id: int, for_update: bool = False) -> PathwayDraft:
    stmt = select(PathwayDraft).where(PathwayDraft.id == draft_id).options(undefer(PathwayDraft.files))
    draft = session.scalar(stmt.with_for_update() if for_update else stmt)
    if draft is None:
        raise NotFound(f"There is no draft {draft_id}.")
    return draft


def _apply(draft: PathwayDraft, judged: Review, now: datetime) -> None:
    draft.files, draft.pathways, draft.base = judged.files, judged.pathways, judged.base
    draft.findings = [f.as_dict() for f in judged.findings]
    draft.updated_at = now


def create(
    session: Session,
    actor: Actor,
    files: dict[str, str],
    title: str,
    now: datetime,
    allow_errors: bool,
    submitted: bool = False,
) -> tuple[PathwayDraft, Review]:
    """A new draft of `files` (laid over the published library). Raises DraftRefused for refused files, and
    PathwayInvalid for errors unless `allow_errors` (the browser keeps a draft with errors to fix them)."""
    actor.require(AUTHORS, "write pathway drafts")
    judged = review(current_library(session), files)
    if judged.refused:
        raise DraftRefused(judged.refused)
    if judged.errors and not allow_errors:
        raise PathwayInvalid(judged.errors + [f for f in judged.findings if f.severity != "error"])
    title = (title or "").strip()
    if submitted and not title:
        title = "Sent through the API: " + (", ".join(judged.pathways) or "no pathway changed")
    draft = PathwayDraft(
        title=title[:200],
        status=Status.SUBMITTED if submitted else Status.EDITING,
        author=actor.username,
        created_at=now,
        updated_at=now,
    )
    _apply(draft, judged, now)
    session.add(draft)
    session.flush()
    record_step(session, draft, actor, "create", now)
    if submitted:
        _submit_checks(draft, judged)
        record_step(session, draft, actor, "submit", now, draft.title)
    return draft, judged


def start_from(session: Session, actor: Actor, pathway: str, now: datetime) -> PathwayDraft:
    """A draft holding the current version of `pathway`, to edit in the browser."""
    sources = session.scalar(
        select(PathwayVersion.sources).where(PathwayVersion.process_id == pathway, PathwayVersion.is_current.is_(True))
    )
    if sources is None:
        raise NotFound(f"There is no pathway {pathway!r}.")
    return create(session, actor, dict(sources), "", now, allow_errors=True)[0]


def _editable(session: Session, actor: Actor, draft_id: int) -> PathwayDraft:
    actor.require(AUTHORS, "change pathway drafts")
    draft = load(session, draft_id, for_update=True)
    if draft.author != actor.username:
        raise NotAllowed(f"This draft is {draft.author}'s: start a draft of your own to change the pathway.")
    if draft.status not in EDITABLE:
        raise StaleInstance(f"This draft is {draft.status} and can no longer be changed.")
    return draft


def save_files(
    session: Session, actor: Actor, draft_id: int, files: dict[str, str], now: datetime, action: str = "update"
) -> Review:
    """Save changed or added files into the draft. A refused file writes nothing: the review says why."""
    draft = _editable(session, actor, draft_id)
    judged = review(current_library(session), {**draft.files, **files})
    if judged.refused:
        return judged
    _apply(draft, judged, now)
    record_step(session, draft, actor, action, now, ", ".join(sorted(files))[:500])
    return judged


def remove_file(session: Session, actor: Actor, draft_id: int, name: str, now: datetime) -> Review:
    draft = _editable(session, actor, draft_id)
    if name not in draft.files:
        raise NotFound(f"The draft has no file {name}.")
    judged = review(current_library(session), {n: t for n, t in draft.files.items() if n != name})
    _apply(draft, judged, now)
    record_step(session, draft, actor, "remove", now, name)
    return judged


def set_title(session: Session, actor: Actor, draft_id: int, title: str, now: datetime) -> None:
    draft = _editable(session, actor, draft_id)
    draft.title, draft.updated_at = (title or "").strip()[:200], now
    record_step(session, draft, actor, "title", now, draft.title)


def _submit_checks(draft: PathwayDraft, judged: Review) -> None:
    if len(draft.title) < MIN_REASON:
        raise BadRequest(
            f"Say what the change is and why (at least {MIN_REASON} characters): it is kept with every "
            "version it publishes."
        )
    if judged.errors:
        raise PathwayInvalid(judged.errors)
    if not judged.pathways:
        raise BadRequest("This draft changes no pathway yet: there is nothing to review.")


def submit(session: Session, actor: Actor, draft_id: int, title: str | None, now: datetime) -> PathwayDraft:
    """Hand the draft to a supervisor. Judged again first: the library may have moved since the last save."""
    draft = _editable(session, actor, draft_id)
    if title is not None:
        draft.title = title.strip()[:200]
    judged = review(current_library(session), draft.files)
    _apply(draft, judged, now)
    _submit_checks(draft, judged)
    draft.status = Status.SUBMITTED
    record_step(session, draft, actor, "submit", now, draft.title)
    return draft


def _reviewable(session: Session, actor: Actor, draft_id: int, doing: str) -> PathwayDraft:
    actor.require(REVIEWERS, doing)
    draft = load(session, draft_id, for_update=True)
    if draft.author == actor.username:
        raise NotAllowed("You wrote this draft: a second person must review it (four-eyes rule).")
    if draft.status != Status.SUBMITTED:
        raise StaleInstance(f"This draft is {draft.status}, not waiting for review.")
    return draft


def send_back(session: Session, actor: Actor, draft_id: int, comment: str, now: datetime) -> PathwayDraft:
    draft = _reviewable(session, actor, draft_id, "review pathway drafts")
    comment = check_reason(comment, "Sending a draft back")
    draft.status, draft.reviewed_by, draft.reviewed_at, draft.updated_at = Status.RETURNED, actor.username, now, now
    record_step(session, draft, actor, "send_back", now, comment)
    return draft


def withdraw(session: Session, actor: Actor, draft_id: int, now: datetime) -> PathwayDraft:
    actor.require(AUTHORS, "withdraw pathway drafts")
    draft = load(session, draft_id, for_update=True)
    if draft.author != actor.username:
        raise NotAllowed("Only the draft's author may withdraw it.")
    if draft.status in (Status.PUBLISHED, Status.WITHDRAWN):
        raise StaleInstance(f"This draft is already {draft.status}.")
    draft.status, draft.updated_at = Status.WITHDRAWN, now
    record_step(session, draft, actor, "withdraw", now)
    return draft


@dataclass(frozen=True)
class Approval:
    """What publishing an approved draft needs, gathered before the (possibly long) safety check runs."""

    draft_id: int
    title: str
    files: FileSet
    only: set[str]
    base: dict[str, int]


def _stale(library: Library, base: dict[str, int]) -> list[str]:
    return [
        f"{p} (now version {library.current[p].version}, the draft was made on version {v})"
        for p, v in sorted(base.items())
        if p in library.current and library.current[p].version != v
    ]


def approval(session: Session, actor: Actor, draft_id: int) -> Approval:
    """Check that `actor` may approve the draft and that it still applies. Raises NotAllowed (not a
    supervisor, or the author), StaleInstance (not submitted; the library moved), PathwayInvalid."""
    draft = _reviewable(session, actor, draft_id, "approve pathway drafts")
    library = current_library(session)
    stale = _stale(library, draft.base)
    if stale:
        raise StaleInstance(
            "Published since this draft was made: " + "; ".join(stale) + ". Send it back so its "
            "author can start again from the current versions."
        )
    judged = review(library, draft.files)
    if judged.errors:
        raise PathwayInvalid(judged.errors)
    return Approval(
        draft.id, draft.title, FileSet({**library.files, **draft.files}), set(judged.pathways), dict(draft.base)
    )


def record_approval(
    session: Session,
    actor: Actor,
    plan: Approval,
    versions: list[PathwayVersion],
    report: Report,
    accepted_risk: str | None,
    now: datetime,
) -> PathwayDraft:
    """In the publishing transaction: the draft is still waiting and nothing was published meanwhile."""
    draft = _reviewable(session, actor, plan.draft_id, "approve pathway drafts")
    mine = {v.process_id for v in versions}
    stale = _stale(current_library(session), {p: v for p, v in plan.base.items() if p not in mine})
    if stale:
        raise StaleInstance("Published while this draft was being checked: " + "; ".join(stale) + ".")
    for row in versions:
        row.draft_id = draft.id
        audit.record(session, actor, "publish", "pathway", f"{row.process_id}/{row.version}", None, now)
    draft.status, draft.reviewed_by, draft.reviewed_at, draft.updated_at = Status.PUBLISHED, actor.username, now, now
    draft.published = [{"pathway": v.process_id, "version": v.version} for v in versions]
    draft.safety, draft.accepted_risk = report.as_dict(), accepted_risk
    record_step(
        session, draft, actor, "approve", now, f"Safety risk accepted: {accepted_risk}" if accepted_risk else None
    )
    return draft


def record_check(session: Session, actor: Actor, draft_id: int, report: Report, now: datetime) -> None:
    """Keep a checker's report that stopped an approval, so the draft's page shows it to everyone."""
    draft = load(session, draft_id)
    draft.safety = report.as_dict()
    record_step(
        session, draft, actor, "checked", now, f"{len(report.violations)} safety problem(s) found; not published"
    )


def findings_of(draft: PathwayDraft) -> list[Finding]:
    return [
        Finding(f["file"], f.get("line"), f["message"], f.get("severity", "error"), f.get("element"))
        for f in draft.findings or []
    ]
