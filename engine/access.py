"""Who may do what: the caller as the engine sees it, and the role rules every entry point shares.

Which client records a person may open (the care team, break the glass) is engine/careteam.py; which
messages people may send into a case is engine/messages.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import NotAllowed

# Roles whose work is a client's care; they may read client records (every read is audited).
CLINICAL_ROLES = frozenset({"intake", "case_manager", "clinician", "supervisor", "crisis"})
# Quality staff read records and measures for adherence review; they do not change care.
RECORD_READERS = CLINICAL_ROLES | {"quality"}
# Who may register clients and open cases.
REGISTRARS = frozenset({"intake", "case_manager", "supervisor"})
# Who may send a message into a case (report a crisis, an admission notice, …); engine/messages.py says which.
MESSENGERS = CLINICAL_ROLES
# Who sees and manages every open task, and reassigns work.
TEAM_LEADS = frozenset({"supervisor"})
# Who reads every client's record without being on the care team: supervisors, and quality staff (read only).
READ_EVERY_RECORD = TEAM_LEADS | {"quality"}
# Largest id a record can have (a 32-bit integer column): anything else names no record.
MAX_ID = 2**31 - 1


def is_record_id(value: object) -> bool:
    """An id that can name a row (ids out of range are "not found", never a database error)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


@dataclass(frozen=True)
class Actor:
    """The signed-in person (or API token holder) on whose behalf the engine acts."""

    id: int
    username: str
    roles: frozenset[str]
    channel: str = "web"  # web | api | cli: recorded in the audit log

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))

    def require(self, roles: Iterable[str], doing: str) -> None:
        if not self.has_any(roles):
            raise NotAllowed(f"Your role does not allow you to {doing}.")


def may_work_task(actor: Actor, role: str, assignee_id: int | None) -> bool:
    """Claim or complete: the assignee, or anyone with the task's role while it is unassigned."""
    if assignee_id is not None:
        return assignee_id == actor.id
    return role in actor.roles
