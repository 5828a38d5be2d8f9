"""The part of the `Carepath` facade behind a case manager's day: contacts, drafts, the caseload and the week,
supervision of late work, the duplicate warning and client copies. Each public method is one unit of work
(the billing export: one transaction held while its lines stream) and raises the engine's errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from . import caseload, contacts, documents, drafts, duplicates, supervision
from .access import READ_EVERY_RECORD, Actor
from .clock import Clock
from .db import unit_of_work
from .errors import NotFound
from .library import SpecCache
from .models import HumanTask, User
from .paging import Page
from .runtime import REQUIRES_CONTACT

_T = TypeVar("_T")


class DayFacade:
    """Mixed into Carepath, which provides `_do` (one transaction), `db` and `specs`."""

    if TYPE_CHECKING:

        def _do(self, work: Callable[[Session, datetime], _T], now: datetime | None = None) -> _T: ...

    db: sessionmaker[Session]
    specs: SpecCache
    clock: Clock

    # ---------- contacts ----------

    def record_contact(self, actor: Actor, case_id: int, data: Any, task_id: int | None = None) -> dict[str, Any]:
        """Raises NotFound, NotAllowed, NotOnCareTeam, InvalidFormData, TaskNotOpen."""
        return self._do(lambda s, now: contacts.record(s, actor, case_id, data, now, task_id))

    def change_contact(self, actor: Actor, contact_id: int, data: Any, reason: str | None = None) -> dict[str, Any]:
        """Edit (author, 24 hours) or amend (with a reason). Raises NotFound, NotAllowed, InvalidFormData."""
        return self._do(lambda s, now: contacts.change(s, actor, contact_id, data, now, reason))

    def contact_options(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """The client's name and plan goals for the contact form. Raises NotFound, NotAllowed, NotOnCareTeam."""
        return self._do(lambda s, now: contacts.options(s, actor, case_id, now))

    def read_contact(self, actor: Actor, contact_id: int) -> dict[str, Any]:
        return self._do(lambda s, now: contacts.read(s, actor, contact_id, now))

    def contacts_csv(self, actor: Actor, start: datetime, end: datetime, username: str | None) -> Iterator[str]:
        """The billing CSV, streamed. Who may export, and whether the staff member exists, are checked before
        the first line (so the caller can still answer 403 or 404). Raises NotAllowed, NotFound."""
        actor.require(READ_EVERY_RECORD, "export contacts for billing")
        if username and self._do(lambda s, now: s.scalar(select(User.id).where(User.username == username))) is None:
            raise NotFound(f"No staff member {username!r}.")

        def lines() -> Iterator[str]:
            with unit_of_work(self.db) as session:
                yield from contacts.billing_rows(session, actor, start, end, username, self.clock.now())

        return lines()

    # ---------- drafts ----------

    def save_draft(self, actor: Actor, task_id: int, data: Any) -> str:
        """Raises NotFound, NotAllowed, NotOnCareTeam, TaskNotOpen, BadRequest."""
        return self._do(lambda s, now: drafts.save(s, actor, task_id, data, now))

    # ---------- caseload and week ----------

    def caseload(self, actor: Actor, limit: int = 50, cursor: str | None = None) -> Page[dict[str, Any]]:
        return self._do(lambda s, now: caseload.my_caseload(s, actor, now, limit, cursor))

    def week(self, actor: Actor, start: datetime) -> list[dict[str, Any]]:
        return self._do(lambda s, now: caseload.my_week(s, actor, start, now))

    # ---------- supervision ----------

    def overdue_board(self, actor: Actor) -> list[dict[str, Any]]:
        return self._do(lambda s, now: supervision.overdue_by_client(s, actor, now))

    def set_due_date(self, actor: Actor, task_id: int, new_due: datetime | None, reason: str) -> dict[str, Any]:
        return self._do(lambda s, now: supervision.set_due_date(s, actor, task_id, new_due, reason, now))

    # ---------- registration and documents ----------

    def possible_duplicates(self, actor: Actor, given: str, family: str, born: date) -> list[dict[str, Any]]:
        return self._do(lambda s, now: duplicates.possible_duplicates(s, actor, given, family, born, now))

    def client_copy(self, actor: Actor, client_id: int, kind: str) -> dict[str, Any]:
        return self._do(lambda s, now: documents.client_copy(s, self.specs, actor, client_id, kind, now))


def task_extras(session: Session, actor: Actor, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a task page shows besides the form: the person's draft, the contacts recorded from the task,
    whether completing it needs one, and for an overdue review the late task. Call it inside the task's
    audited read."""
    ht = session.get(HumanTask, task["id"])
    assert ht is not None
    ui = (task.get("form") or {}).get("ui_schema") or {}
    return {
        "draft": drafts.restore(session, actor, ht, now) if task.get("may_complete") else None,
        "contacts": [c for c in contacts.of_case(session, ht.case_id, now, actor.id) if c["task_id"] == ht.id],
        "requires_contact": bool(ui.get(REQUIRES_CONTACT)),
        "late_task": supervision.late_task(session, ht, now),
    }
