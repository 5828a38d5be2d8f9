"""What a step leaves behind besides the instance blob: the human-task rows inboxes read, the event log,
the message waits routing reads, and the instance's next timer job.

Everything here is derived from the workflow after the step, in the step's transaction, by comparing
with what was there before. Nothing reads other instances, so a step costs the same for a client with
one review behind them as for one with forty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from uuid import UUID

from jinja2 import TemplateError
from sqlalchemy import Table, bindparam, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .library import LoadedPathway
from .models import Event, HumanTask, MessageWait, PathwayInstance, TimerJob
from .pathway_files import form_id_of, role_of_lane
from .safety.case_work import named_assignee
from .spiff import (
    BpmnWorkflow,
    TaskState,
    all_tasks,
    find_task,
    is_timer_event,
    iso_duration_after,
    message_waits,
    next_timer_due,
    parse_datetime,
    ready_user_tasks,
)
from .spiff import task_properties as _spec_properties
from .states import InstanceStatus, JobKind, JobStatus, Lifecycle, TaskStatus

log = logging.getLogger(__name__)

# SpiffWorkflow adds specs of its own (Root, Start, End, <process>.EndJoin) that are not BPMN elements.
_INTERNAL = {"Root", "Start", "End"}


@dataclass
class Live:
    """A pathway instance loaded into the current step, with what its rows said when it was loaded.

    The snapshots let a step skip the tables whose projection did not change (most steps touch one or
    two of them), which keeps a step to a handful of statements."""

    row: PathwayInstance
    wf: BpmnWorkflow
    pathway: LoadedPathway
    client_id: int
    case_manager_id: Callable[[], int | None]  # looked up only when a case-manager task opens
    states: dict[UUID, int] = field(default_factory=dict)
    ready: set[str] = field(default_factory=set)
    waits: set[str] = field(default_factory=set)
    timer_due: datetime | None = None
    force_timer_sync: bool = False

    @classmethod
    def loaded(
        cls,
        row: PathwayInstance,
        wf: BpmnWorkflow,
        pathway: LoadedPathway,
        client_id: int,
        case_manager_id: Callable[[], int | None],
    ) -> Live:
        return cls(
            row,
            wf,
            pathway,
            client_id,
            case_manager_id,
            states=task_states(wf),
            ready=ready_ids(wf),
            waits=message_waits(wf),
            timer_due=next_timer_due(wf),
        )


def ready_ids(wf: BpmnWorkflow) -> set[str]:
    return {str(t.id) for t in ready_user_tasks(wf)}


def task_states(wf: BpmnWorkflow) -> dict[UUID, int]:
    return {t.id: t.state for t in all_tasks(wf)}


def _is_element(task: Any) -> bool:  # a SpiffWorkflow task (untyped)
    spec = task.task_spec
    return spec.bpmn_id is not None and spec.name not in _INTERNAL and not spec.name.endswith(".EndJoin")


def _is_gateway(task: Any) -> bool:
    return "Gateway" in type(task.task_spec).__name__


# Every column of an event row but its id: each row of one INSERT must name the same columns.
_EVENTS = cast(Table, Event.__table__)
_EVENT_COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name != "id")
# A Core insert of the table (not the mapped class): executed with a list of rows it is one executemany, with no
# unit of work and no ids read back.
_INSERT_EVENTS = insert(_EVENTS)


class EventLog:
    """The event-log rows a step adds, written together in one INSERT when the step is written.

    A step logs several events (a task completed, the next one ready, a message, a risk change); as ORM objects
    each was a unit-of-work insert of its own that also read back its id, which nothing in a step uses. Nothing
    reads the log during the step that writes it, so the rows wait here until `write` at the end of the step."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, **values: Any) -> None:
        row: dict[str, Any] = dict.fromkeys(_EVENT_COLUMNS)
        row["activity_name"] = ""
        row.update(values)
        self.rows.append(row)

    def write(self, session: Session) -> None:
        """Insert the rows logged so far, in the order they were logged (the log's order within one instant)."""
        if self.rows:
            session.connection().execute(_INSERT_EVENTS, self.rows)
            self.rows = []


