"""The authoring part of the `Carepath` facade: library pages, drafts, review, publishing, roll back, import and
export. Each public method is one unit of work (or, for approval and roll back, a short read, the safety
check outside any transaction, then the publishing transaction), and raises the engine's errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from .. import library as lib
from ..access import Actor
from ..authoring_models import PathwayDraftStep
from ..errors import NotFound
from ..pathway_files import FileSet
from . import catalog, compare, drafts, gate, uploads
from .review import Library, Review, current_library

_T = TypeVar("_T")


class AuthoringFacade:
    """Mixed into Carepath, which provides `_do` (one transaction) and `clock`."""

    if TYPE_CHECKING:

        def _do(self, work: Callable[[Session, datetime], _T], now: datetime | None = None) -> _T: ...

    # The safety gate approval and roll back publish through (the pathway checker; Carepath sets it).
    safety_gate: gate.Gate

    # ---------- reading the library ----------

    def pathway_library(self, actor: Actor) -> dict[str, Any]:
        return self._do(lambda s, now: catalog.overview(s, actor))

    def pathway_history(self, actor: Actor, pathway: str) -> dict[str, Any]:
        return self._do(lambda s, now: catalog.history(s, actor, pathway))

    def pathway_version_files(self, actor: Actor, pathway: str, version: int) -> dict[str, str]:
        return self._do(lambda s, now: catalog.version_sources(s, actor, pathway, version))

    def pathway_versions_with_files(self, actor: Actor, pathway: str) -> list[dict[str, Any]]:
        return self._do(lambda s, now: catalog.versions_with_files(s, actor, pathway))

    def export_pathway_version(self, actor: Actor, pathway: str, version: int) -> bytes:
        """The version's files as a zip (an audited export)."""
        return self._do(lambda s, now: catalog.export_version(s, actor, pathway, version, now))

    def compare_pathway_versions(self, actor: Actor, pathway: str, a: int, b: int) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> dict[str, Any]:
            before = catalog.version_sources(session, actor, pathway, a)
            after = catalog.version_sources(session, actor, pathway, b)
            return {"before": before, "after": after, "changes": compare.compare(before, after)}

        return self._do(work)

    # ---------- drafts ----------

    def draft_page(self, actor: Actor, draft_id: int) -> dict[str, Any]:
        """A draft with its files, findings and history, and what it changes against the current versions:
        one comparison over the touched pathways' files (a shared form shows once), and which diagrams changed."""

        def work(session: Session, now: datetime) -> dict[str, Any]:
            actor.require(drafts.READERS, "read pathway drafts")
            draft = drafts.load(session, draft_id)
            steps = session.scalars(
                select(PathwayDraftStep).where(PathwayDraftStep.draft_id == draft_id).order_by(PathwayDraftStep.id)
            ).all()
            library = current_library(session)
            before: dict[str, str] = {}
            after: dict[str, str] = {}
            touched = []
            for plan in _plans(library, draft.files, draft.pathways):
                cur = library.current.get(plan.process_id)
                if cur:
                    before.update(catalog.version_sources(session, actor, plan.process_id, cur.version))
                after.update(plan.sources)
                bpmn = f"{plan.process_id}.bpmn"
                touched.append(
                    {
                        "pathway": plan.process_id,
                        "version": cur.version if cur else None,
                        "diagram_changed": before.get(bpmn) != after.get(bpmn),
                    }
                )
            changed = sorted(n for n, t in draft.files.items() if library.files.get(n) != t)
            return {
                **catalog.draft_row(draft),
                "files": dict(draft.files),
                "changed_files": changed,
                "findings": draft.findings or [],
                "base": draft.base,
                "safety": draft.safety,
                "accepted_risk": draft.accepted_risk,
                "reviewed_at": draft.reviewed_at.isoformat() if draft.reviewed_at else None,
                "touched": touched,
                "before": before,
                "after": after,
                "changes": compare.compare(before, after),
                "history": [
                    {"at": s.at.isoformat(), "by": s.username, "action": s.action, "comment": s.comment} for s in steps
                ],
            }

        return self._do(work)

    def draft_editor(self, actor: Actor, draft_id: int) -> dict[str, Any]:
        """The draft's files and what the editor offers (forms, message names) to its author."""

        def work(session: Session, now: datetime) -> dict[str, Any]:
            actor.require(drafts.AUTHORS, "edit pathway drafts")
            draft = drafts.load(session, draft_id)
            return {
                **catalog.draft_row(draft),
                "files": dict(draft.files),
                "findings": draft.findings or [],
                "choices": catalog.editor_choices(session, draft.files),
            }

        return self._do(work)

    def create_draft(
        self, actor: Actor, files: dict[str, str], title: str = "", submitted: bool = False, allow_errors: bool = False
    ) -> tuple[dict[str, Any], Review]:
        """A draft of the given files. Raises DraftRefused (a refused file; nothing written) or PathwayInvalid
        (errors, unless `allow_errors`)."""

        def work(session: Session, now: datetime) -> tuple[dict[str, Any], Review]:
            draft, judged = drafts.create(session, actor, files, title, now, allow_errors, submitted)
            return catalog.draft_row(draft), judged

        return self._do(work)

    def start_draft(self, actor: Actor, pathway: str) -> int:
        return self._do(lambda s, now: drafts.start_from(s, actor, pathway, now).id)

    def save_draft_files(self, actor: Actor, draft_id: int, files: dict[str, str], action: str = "update") -> Review:
        """Save files into a draft; the review says what was refused (then nothing was written) or found."""
        return self._do(lambda s, now: drafts.save_files(s, actor, draft_id, files, now, action))

    def import_into_draft(
        self, actor: Actor, draft_id: int | None, items: list[tuple[str, bytes]], title: str = ""
    ) -> tuple[int | None, Review]:
        """Uploaded files or a zip into a draft (a new one when `draft_id` is None). A refused upload writes
        nothing: the review lists why."""
        actor.require(drafts.AUTHORS, "import pathway files")
        upload = uploads.read_uploads(items)
        if upload.refused:
            return draft_id, Review(refused=upload.refused)
        if draft_id is None:

            def work(session: Session, now: datetime) -> tuple[int | None, Review]:
                draft, judged = drafts.create(session, actor, upload.files, title, now, allow_errors=True)
                drafts.record_step(session, draft, actor, "import", now, ", ".join(sorted(upload.files))[:500])
                return draft.id, judged

            try:
                return self._do(work)
            except drafts.DraftRefused as exc:
                return None, Review(refused=exc.findings)
        return draft_id, self.save_draft_files(actor, draft_id, upload.files, action="import")

    def remove_draft_file(self, actor: Actor, draft_id: int, name: str) -> Review:
        return self._do(lambda s, now: drafts.remove_file(s, actor, draft_id, name, now))

    def set_draft_title(self, actor: Actor, draft_id: int, title: str) -> None:
        self._do(lambda s, now: drafts.set_title(s, actor, draft_id, title, now))

    def submit_draft(self, actor: Actor, draft_id: int, title: str | None = None) -> dict[str, Any]:
        return self._do(lambda s, now: catalog.draft_row(drafts.submit(s, actor, draft_id, title, now)))

    def send_back_draft(self, actor: Actor, draft_id: int, comment: str) -> dict[str, Any]:
        return self._do(lambda s, now: catalog.draft_row(drafts.send_back(s, actor, draft_id, comment, now)))

    def withdraw_draft(self, actor: Actor, draft_id: int) -> dict[str, Any]:
        return self._do(lambda s, now: catalog.draft_row(drafts.withdraw(s, actor, draft_id, now)))

    def draft_file(self, actor: Actor, draft_id: int, name: str) -> str:
        def work(session: Session, now: datetime) -> str:
            actor.require(drafts.READERS, "read pathway drafts")
            files: dict[str, str] = drafts.load(session, draft_id).files
            if name not in files:
                raise NotFound(f"The draft has no file {name}.")
            return files[name]

        return self._do(work)

    def approve_draft(self, actor: Actor, draft_id: int, accept_risk: str | None = None) -> list[dict[str, Any]]:
        """Publish a submitted draft (a supervisor who did not write it). The safety check runs outside any
        transaction; publishing re-checks that nothing moved meanwhile. Raises NotAllowed, StaleInstance,
        PathwayInvalid, UnsafeChange (its report is also kept on the draft), BadRequest."""
        plan = self._do(lambda s, now: drafts.approval(s, actor, draft_id))
        try:
            raw, report = gate.check(self.safety_gate, plan.files, plan.only, accept_risk)
        except gate.UnsafeChange as exc:
            found = exc.report
            self._do(lambda s, now: drafts.record_check(s, actor, draft_id, found, now))
            raise

        def publish(session: Session, now: datetime) -> list[dict[str, Any]]:
            versions = gate.publish(
                self.safety_gate,
                session,
                plan.files,
                plan.only,
                now,
                "draft",
                actor.username,
                plan.title,
                raw,
                accept_risk,
            )
            drafts.record_approval(
                session,
                actor,
                plan,
                versions,
                report,
                accept_risk.strip() if accept_risk and report.violations else None,
                now,
            )
            return [{"pathway": v.process_id, "version": v.version} for v in versions]

        return self._do(publish)

    # ---------- roll back ----------

    def roll_back_pathway(
        self, actor: Actor, pathway: str, version: int, reason: str, accept_risk: str | None = None
    ) -> dict[str, Any]:
        """Publish an earlier version again as the newest. Running instances keep the version they run;
        new cases and the next hand-over take this one. Raises NotAllowed, NotFound, BadRequest, UnsafeChange."""
        reason = gate.check_reason(reason, "Rolling back")
        files = self._do(lambda s, now: catalog.rollback_files(s, actor, pathway, version))
        raw, report = gate.check(self.safety_gate, files, {pathway}, accept_risk)

        def publish(session: Session, now: datetime) -> dict[str, Any]:
            versions = gate.publish(
                self.safety_gate,
                session,
                files,
                {pathway},
                now,
                "rollback",
                actor.username,
                f"Roll back to version {version}: {reason}",
                raw,
                accept_risk,
            )
            row = versions[0]
            audit.record(session, actor, "rollback", "pathway", f"{pathway}/{row.version}", None, now)
            return {"pathway": pathway, "version": row.version, "from_version": version, "safety": report.as_dict()}

        return self._do(publish)


def _plans(library: Library, files: dict[str, str], pathways: list[str]) -> list[lib.Plan]:
    return lib.plan(FileSet({**library.files, **files}), only=set(pathways)) if pathways else []
