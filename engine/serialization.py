"""Turning specs and running workflows into JSON and back, with the spec stored once per version.

An instance's saved state leaves out `spec` and `subprocess_specs`; on load they are put back from the
pathway version (already parsed and cached), so a step never re-reads or re-builds the diagram.
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Accepts spec objects in place of their dicts, so cached specs are shared, not rebuilt."""

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = _SharedSpecWorkflowConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_spec(spec, subprocess_specs: dict) -> dict:
    registry = _SERIALIZER.registry
    return {"spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()}}


def load_spec(stored: dict):
    registry = _SERIALIZER.registry
    spec = registry.restore(stored["spec"])
    subs = {name: registry.restore(s) for name, s in stored["subprocess_specs"].items()}
    return spec, subs


def dump_instance(workflow: BpmnWorkflow) -> dict:
    state = _SERIALIZER.to_dict(workflow)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    state[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return state


def load_instance(state: dict, spec, subprocess_specs: dict) -> BpmnWorkflow:
    dct = dict(state)
    version = dct.pop(_SERIALIZER.VERSION_KEY, _SERIALIZER.VERSION)
    if version != _SERIALIZER.VERSION:
        dct[_SERIALIZER.VERSION_KEY] = version
        _SERIALIZER.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return _SERIALIZER.from_dict(dct)