def log_transitions(events: EventLog, live: Live, now: datetime, case_id: int, done_by: dict[UUID, str]) -> None:
    """Event-log rows for every task whose state changed since `live.states`, then remember the new ones."""
    after = task_states(live.wf)
    for task in all_tasks(live.wf):
        old, new = live.states.get(task.id), after[task.id]
        if old == new or not _is_element(task) or _is_gateway(task):
            continue
        if new == TaskState.READY and task.task_spec.manual:
            lifecycle = Lifecycle.READY
        elif new == TaskState.COMPLETED:
            lifecycle = (
                Lifecycle.TIMER_FIRED if is_timer_event(task) and old == TaskState.WAITING else Lifecycle.COMPLETED
            )
        elif new == TaskState.CANCELLED and old in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            lifecycle = Lifecycle.CANCELLED
        else:
            continue
        events.add(
            at=now,
            case_id=case_id,
            client_id=live.client_id,
            instance_id=live.row.id,
            process_id=live.row.process_id,
            pathway_version=live.pathway.version,
            activity=task.task_spec.bpmn_id,
            activity_name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            lifecycle=lifecycle,
            role=role_of_lane(task.task_spec.lane),
            username=done_by.get(task.id) if lifecycle == Lifecycle.COMPLETED else None,
        )
    live.states = after


def task_properties(task: Any) -> dict[str, Any]:
    return _spec_properties(task.task_spec)


def render_instructions(task: Any) -> str | None:
    """The task's `instructionsForEndUser`, a Jinja template over its data, rendered in Jinja's sandbox
    (the same escapes RestrictedPython refuses are refused here). The web page escapes the result."""
    template: str | None = (task.task_spec.extensions or {}).get("instructionsForEndUser")
    if not template:
        return None
    try:
        # In the sandbox process (sandbox.py): a template can loop or allocate as a script can.
        rendered: str = task.workflow.script_engine.render(template, task.data)
        return rendered.strip() or None
    except TemplateError as exc:
        # A broken template must not stop care: show it unrendered, and say why in the log (not the data).
        log.warning("instructions of %s could not be rendered: %s", task.task_spec.bpmn_id, type(exc).__name__)
        return template


def due_at_for(task: Any, now: datetime) -> datetime | None:
    """The deadline a user task carries: its `dueIn` property, evaluated over the task's data.

    `dueIn` is an expression (like timer expressions: quote literals, `"P10D"`) giving an ISO 8601
    duration counted from now, or an ISO 8601 date-time such as `handover["assessment_due"]`."""
    expression = task_properties(task).get("dueIn")
    if not expression:
        return None
    value = task.workflow.script_engine.evaluate(task, expression)
    text = str(value).strip()
    if text.upper().startswith("P"):
        return iso_duration_after(text, now)
    return parse_datetime(text)


class OpenedTask(NamedTuple):
    """A human task a step opened: its row's id, and the title its inbox shows."""

    id: int
    title: str


_TASKS = cast(Table, HumanTask.__table__)
_JOBS = cast(Table, TimerJob.__table__)
# A step's own rows are written as Core statements built once, not as objects in the ORM's unit of work: a
# new task needs only its id back (for its overdue job and the step's answer), and the unit of work's
# bookkeeping cost more CPU than the rest of a fired timer (docs/performance.md, "A step").
_OPEN_TASK = insert(_TASKS).returning(_TASKS.c.id)
_ARM_JOB = insert(_JOBS)
# On PostgreSQL a task that escalates is written with its overdue job in one statement: the task's INSERT as a
# data-modifying CTE, the job's INSERT … SELECT reading the id it returns. (SQLite has no data-modifying CTEs:
# there they are the two statements above.) The task's values are named `task_…`: a parameter named as one of
# an INSERT's columns would be taken as that column's value.
_TASK_COLUMNS = tuple(c.name for c in _TASKS.columns if c.name != "id")
_NEW_TASK = (
    insert(_TASKS)
    .values({name: bindparam(f"task_{name}") for name in _TASK_COLUMNS})
    .returning(_TASKS.c.id, _TASKS.c.case_id, _TASKS.c.due_at)
    .cte("new_task")
)
_OPEN_TASK_WITH_OVERDUE_JOB = (
    insert(_JOBS)
    .from_select(
        ["kind", "human_task_id", "case_id", "due_at", "status", "attempts"],
        select(
            literal(str(JobKind.TASK_OVERDUE)),
            _NEW_TASK.c.id,
            _NEW_TASK.c.case_id,
            _NEW_TASK.c.due_at,
            literal(str(JobStatus.PENDING)),
            literal(0),
        ),
    )
    .add_cte(_NEW_TASK)
    .returning(_JOBS.c.human_task_id)
)


