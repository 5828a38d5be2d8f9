"""The one adapter between Carepath and SpiffWorkflow: every use of something SpiffWorkflow does not offer
as a public, documented API lives here, each with a test in tests/test_spiff_adapter.py that fails loudly
if an upgrade changes it.

What is here, and why:
- Serialization without the spec. A saved instance leaves out `spec` and `subprocess_specs` (they are
  stored once per pathway version); on load the already parsed, shared spec objects are put back. The
  stock converter converts the whole spec on every save and rebuilds it on every load, which was most
  of a step's cost.
- The clock hook. SpiffWorkflow computes and checks timer due times with `datetime.now(timezone.utc)`
  inside its timer module and offers no hook; that module's `datetime` is replaced by one whose `now()`
  answers the instant of the step being run (see clock.py), so tests, the checker and
  `carepath worker --now T` move time for one step without touching other threads.
- What a workflow waits for. `BpmnWorkflow.waiting_events()` reports an event-based gateway's or a
  multiple event's definitions as one nameless entry; the event manager's task table gives each one.
  A waiting timer's due time is in the task's internal data (`event_value`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import SpiffWorkflow
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as _AnyMessageDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from .clock import current_step_time

# The release these internals were checked against (pyproject pins SpiffWorkflow~=3.2.0).
CHECKED_RELEASE = "3.2"

__all__ = ["BpmnWorkflow", "TaskState", "TimerEventDefinition"]


# ---------- serialization with the spec stored once per version ----------


class _InstanceConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow has no types: its base is Any
    """Saves an instance without its spec; loads it onto the spec objects it is given (shared, not rebuilt)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = _InstanceConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    registry = _SERIALIZER.registry
    return {
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
    }


def load_spec(stored: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    registry = _SERIALIZER.registry
    spec = registry.restore(stored["spec"])
    subs = {name: registry.restore(s) for name, s in stored["subprocess_specs"].items()}
    return spec, subs


def dump_instance(workflow: BpmnWorkflow) -> dict[str, Any]:
    state: dict[str, Any] = _SERIALIZER.to_dict(workflow)
    state[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return state


def load_instance(state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = dict(state)
    version = dct.pop(_SERIALIZER.VERSION_KEY, _SERIALIZER.VERSION)
    if version != _SERIALIZER.VERSION:
        dct[_SERIALIZER.VERSION_KEY] = version
        _SERIALIZER.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return _SERIALIZER.from_dict(dct)


# ---------- the clock hook ----------


class _StepDatetime(datetime):
    """`datetime` as SpiffWorkflow's timer module sees it: `now()` answers the step's instant."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        instant = current_step_time()
        if instant is None:
            return datetime.now(tz)
        return instant.astimezone(tz) if tz else instant.astimezone(UTC).replace(tzinfo=None)


_spiff_timer.datetime = _StepDatetime


# ---------- reading a workflow ----------


def all_tasks(wf: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the instance and its subprocesses (a plain walk: no iterator depth limit)."""
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def find_task(wf: BpmnWorkflow, task_id: str) -> Any | None:
    """A task of the instance or of any of its subprocesses, or None."""
    uid = UUID(task_id)
    if uid in wf.tasks:
        return wf.tasks[uid]
    for sub in wf.subprocesses.values():
        if uid in sub.tasks:
            return sub.tasks[uid]
    return None


def ready_user_tasks(wf: BpmnWorkflow) -> list[Any]:
    return list(wf.get_tasks(state=TaskState.READY, manual=True))


def waiting(wf: BpmnWorkflow) -> Iterator[tuple[Any, Any]]:
    """(task, event definition) for every catch event waiting, with an event-based gateway's or a
    multiple event's definitions taken one by one."""
    for task in wf.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        for one in getattr(definition, "event_definitions", None) or [definition]:
            yield task, one


def message_waits(wf: BpmnWorkflow) -> set[str]:
    """Names of the messages the workflow is waiting for."""
    return {d.name for _, d in waiting(wf) if isinstance(d, _AnyMessageDefinition)}


def next_timer_due(wf: BpmnWorkflow) -> datetime | None:
    """The earliest due time among the workflow's waiting timers (duration, date and cycle)."""
    dues: list[datetime] = []
    for task, definition in waiting(wf):
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):  # a cycle: its next occurrence, while cycles remain
            if value.get("cycles") == 0:
                continue
            value = value.get("next")
        if value:
            dues.append(TimerEventDefinition.get_datetime(value))
    return min(dues) if dues else None


def is_timer_event(task: Any) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def task_properties(task_spec: Any) -> dict[str, Any]:
    """A task spec's `spiffworkflow:properties` (form, dueIn, …), empty when it has none."""
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


# ---------- messages ----------


def thrown_messages(wf: BpmnWorkflow) -> list[tuple[str, dict[str, Any]]]:
    """Messages the workflow threw that nothing inside it caught: Carepath routes them within the case."""
    return [
        (event.event_definition.name, event.payload or {})
        for event in wf.get_events()
        if isinstance(event.event_definition, _AnyMessageDefinition)
    ]


def catch_message(wf: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Deliver a message to the workflow (events match on the Spiff parser's own definition class)."""
    wf.catch(BpmnEvent(MessageEventDefinition(name), payload=payload))


def iso_duration_after(text: str, start: datetime) -> datetime:
    """`start` plus an ISO 8601 duration such as P10D or PT4H."""
    parsed = TimerEventDefinition.parse_iso_duration(text)
    delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    return start + delta


def parse_datetime(text: str) -> datetime:
    parsed: datetime = TimerEventDefinition.get_datetime(text)
    return parsed


def installed_release() -> str:
    return ".".join(getattr(SpiffWorkflow, "__version__", "0.0").split(".")[:2])
