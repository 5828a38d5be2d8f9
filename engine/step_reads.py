"""What a step reads before it runs, each in one statement: the task being completed with its case and
instance, or the instance a timer fires in with its case. A step reads these first, always together; as
separate lookups they were three round trips (the task, its case, its instance), and the worker fires
thousands of timers in a sweep.

The rows land in the session's identity map, so the runtime's own `session.get` of the case and the
instance afterwards reads nothing more: the instance's `version`, the optimistic lock's guard, is the one
read here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, Table, bindparam, select, update
from sqlalchemy.orm import Session, lazyload

from .models import Case, Client, HumanTask, PathwayInstance, TimerJob
from .states import InstanceStatus, JobStatus

# A step finds its parsed pathway by the instance's `pathway_version_id` (library.SpecCache.by_id): the version's
# row, which the mapping joins to every instance loaded, is not needed.
WITHOUT_VERSION_ROW = (lazyload(PathwayInstance.pathway_version),)
# Neither is the task's assignee, which the mapping also joins: the step compares ids.
_WITHOUT_ASSIGNEE = lazyload(HumanTask.assignee)

# Both reads are built once: they run for every timer fired and every task completed.
_RUNNING_INSTANCE = (
    select(PathwayInstance, Case, Client.case_manager_id)
    .join(Case, Case.id == PathwayInstance.case_id)
    .join(Client, Client.id == Case.client_id)
    .where(PathwayInstance.id == bindparam("instance_id"))
    .options(*WITHOUT_VERSION_ROW)
)
_TASK_TARGET = (
    select(HumanTask, Case, PathwayInstance)
    .join(Case, Case.id == HumanTask.case_id)
    .join(PathwayInstance, PathwayInstance.id == HumanTask.instance_id)
    .where(HumanTask.id == bindparam("task_id"))
    .with_for_update(of=HumanTask)
    .options(_WITHOUT_ASSIGNEE, *WITHOUT_VERSION_ROW)
)


_JOBS = cast(Table, TimerJob.__table__)
# The worker's guard (engine/timers.py): a job is marked done only by the worker that still holds its lease, in
# the transaction of the step it causes. Built once, as Core on the table: it runs for every job fired.
_MARK_DONE_IF_HELD = (
    update(_JOBS)
    .where(
        _JOBS.c.id == bindparam("job_id"),
        _JOBS.c.status == JobStatus.PENDING,
        _JOBS.c.locked_by == bindparam("worker"),
    )
    .values(status=JobStatus.DONE, fired_at=bindparam("fired_at"), locked_until=None)
)


@dataclass(frozen=True)
class JobHold:
    """A timer job as the worker that leased it holds it."""

    job_id: int
    worker_id: str


def mark_done_if_held(session: Session, hold: JobHold, now: datetime) -> bool:
    """Mark the job done if this worker still holds it (the row stays locked until the step commits, so no
    other worker can take it meanwhile). False: the lease passed to another worker, or the job is gone."""
    done = session.connection().execute(
        _MARK_DONE_IF_HELD, {"job_id": hold.job_id, "worker": hold.worker_id, "fired_at": now}
    )
    return cast(CursorResult[object], done).rowcount == 1


@dataclass(frozen=True)
class TimerTarget:
    # Held for the step: the session keeps only weak references, and the step's own load of the instance
    # finds it in the session only while something holds it.
    instance: PathwayInstance
    case: Case
    case_manager_id: int | None


def running_instance(session: Session, instance_id: int) -> TimerTarget | None:
    """The case of a running instance and its client's case manager (who gets the case-manager tasks the
    timer may open); None when the instance is gone or no longer running."""
    found = session.execute(_RUNNING_INSTANCE, {"instance_id": instance_id}).first()
    return _running(found[0], found[1], found[2]) if found is not None else None


def _running(instance: PathwayInstance | None, case: Case | None, case_manager_id: int | None) -> TimerTarget | None:
    if instance is None or case is None or instance.status != InstanceStatus.RUNNING:
        return None
    return TimerTarget(instance, case, case_manager_id)


# On PostgreSQL the guard and the read are one statement: the guard's UPDATE as a data-modifying CTE, which
# PostgreSQL runs exactly once whatever the SELECT finds, and the instance joined to the job it marked (no row:
# the job was not held). SQLite has no data-modifying CTEs: there they are two statements.
_HELD = _MARK_DONE_IF_HELD.returning(_JOBS.c.id).cte("held")
_HELD_RUNNING_INSTANCE = (
    select(_HELD.c.id, PathwayInstance, Case, Client.case_manager_id)
    .select_from(_HELD)
    # Not named `instance_id`: an UPDATE takes a parameter named as one of its table's columns as a value to set.
    .outerjoin(PathwayInstance, PathwayInstance.id == bindparam("timer_instance"))
    .outerjoin(Case, Case.id == PathwayInstance.case_id)
    .outerjoin(Client, Client.id == Case.client_id)
    .options(*WITHOUT_VERSION_ROW)
)


def held_running_instance(
    session: Session, instance_id: int, hold: JobHold, now: datetime
) -> tuple[bool, TimerTarget | None]:
    """Mark the job that brings the timer done if this worker still holds it, and read the instance as
    `running_instance` does. Returns (held, target); nothing was read or changed when not held."""
    if session.get_bind().dialect.name != "postgresql":
        if not mark_done_if_held(session, hold, now):
            return False, None
        return True, running_instance(session, instance_id)
    found = session.execute(
        _HELD_RUNNING_INSTANCE,
        {"job_id": hold.job_id, "worker": hold.worker_id, "fired_at": now, "timer_instance": instance_id},
    ).first()
    if found is None:
        return False, None
    return True, _running(found[1], found[2], found[3])


@dataclass(frozen=True)
class TaskTarget:
    task: HumanTask
    case: Case
    instance: PathwayInstance  # held for the step, as above


def task_target(session: Session, task_id: int) -> TaskTarget | None:
    """A human task locked for completing it (a second person completing it waits here, then finds it
    done), with its case and its instance; None when there is no such task."""
    found = session.execute(_TASK_TARGET, {"task_id": task_id}).first()
    return None if found is None else TaskTarget(found[0], found[1], found[2])