def _open_task(session: Session, values: dict[str, Any], with_overdue_job: bool) -> int:
    """Insert a new task (and its overdue job, when it has one); returns the task's id."""
    connection = session.connection()
    if with_overdue_job and connection.dialect.name == "postgresql":
        named = {f"task_{name}": value for name, value in values.items()}
        return cast(int, connection.execute(_OPEN_TASK_WITH_OVERDUE_JOB, named).scalar_one())
    task_id = cast(int, connection.execute(_OPEN_TASK, values).scalar_one())
    if with_overdue_job:
        _arm_job(session, JobKind.TASK_OVERDUE, values["case_id"], values["due_at"], human_task_id=task_id)
    return task_id


def _arm_job(session: Session, kind: str, case_id: int, due: datetime, **names: int) -> None:
    values = dict(kind=kind, case_id=case_id, due_at=due, status=JobStatus.PENDING, attempts=0)
    session.connection().execute(_ARM_JOB, {"instance_id": None, "human_task_id": None, **values, **names})


def sync_human_tasks(session: Session, live: Live, now: datetime, case_id: int) -> list[OpenedTask]:
    """Open a row for each newly ready user task; close rows whose task is no longer ready.

    Returns the tasks opened. A closed task's pending overdue job is dropped with it."""
    ready = {str(t.id): t for t in ready_user_tasks(live.wf)}
    if set(ready) == live.ready:
        return []
    if live.ready - set(ready):
        open_rows = session.scalars(
            select(HumanTask).where(HumanTask.instance_id == live.row.id, HumanTask.status == TaskStatus.OPEN)
        ).all()
    else:
        open_rows = []
    for row in open_rows:
        if row.spiff_task_id in ready or row.status != TaskStatus.OPEN:
            continue
        task = find_task(live.wf, row.spiff_task_id)
        close_human_task(
            session,
            row,
            TaskStatus.COMPLETED if task is not None and task.state == TaskState.COMPLETED else TaskStatus.CANCELLED,
            now,
        )
    known, live.ready = live.ready, set(ready)
    opened = []
    for spiff_id, task in ready.items():
        if spiff_id in known:
            continue
        role = role_of_lane(task.task_spec.lane) or "case_manager"
        form_file = task_properties(task).get("formJsonSchemaFilename")
        title = (task.task_spec.bpmn_name or task.task_spec.bpmn_id)[:200]
        due_at = due_at_for(task, now)
        values = {
            "instance_id": live.row.id,
            "case_id": case_id,
            "client_id": live.client_id,
            "process_id": live.row.process_id,
            "spiff_task_id": spiff_id,
            "bpmn_id": task.task_spec.bpmn_id,
            "title": title,
            "role": role,
            # A task may name its person (`assignee`, e.g. a notice to whoever held an ended task).
            "assignee_id": named_assignee(session, task)
            or (live.case_manager_id() if role == "case_manager" else None),
            "form_id": form_id_of(form_file) if form_file else None,
            "status": TaskStatus.OPEN,
            "instructions": render_instructions(task),
            "created_at": now,
            "due_at": due_at,
            "completed_at": None,
            "completed_by": None,
            "about_task_id": None,
        }
        task_id = _open_task(session, values, with_overdue_job=due_at is not None and escalates(task))
        opened.append(OpenedTask(task_id, title))
    return opened


# Built once, as Core: it runs for nearly every task closed.
_DROP_OVERDUE = (
    update(_JOBS)
    .where(_JOBS.c.human_task_id == bindparam("task_id"), _JOBS.c.status == JobStatus.PENDING)
    .values(status=JobStatus.DROPPED)
)
_CLOSE_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"))
    .values(
        status=bindparam("closed_as"),
        completed_at=bindparam("closed_at"),
        completed_by=bindparam("closed_by"),
        assignee_id=bindparam("held_by"),
    )
)


# On PostgreSQL the two as one statement, the task's UPDATE as a data-modifying CTE (as for opening a task).
_CLOSED = _CLOSE_TASK.returning(_TASKS.c.id).cte("closed")
_CLOSE_TASK_AND_DROP_OVERDUE = (
    update(_JOBS)
    .where(_JOBS.c.human_task_id.in_(select(_CLOSED.c.id)), _JOBS.c.status == JobStatus.PENDING)
    .values(status=JobStatus.DROPPED)
    .add_cte(_CLOSED)
)


