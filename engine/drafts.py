"""Form drafts: what a person has typed into a task's form and not yet submitted, kept on the server (one per
task per person) so that leaving the page loses nothing. Drafts are part of the record: saving and restoring
one is audited like any read or change of it, and the draft goes when the task is completed. Their contents
are never logged.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from . import audit
from .access import Actor, is_record_id, may_work_task
from .careteam import require_task
from .day_models import FormDraft
from .errors import BadRequest, NotAllowed, NotFound, TaskNotOpen
from .models import HumanTask
from .states import TaskStatus

MAX_DRAFT_BYTES = 512 * 1024


def save(session: Session, actor: Actor, task_id: object, data: Any, now: datetime) -> str:
    """Keep `data` as the person's draft of an open task they may complete. Returns when it was saved (ISO).
    Raises NotFound, NotAllowed, NotOnCareTeam, TaskNotOpen, BadRequest (not an object, too large)."""
    ht = _open_task(session, actor, task_id, now)
    if not isinstance(data, dict):
        raise BadRequest("A draft is the form's answers, as an object.")
    if len(json.dumps(data)) > MAX_DRAFT_BYTES:
        raise BadRequest("This draft is too large to keep.")
    row = session.scalar(
        select(FormDraft).where(FormDraft.human_task_id == ht.id, FormDraft.user_id == actor.id).with_for_update()
    )
    if row is None:
        session.add(FormDraft(human_task_id=ht.id, user_id=actor.id, data=data, saved_at=now))
    else:
        row.data, row.saved_at = data, now
    audit.record(session, actor, "update", "draft", ht.id, ht.client_id, now)
    return now.isoformat()


def restore(session: Session, actor: Actor, ht: HumanTask, now: datetime) -> dict[str, Any] | None:
    """The person's draft of this task ({"data", "saved_at"}), or None. Call it in the transaction of the
    audited task read that checked access; restoring is audited too."""
    if ht.status != TaskStatus.OPEN:
        return None
    row = session.scalar(select(FormDraft).where(FormDraft.human_task_id == ht.id, FormDraft.user_id == actor.id))
    if row is None:
        return None
    audit.record(session, actor, "read", "draft", ht.id, ht.client_id, now)
    return {"data": row.data, "saved_at": row.saved_at.isoformat()}


_DRAFTS = cast(Table, FormDraft.__table__)
# Built once: every completion runs it.
_DISCARD = delete(_DRAFTS).where(_DRAFTS.c.human_task_id == bindparam("task_id"))


def discard(session: Session, task_id: int) -> None:
    """Every draft of a task (it was completed: the answers are in the record)."""
    session.connection().execute(_DISCARD, {"task_id": task_id})


def _open_task(session: Session, actor: Actor, task_id: object, now: datetime) -> HumanTask:
    ht = session.get(HumanTask, task_id) if is_record_id(task_id) else None
    if ht is None:
        raise NotFound(f"No task {task_id}.")
    require_task(session, actor, ht, now)
    if ht.status != TaskStatus.OPEN:
        raise TaskNotOpen(f"This task was already {ht.status}; there is nothing to draft.")
    if not may_work_task(actor, ht.role, ht.assignee_id):
        raise NotAllowed("Only the person who may complete this task keeps a draft of it.")
    return ht
