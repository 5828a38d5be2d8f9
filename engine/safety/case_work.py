"""The case's safety work as the runtime sees it during a step, and what the runtime does about it.

Called from engine/runtime.py at a few points, so the runtime itself stays small:

- `case_status(step)`: what pathway scripts read with the `case_status()` helper (risk level, whether a
  crisis, a safety plan or a hospital follow-up is open, the open safety work listed for a supervisor).
- `record_risk_level(step, live, level)`: every change of the case's risk level goes into the event log
  (the invariants read it there) and a rise tells waiting review cycles (`risk_level_raised`).
- `safety_work_messages(step, live)`: `safety_work_done` when the case's last safety-work instance ends,
  which is what a case closure waits for.
- `join_target(step, version)`: one-per-case pathways (`joinOpenInstance`) take a new trigger into the
  instance already open instead of starting a second one.
- `ended_work_messages(step, tasks)`: when closing a case ends people's tasks, each holder is told
  (`task_ended`, which the library's notice pathway turns into an inbox task).

A "step" here is runtime._Step: session, now, case, actor, role, live instances, queued messages.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Actor
from ..models import Case, FormSubmission, HumanTask, PathwayInstance, PathwayVersion, User
from .properties import SAFETY_KINDS, SAFETY_WORK, joins_open_instance, process_properties, safety_kind

if TYPE_CHECKING:
    from ..library import LoadedPathway
    from ..projection import EventLog, Live

RISK_ORDER = {"low": 0, "moderate": 1, "high": 2, "imminent": 3}
RISK_EVENT = "risk_level_changed"
SAFETY_WORK_DONE = "safety_work_done"
RISK_RAISED = "risk_level_raised"
TASK_ENDED = "task_ended"
# Signals only the engine may send: a person sending one could end safety work or close a case unseen.
ENGINE_ONLY = frozenset({SAFETY_WORK_DONE, RISK_RAISED, TASK_ENDED, "case_closure_requested"})

_kind_by_hash: dict[str, str | None] = {}
# Set on a Live instance once its safety_work_done went out (Live, in projection.py, does not declare it).
_DONE_SENT = "_safety_done_sent"


class Step(Protocol):
    """What safety work reads of the runtime's step (runtime._Step); it changes the case and the queue only."""

    @property
    def session(self) -> Session: ...
    @property
    def now(self) -> datetime: ...
    @property
    def case(self) -> Case: ...
    @property
    def actor(self) -> Actor | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def close_reason(self) -> str | None: ...
    @property
    def live(self) -> dict[int, Live]: ...
    @property
    def messages(self) -> deque[tuple[str, dict[str, Any]]]: ...
    @property
    def events(self) -> EventLog: ...


def _kinds(session: Session, version_ids: set[int]) -> dict[int, str | None]:
    """safetyWork kind per pathway version id, cached by content hash (the same text means the same kind)."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(PathwayVersion.id, PathwayVersion.process_id, PathwayVersion.content_hash).where(
            PathwayVersion.id.in_(version_ids)
        )
    ).all()
    out: dict[int, str | None] = {}
    for vid, process_id, digest in rows:
        if digest not in _kind_by_hash:
            sources = session.scalar(select(PathwayVersion.sources).where(PathwayVersion.id == vid))
            kind = process_properties(sources, process_id).get(SAFETY_WORK, "").strip()
            _kind_by_hash[digest] = kind if kind in SAFETY_KINDS else None
        out[vid] = _kind_by_hash[digest]
    return out


def running_safety_work(step: Step, exclude: int | None = None) -> list[dict[str, Any]]:
    """The case's running safety-work instances: [{instance_id, pathway, kind, tasks: [open task titles]}].

    The database says what ran before this step; instances this step has loaded say what is true now."""
    rows = step.session.execute(
        select(PathwayInstance.id, PathwayInstance.process_id, PathwayInstance.pathway_version_id).where(
            PathwayInstance.case_id == step.case.id, PathwayInstance.status == "running"
        )
    ).all()
    kinds = _kinds(step.session, {r.pathway_version_id for r in rows})
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        live = step.live.get(r.id)
        if live is not None and (live.row.status != "running" or live.wf.is_completed()):
            continue
        if kinds.get(r.pathway_version_id) and r.id != exclude:
            found[r.id] = {"instance_id": r.id, "pathway": r.process_id, "kind": kinds[r.pathway_version_id]}
    if not found:
        return []
    titles: dict[int, list[str]] = {i: [] for i in found}
    for instance_id, title, role in step.session.execute(
        select(HumanTask.instance_id, HumanTask.title, HumanTask.role)
        .where(HumanTask.instance_id.in_(found), HumanTask.status == "open")
        .order_by(HumanTask.id)
    ):
        titles[instance_id].append(f"{title} ({role.replace('_', ' ')})")
    return [{**found[i], "tasks": titles[i]} for i in sorted(found)]


def case_status(step: Step) -> dict[str, Any]:
    """What the `case_status()` script helper answers (JSON-safe, so scripts may keep it in task data)."""
    work = running_safety_work(step)
    kinds = {w["kind"] for w in work}
    # A plan from any of the client's cases counts: the current plan follows the client, not the episode.
    has_plan = (
        step.session.scalar(
            select(FormSubmission.id)
            .join(Case, Case.id == FormSubmission.case_id)
            .where(Case.client_id == step.case.client_id, FormSubmission.form_id == "safety_plan")
            .limit(1)
        )
        is not None
    )
    return {
        "risk_level": step.case.risk_level,
        "crisis_open": "crisis" in kinds,
        "safety_plan_open": "safety_plan" in kinds,
        "follow_up_open": "follow_up" in kinds,
        "has_safety_plan": has_plan,
        "open_safety_work": [{"pathway": w["pathway"], "kind": w["kind"], "tasks": w["tasks"]} for w in work],
    }


def record_risk_level(step: Step, live: Live, level: str) -> None:
    """Set the case's risk level; log the change (who, from what) and tell waiting reviews of a rise."""
    old = step.case.risk_level
    if level == old:
        return
    step.case.risk_level = level
    step.events.add(
        at=step.now,
        case_id=step.case.id,
        client_id=step.case.client_id,
        instance_id=live.row.id,
        process_id=live.row.process_id,
        pathway_version=live.pathway.version,
        activity=RISK_EVENT,
        activity_name=f"Risk level: {old or 'unknown'} -> {level}",
        lifecycle="completed",
        role=getattr(step, "role", None),
        username=step.actor.username if step.actor else None,
    )
    # From unknown counts as a rise: a waiting review only ever moves earlier (periodic_review takes the sooner date).
    if old is None or RISK_ORDER.get(level, 0) > RISK_ORDER.get(old, 0):
        step.messages.append((RISK_RAISED, {"risk_level": level, "previous": old}))


