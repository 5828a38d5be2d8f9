"""The pathway heat map's figures: for one pathway and period, per BPMN element, how often it was reached,
the median wait of its human tasks (opened to completed) and the share of them completed late.

Read from the event log (reached) and the human-task projection (waits, lateness), never the instance blobs.
"""

from __future__ import annotations

from statistics import median
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Event, HumanTask, PathwayVersion
from ..states import Lifecycle, TaskStatus
from .compute import Period


class ElementHeat(TypedDict):
    reached: int
    completed: int
    median_wait_seconds: int | None
    late: int
    late_share: float | None  # of the completions that had a due time


class HeatMap(TypedDict):
    pathway: str
    version: int
    name: str
    bpmn_file: str
    elements: dict[str, ElementHeat]
    most_reached: int


def _blank() -> ElementHeat:
    return {"reached": 0, "completed": 0, "median_wait_seconds": None, "late": 0, "late_share": None}


def pathway_heatmap(session: Session, pathway: str, period: Period) -> HeatMap:
    """The figures for the pathway's current diagram. Raises NotFound for a pathway never published."""
    version = session.scalars(
        select(PathwayVersion).where(PathwayVersion.process_id == pathway, PathwayVersion.is_current.is_(True))
    ).first()
    if version is None:
        raise NotFound(f"There is no pathway '{pathway}'.")
    elements: dict[str, ElementHeat] = {}
    counts = session.execute(
        select(Event.activity, Event.lifecycle, func.count())
        .where(
            Event.process_id == pathway,
            Event.at >= period.since,
            Event.at < period.before,
            Event.lifecycle.in_((Lifecycle.READY, Lifecycle.COMPLETED, Lifecycle.TIMER_FIRED)),
        )
        .group_by(Event.activity, Event.lifecycle)
    ).all()
    ready = {a for a, lifecycle, _ in counts if lifecycle == Lifecycle.READY}
    for activity, lifecycle, n in counts:
        heat = elements.setdefault(activity, _blank())
        # A human task is reached when it opens; any other element when it completes (or its timer fires).
        if lifecycle == Lifecycle.READY or (activity not in ready and lifecycle != Lifecycle.READY):
            heat["reached"] += n
        if lifecycle == Lifecycle.COMPLETED:
            heat["completed"] += n
    waits: dict[str, list[float]] = {}
    late: dict[str, list[bool]] = {}
    for bpmn_id, created, completed, due in session.execute(
        select(HumanTask.bpmn_id, HumanTask.created_at, HumanTask.completed_at, HumanTask.due_at)
        .where(
            HumanTask.process_id == pathway,
            HumanTask.status == TaskStatus.COMPLETED,
            HumanTask.created_at >= period.since,
            HumanTask.created_at < period.before,
        )
        .execution_options(yield_per=10_000)
    ):
        if completed is None:  # a completed task has its time (the column is empty only while a task is open)
            continue
        waits.setdefault(bpmn_id, []).append((completed - created).total_seconds())
        if due is not None:
            late.setdefault(bpmn_id, []).append(completed > due)
    for bpmn_id, values in waits.items():
        elements.setdefault(bpmn_id, _blank())["median_wait_seconds"] = int(median(values))
    for bpmn_id, flags in late.items():
        heat = elements.setdefault(bpmn_id, _blank())
        heat["late"] = sum(flags)
        heat["late_share"] = round(sum(flags) / len(flags), 4)
    sources = session.scalar(select(PathwayVersion.sources).where(PathwayVersion.id == version.id)) or {}
    bpmn_file = (
        f"{pathway}.bpmn"
        if f"{pathway}.bpmn" in sources
        else next((name for name in sorted(sources) if name.endswith(".bpmn")), f"{pathway}.bpmn")
    )
    return {
        "pathway": pathway,
        "version": version.version,
        "name": version.name or pathway,
        "bpmn_file": bpmn_file,
        "elements": elements,
        "most_reached": max((e["reached"] for e in elements.values()), default=0),
    }
