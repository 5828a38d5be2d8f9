"""What a fired timer's step reads first: the instance, its case and the client's case manager (who gets
the case-manager tasks the timer may open), in one statement. The worker fires thousands of timers in a
sweep, and these were three round trips each before."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, Client, PathwayInstance
from .states import InstanceStatus


@dataclass(frozen=True)
class TimerTarget:
    # Held for the step: the session keeps only weak references, and the step's own load of the instance
    # finds it in the session only while something holds it.
    instance: PathwayInstance
    case: Case
    case_manager_id: int | None


def running_instance(session: Session, instance_id: int) -> TimerTarget | None:
    """The case of a running instance and its client's case manager; None when the instance is gone or no
    longer running. The instance row (with its pathway version) is now in the session, so the step's own
    load of it reads no more: its version, the optimistic lock's guard, is the one read here."""
    found = session.execute(
        select(PathwayInstance, Case, Client.case_manager_id)
        .join(Case, Case.id == PathwayInstance.case_id)
        .join(Client, Client.id == Case.client_id)
        .where(PathwayInstance.id == instance_id)
    ).first()
    if found is None or found[0].status != InstanceStatus.RUNNING:
        return None
    return TimerTarget(found[0], found[1], found[2])
