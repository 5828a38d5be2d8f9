"""Failed pathway steps, as the person sees them and as an admin sees them.

A failure inside the engine (a script error, pathway code stopped at the step's time or memory bound)
becomes a PathwayFailed (StepLimitExceeded for a bound) that says where it happened. After the step's
transaction has been rolled back, `record` writes an incident in a short transaction of its own, so an
admin finds it in `GET /api/v1/incidents` beside the worker's timer-job incidents. Incidents and logs
carry the kind and the place only: an exception's message may quote a client's data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .errors import CarepathError, PathwayFailed, StepLimitExceeded
from .models import Case, PathwayInstance, StepIncident
from .sandbox import LIMIT_TEXT, limit_of, reset_step_budget, set_step_budget
from .timers import list_incidents as list_job_incidents

if TYPE_CHECKING:
    from .access import Actor
    from .projection import Live
    from .sandbox import StepBudget

log = logging.getLogger(__name__)

_M = TypeVar("_M")


class _Where(TypedDict):
    """Where a step failed: PathwayFailed's keyword arguments of place."""

    process_id: str
    pathway_version: int | None
    element: str | None
    case_id: int | None
    instance_id: int | None
    username: str | None


class Step(Protocol):
    """What running pathway code reads of the runtime's step (runtime._Step)."""

    @property
    def budget(self) -> StepBudget: ...
    @property
    def case(self) -> Case: ...
    @property
    def actor(self) -> Actor | None: ...


LIMIT_KINDS = {
    "time": "time_limit",
    "memory": "memory_limit",
    "recursion": "recursion_limit",
    "output": "output_limit",
    "crash": "sandbox_crash",
}


def _element_of(exc: BaseException | None) -> str | None:
    """The BPMN element SpiffWorkflow says failed (its exceptions carry the task), if any."""
    for _ in range(20):
        if exc is None:
            return None
        spec = getattr(getattr(exc, "task", None), "task_spec", None) or getattr(exc, "task_spec", None)
        bpmn_id: str | None = getattr(spec, "bpmn_id", None)  # SpiffWorkflow's, untyped
        if bpmn_id:
            return bpmn_id
        exc = exc.__cause__ or exc.__context__
    return None


def step_failure(
    exc: Exception,
    *,
    process_id: str,
    pathway_version: int | None,
    instance_id: int | None,
    case_id: int | None,
    username: str | None,
    time_limit: float,
    memory_mb: int,
) -> PathwayFailed:
    """The PathwayFailed a failure inside the engine becomes. Logs the kind and the place, never the message."""
    element = _element_of(exc)
    where = f" at {element}" if element else ""
    ids = _Where(
        process_id=process_id,
        pathway_version=pathway_version,
        element=element,
        case_id=case_id,
        instance_id=instance_id,
        username=username,
    )
    limit = limit_of(exc)
    if limit is not None:
        bound = {"time": f" ({time_limit:g} s)", "memory": f" ({memory_mb} MB)"}.get(limit.kind, "")
        failed: PathwayFailed = StepLimitExceeded(
            f"The {process_id} pathway was stopped{where}: a script, condition or expression "
            f"{LIMIT_TEXT[limit.kind]}{bound}. Nothing was saved.",
            kind=LIMIT_KINDS[limit.kind],
            **ids,
        )
    else:
        error_type = getattr(exc, "error_type", None) or type(exc).__name__
        kind = "refused" if error_type == "ScriptRefused" else "script_error"
        failed = PathwayFailed(
            f"The {process_id} pathway failed{where}: {exc}. Nothing was saved.",
            kind=kind,
            error_type=error_type,
            **ids,
        )
    log.warning("pathway step failed: %s", failed.summary())
    return failed


@contextmanager
def pathway_code(step: Step, live: Live, time_limit: float, memory_mb: int) -> Iterator[None]:
    """Run the enclosed pathway code (a runtime step's `live` instance) under the step's time budget; any
    failure of it, other than the database's and the engine's own errors, becomes a PathwayFailed."""
    budget_token = set_step_budget(step.budget)
    try:
        yield
    except (SQLAlchemyError, CarepathError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of pathway code fails the step as a whole
        raise step_failure(
            exc,
            process_id=live.row.process_id,
            pathway_version=live.pathway.version,
            instance_id=live.row.id,
            case_id=step.case.id,
            username=step.actor.username if step.actor else None,
            time_limit=time_limit,
            memory_mb=memory_mb,
        ) from exc
    finally:
        reset_step_budget(budget_token)


def _existing(session: Session, model: type[_M], row_id: int | None) -> _M | None:
    return session.get(model, row_id) if row_id is not None else None


def record(db: sessionmaker[Session], failed: PathwayFailed, at: datetime) -> int | None:
    """Write (or count up) the incident for a failed step, in its own transaction. Never raises:
    failing to record must not hide the step's own failure from the person. Returns the incident id."""
    try:
        with db.begin() as session:
            # The failed step's own rows were rolled back: keep only ids of rows that existed before it.
            case = _existing(session, Case, failed.case_id)
            instance = _existing(session, PathwayInstance, failed.instance_id)
            case_id = case.id if case is not None else None
            instance_id = instance.id if instance is not None and instance.case_id == case_id else None
            key = dict(
                kind=failed.kind,
                error_type=failed.error_type,
                process_id=failed.process_id,
                pathway_version=failed.pathway_version,
                element=failed.element,
                case_id=case_id,
                instance_id=instance_id,
            )
            row = session.scalars(
                select(StepIncident).filter_by(**key).order_by(StepIncident.id.desc()).limit(1)
            ).first()
            if row is None:
                row = StepIncident(first_at=at, last_at=at, occurrences=1, username=failed.username, **key)
                session.add(row)
            else:
                row.occurrences, row.last_at, row.username = row.occurrences + 1, at, failed.username
            session.flush()
            incident_id = row.id
    except SQLAlchemyError as exc:
        log.error("could not record the incident for %s: %s", failed.summary(), type(exc).__name__)
        return None
    failed.incident_id = incident_id
    failed.message += f" An administrator can see this as incident {incident_id}."
    return incident_id


def step_incident_view(row: StepIncident) -> dict[str, Any]:
    return {
        "source": "step",
        "id": row.id,
        "kind": row.kind,
        "error_type": row.error_type,
        "pathway": row.process_id,
        "pathway_version": row.pathway_version,
        "element": row.element,
        "case_id": row.case_id,
        "instance_id": row.instance_id,
        "username": row.username,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "occurrences": row.occurrences,
        "error": _describe(row),
    }


def _describe(row: StepIncident) -> str:
    by_kind = {kind: f"pathway code {LIMIT_TEXT[short]}" for short, kind in LIMIT_KINDS.items()}
    by_kind["refused"] = "pathway code used something the sandbox does not allow"
    text = by_kind.get(row.kind, f"pathway step failed ({row.error_type or row.kind})")
    return text + (f" at {row.element}" if row.element else "")


def list_step_incidents(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(StepIncident).order_by(StepIncident.id)).all()
    return [step_incident_view(r) for r in rows]


def list_all(session: Session) -> list[dict[str, Any]]:
    """Everything an admin should look at: timer jobs that kept failing, then failed steps."""
    jobs = [{"source": "timer_job", **view} for view in list_job_incidents(session)]
    return jobs + list_step_incidents(session)