def close_human_task(session: Session, row: HumanTask, status: str, now: datetime, user_id: int | None = None) -> None:
    """Close a task's row; its pending overdue escalation goes with it.

    Written as one Core UPDATE; the loaded row is given the same values as committed, so the unit of work
    has nothing left to write for it."""
    closed = {
        "status": status,
        "completed_at": row.completed_at or now,
        "completed_by": row.completed_by if user_id is None else user_id,
        "assignee_id": row.assignee_id,
    }
    values = {
        "task_id": row.id,
        "closed_as": closed["status"],
        "closed_at": closed["completed_at"],
        "closed_by": closed["completed_by"],
        "held_by": closed["assignee_id"],
    }
    connection = session.connection()
    # No deadline, no overdue job (and a stray one would find the task closed and do nothing).
    has_job = row.due_at is not None
    if has_job and connection.dialect.name == "postgresql":
        connection.execute(_CLOSE_TASK_AND_DROP_OVERDUE, values)
    else:
        connection.execute(_CLOSE_TASK, values)
        if has_job:
            connection.execute(_DROP_OVERDUE, {"task_id": row.id})
    for name, value in closed.items():
        set_committed_value(row, name, value)


def escalates(task: Any) -> bool:
    """Overdue work goes to the supervisor, unless the task says `escalateWhenOverdue` = `false`
    (the supervisor's own review of overdue work, which would otherwise escalate to itself)."""
    return str(task_properties(task).get("escalateWhenOverdue", "true")).strip().lower() != "false"


def sync_message_waits(session: Session, live: Live, case_id: int) -> None:
    now_waiting = message_waits(live.wf) if live.row.status == InstanceStatus.RUNNING else set()
    if now_waiting == live.waits:
        return
    live.waits = now_waiting
    wanted = sorted(now_waiting)
    rows = session.scalars(select(MessageWait).where(MessageWait.instance_id == live.row.id)).all()
    if sorted(r.message_name for r in rows) == wanted:
        return
    for row in rows:
        session.delete(row)
    for name in wanted:
        session.add(MessageWait(instance_id=live.row.id, case_id=case_id, message_name=name))


def sync_timer_job(session: Session, live: Live, case_id: int, now: datetime) -> None:
    """Keep exactly one pending `bpmn_timer` job per instance, at its earliest waiting timer."""
    due = next_timer_due(live.wf) if live.row.status == InstanceStatus.RUNNING else None
    if live.force_timer_sync:
        # The worker's guard has just marked this instance's one pending timer job done: arm the next.
        live.timer_due, live.force_timer_sync = due, False
        if due is not None:
            _arm_job(session, JobKind.BPMN_TIMER, case_id, due, instance_id=live.row.id)
        return
    if due == live.timer_due:
        return
    live.timer_due = due
    pending = session.scalars(
        select(TimerJob).where(
            TimerJob.instance_id == live.row.id,
            TimerJob.kind == JobKind.BPMN_TIMER,
            TimerJob.status == JobStatus.PENDING,
        )
    ).all()
    keep = None
    for job in pending:
        if due is not None and keep is None and job.due_at == due:
            keep = job
        else:
            job.status = JobStatus.DONE if job.due_at <= now + timedelta(microseconds=1) else JobStatus.DROPPED
            job.fired_at = job.fired_at or (now if job.status == JobStatus.DONE else None)
    if due is not None and keep is None:
        _arm_job(session, JobKind.BPMN_TIMER, case_id, due, instance_id=live.row.id)


_INSTANCES = cast(Table, PathwayInstance.__table__)
# The optimistic lock, by hand: the write names the version the step read, and finds no row if another step
# wrote the instance since.
_WRITE_INSTANCE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_id"), _INSTANCES.c.version == bindparam("read_version"))
    .values(
        state=bindparam("new_state"),
        version=bindparam("new_version"),
        status=bindparam("new_status"),
        ended_at=bindparam("new_ended_at"),
    )
)


def write_instance(session: Session, row: PathwayInstance, state: dict[str, Any]) -> None:
    """Write the instance's state, status and end, guarded by the version the step read.

    The loaded row is given the written values as committed, so the unit of work does not write it again.
    Raises StaleDataError (the ORM's own, which the unit of work reports as a conflict) when another step
    wrote the instance first."""
    written = {"state": state, "version": row.version + 1, "status": row.status, "ended_at": row.ended_at}
    result = session.connection().execute(
        _WRITE_INSTANCE,
        {
            "instance_id": row.id,
            "read_version": row.version,
            "new_state": written["state"],
            "new_version": written["version"],
            "new_status": written["status"],
            "new_ended_at": written["ended_at"],
        },
    )
    if result.rowcount != 1:
        raise StaleDataError(f"pathway instance {row.id} was changed by another step")
    for name, value in written.items():
        set_committed_value(row, name, value)
