"""The worker: fires due timer jobs, each in its own transaction, never twice.

Modelled on Camunda 7's job executor: a sweep claims a batch of due jobs with a lease (`locked_by`,
`locked_until`; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several workers share the load), then fires
each one in the transaction of the step it causes. That transaction first re-checks that this worker
still holds the job and marks it done, so a job and its effects commit together: a worker killed
mid-job leaves the job pending, and another takes it once the lease has expired. A job that keeps
failing is retried with back-off, then becomes an incident that an admin can see and retry.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .db import make_sessionmaker, unit_of_work
from .errors import CarepathError, NotFound, StepLimitExceeded, described
from .models import TimerJob
from .states import JobKind, JobStatus
from .step_reads import JobHold, mark_done_if_held

if TYPE_CHECKING:
    from .clock import Clock
    from .runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A whole sweep stops after this many rounds, so a pathway that keeps creating due work cannot spin.
MAX_ROUNDS = 1000


def _real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SweepResult:
    fired: int = 0
    failed: int = 0
    incidents: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


class WorkerEngine(Protocol):
    """What a Worker needs of a Carepath: its session factory, runtime and clock."""

    @property
    def db(self) -> sessionmaker[Session]: ...
    @property
    def runtime(self) -> Runtime: ...
    @property
    def clock(self) -> Clock: ...


class Worker:
    """Fires due jobs. `now` (pathway time) may be moved; leases always run on real time."""

    def __init__(
        self,
        carepath: WorkerEngine,
        worker_id: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        real_now: Callable[[], datetime] = _real_now,
    ) -> None:
        self.cp = carepath
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease, self.batch, self.real_now = lease, batch, real_now
        self.db = carepath.db  # during a sweep, sessions on the sweep's own connection

    def sweep(self, now: datetime | None = None) -> SweepResult:
        """Fire every job due at or before `now` (default: the engine clock), including jobs that
        firing creates and that are already due. Running it again with the same `now` does nothing."""
        now = now or self.cp.clock.now()
        # One connection for the whole sweep, each claim and each job still its own transaction on it: a job
        # no longer takes a connection from the pool and pings the database first (a round trip each).
        with self.cp.db.kw["bind"].connect() as connection:
            self.db = make_sessionmaker(connection)
            try:
                return self._sweep(now)
            finally:
                self.db = self.cp.db

    def _sweep(self, now: datetime) -> SweepResult:
        result = SweepResult()
        fired_timers: set[tuple[int, datetime]] = set()
        for _round in range(MAX_ROUNDS):
            jobs = self._claim(now)
            if not jobs:
                break
            for job_id, kind, instance_id, human_task_id, due_at in jobs:
                if kind == JobKind.BPMN_TIMER and (instance_id, due_at) in fired_timers:
                    # The same timer came due again after firing: the engine did not move it on.
                    self._give_up(job_id, "the timer did not fire when due")
                    result.incidents += 1
                    continue
                outcome = self._fire(job_id, kind, instance_id, human_task_id, now)
                if outcome == "fired":
                    result.fired += 1
                    if kind == JobKind.BPMN_TIMER:
                        fired_timers.add((instance_id, due_at))
                elif outcome == "skipped":
                    result.skipped += 1
                else:
                    result.failed += 1
                    result.errors.append(outcome)
                    if outcome.startswith("incident"):
                        result.incidents += 1
        return result

    # ---------- claiming ----------

    def _claim(self, now: datetime) -> list[tuple[Any, ...]]:
        """Lease the next batch of due jobs in one statement: UPDATE … WHERE id IN (the due jobs, oldest first,
        FOR UPDATE SKIP LOCKED on PostgreSQL, so racing workers take different jobs) RETURNING what firing
        needs. SQLite has one writer at a time, which serialises the claims anyway."""
        real = self.real_now()
        due = (
            select(TimerJob.id)
            .where(
                TimerJob.status == JobStatus.PENDING,
                TimerJob.due_at <= now,
                or_(TimerJob.locked_until.is_(None), TimerJob.locked_until < real),
            )
            .order_by(TimerJob.due_at, TimerJob.id)
            .limit(self.batch)
        )
        with self.db.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            rows = session.execute(
                update(TimerJob)
                .where(TimerJob.id.in_(due.scalar_subquery()))
                .values(locked_by=self.worker_id, locked_until=real + self.lease)
                .returning(TimerJob.id, TimerJob.kind, TimerJob.instance_id, TimerJob.human_task_id, TimerJob.due_at)
                .execution_options(synchronize_session=False)
            ).all()
        return sorted((tuple(r) for r in rows), key=lambda r: (r[4], r[0]))

    # ---------- firing ----------

    def _fire(self, job_id: int, kind: str, instance_id: int | None, human_task_id: int | None, now: datetime) -> str:
        try:
            # The job is marked done in the transaction of the step it causes: both commit, or neither.
            hold = JobHold(job_id, self.worker_id)
            with unit_of_work(self.db) as session:
                if kind == JobKind.BPMN_TIMER:
                    # The guard below, taken with the instance's read (engine/step_reads.py).
                    if not self.cp.runtime.fire_timers(session, now, _named(instance_id, "instance", job_id), hold):
                        return "skipped"
                    return "fired"
                if not mark_done_if_held(session, hold, now):
                    return "skipped"
                if kind == JobKind.TASK_OVERDUE:
                    self.cp.runtime.escalate_overdue(session, now, _named(human_task_id, "human task", job_id))
                else:
                    raise CarepathError(f"unknown job kind {kind!r}")
        except StepLimitExceeded as exc:
            # Pathway code stopped at the step's time or memory bound would be stopped again on every retry,
            # each costing the worker the whole limit: an incident at once, saying what and where only.
            log.warning("job %s (%s) failed: %s", job_id, kind, exc.summary())
            return self._failed(job_id, f"StepLimitExceeded: {exc.summary()}", final=True)
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the sweep
            log.warning("job %s (%s) failed: %s", job_id, kind, type(exc).__name__)
            return self._failed(job_id, described(exc))  # never the message: it may quote a record
        return "fired"

    def _failed(self, job_id: int, error: str, final: bool = False) -> str:
        with self.db.begin() as session:
            job = session.get(TimerJob, job_id)
            if job is None or job.locked_by != self.worker_id:
                return "lost"
            job.attempts += 1
            job.last_error = error[:2000]
            job.locked_by = None
            if job.attempts >= MAX_ATTEMPTS or final:
                job.status, job.locked_until = JobStatus.INCIDENT, None
                return f"incident: job {job_id}: {error[:200]}"
            # Retry later, on real time: 30 s, 1 min, 2 min, 4 min …
            job.locked_until = self.real_now() + timedelta(seconds=30 * 2 ** (job.attempts - 1))
            return f"retry: job {job_id}: {error[:200]}"

    def _give_up(self, job_id: int, error: str) -> None:
        with self.db.begin() as session:
            job = session.get(TimerJob, job_id)
            if job is not None and job.status == JobStatus.PENDING:
                job.status, job.last_error, job.locked_by, job.locked_until = JobStatus.INCIDENT, error, None, None


def _named(record_id: int | None, what: str, job_id: int) -> int:
    """The record a job of its kind always names (a job without one fails like any other)."""
    if record_id is None:
        raise CarepathError(f"job {job_id} names no {what}")
    return record_id


# ---------- incidents (admin) ----------


def incident_view(job: TimerJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "case_id": job.case_id,
        "instance_id": job.instance_id,
        "human_task_id": job.human_task_id,
        "due_at": job.due_at.isoformat(),
        "attempts": job.attempts,
        "error": job.last_error,
    }


def list_incidents(session: Session) -> list[dict[str, Any]]:
    jobs = session.scalars(select(TimerJob).where(TimerJob.status == JobStatus.INCIDENT).order_by(TimerJob.id)).all()
    return [incident_view(j) for j in jobs]


def retry_incident(session: Session, job_id: int) -> dict[str, Any]:
    """Put an incident back in the queue, due now. Raises NotFound."""
    job = session.get(TimerJob, job_id)
    if job is None or job.status != JobStatus.INCIDENT:
        raise NotFound(f"No incident {job_id}.")
    job.status, job.attempts, job.locked_by, job.locked_until = JobStatus.PENDING, 0, None, None
    return incident_view(job)