def parse_risk_event(activity_name: str) -> tuple[str | None, str]:
    """(old, new) from a risk_level_changed event's name."""
    body = activity_name.split(": ", 1)[-1]
    old, new = body.split(" -> ", 1)
    return (None if old == "unknown" else old), new


def safety_work_messages(step: Step, live: Live) -> list[tuple[str, dict[str, Any]]]:
    """`safety_work_done` when this step finished the case's last running safety-work instance."""
    if not live.wf.is_completed() or live.row.status != "running" or getattr(live, _DONE_SENT, False):
        return []
    kind = safety_kind(live.pathway)
    if kind is None:
        return []
    setattr(live, _DONE_SENT, True)
    if running_safety_work(step, exclude=live.row.id):
        return []
    return [(SAFETY_WORK_DONE, {"last": live.row.process_id, "kind": kind})]


def join_target(step: Step, loaded: LoadedPathway) -> int | None:
    """The running instance of a one-per-case pathway that a new start message joins, if any."""
    if not joins_open_instance(loaded):
        return None
    ids = step.session.scalars(
        select(PathwayInstance.id)
        .where(
            PathwayInstance.case_id == step.case.id,
            PathwayInstance.process_id == loaded.process_id,
            PathwayInstance.status == "running",
        )
        .order_by(PathwayInstance.id)
    ).all()
    for instance_id in ids:
        live = step.live.get(instance_id)
        if live is None or (live.row.status == "running" and not live.wf.is_completed()):
            return instance_id
    return None


def log_join(step: Step, instance_id: int, process_id: str, name: str) -> None:
    step.events.add(
        at=step.now,
        case_id=step.case.id,
        client_id=step.case.client_id,
        instance_id=instance_id,
        process_id=process_id,
        activity=name,
        activity_name=f"Message {name} (joined the open {process_id.replace('_', ' ')})",
        lifecycle="message",
        username=step.actor.username if step.actor else None,
    )


def open_tasks_of_case(step: Step) -> list[HumanTask]:
    return list(
        step.session.scalars(
            select(HumanTask)
            .where(HumanTask.case_id == step.case.id, HumanTask.status == "open")
            .order_by(HumanTask.id)
        )
    )


def ended_work_messages(step: Step, tasks: list[HumanTask]) -> list[tuple[str, dict[str, Any]]]:
    """One `task_ended` per task the closure ended, addressed to whoever held it (or its role)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for ht in tasks:
        out.append(
            (
                TASK_ENDED,
                {
                    "task_id": ht.id,
                    "task": ht.bpmn_id,
                    "title": ht.title,
                    "pathway": ht.process_id,
                    "role": ht.role,
                    "assignee": ht.assignee.username if ht.assignee else None,
                    "reason": step.close_reason or "case closed",
                    "closed_by": step.actor.username if step.actor else None,
                },
            )
        )
    return out


def named_assignee(session: Session, task: Any) -> int | None:
    # `task` is a SpiffWorkflow Task (the library has no types).
    """The user a task names with its `assignee` property (an expression giving a username), if any."""
    props = (task.task_spec.extensions or {}).get("properties", {}) or {}
    expression = props.get("assignee")
    if not expression:
        return None
    try:
        username = task.workflow.script_engine.evaluate(task, expression)
    except Exception:  # noqa: BLE001 - a missing name leaves the task with its role, never stops care
        return None
    if not isinstance(username, str) or not username:
        return None
    return session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))
