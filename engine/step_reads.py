"""What a step reads before it runs, each in one statement: the task being completed with its case and
instance, or the instance a timer fires in with its case. A step reads these first, always together; as
separate lookups they were three round trips (the task, its case, its instance), and the worker fires
thousands of timers in a sweep.

The rows land in the session's identity map, so the runtime's own `session.get` of the case and the
instance afterwards reads nothing more: the instance's `version`, the optimistic lock's guard, is the one
read here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload

from .models import Case, Client, HumanTask, PathwayInstance
from .states import InstanceStatus


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
    if found is None or found[0].status != InstanceStatus.RUNNING:
        return None
    return TimerTarget(found[0], found[1], found[2])


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
