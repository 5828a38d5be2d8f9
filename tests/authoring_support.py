"""Helpers for the authoring tests: edits to the shipped intake pathway, and a stand-in safety gate."""

from __future__ import annotations

import re

from carepath.engine import library
from carepath.engine.authoring.gate import UnsafeLibrary

# The dueIn of intake's first task, however the file quotes it: value='"P1D"' or value="&quot;P1D&quot;".
DUE = re.compile(r'(<bpmn:userTask id="record_referral".*?name="dueIn" value=)(\'"|"&quot;)(P\w+)("\'|&quot;")', re.S)


def due_of_record_referral(bpmn: str) -> str:
    return DUE.search(bpmn).group(3)


def with_record_referral_due(bpmn: str, due: str) -> str:
    """intake.bpmn with the first task's dueIn changed (what the editor's side panel writes)."""
    return DUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{due}{m.group(4)}", bpmn, count=1)


def with_condition(bpmn: str, flow_id: str, condition: str) -> str:
    pattern = re.compile(rf'(<bpmn:sequenceFlow id="{flow_id}"[^>]*>\s*<bpmn:conditionExpression[^>]*>)([^<]*)(<)')
    assert pattern.search(bpmn), flow_id
    return pattern.sub(
        lambda m: m.group(1) + condition.replace("&", "&amp;").replace("<", "&lt;") + m.group(3), bpmn, count=1
    )


class DueTimeGate:
    """A stand-in for the pathway checker with its interface (check, then record), flagging a property of the
    files rather than running episodes: a violation of "every user task has a due time", with the element as its
    reproduction. The real checker runs in the tests of engine/safety and in the browser flow."""

    def __init__(self):
        self.calls = []
        self.recorded = []

    def check(self, files, only, accept_risk=None):
        self.calls.append((sorted(only), accept_risk))
        library.build(files, only=only)
        violations = []
        for name in sorted(n for n in files.files if n[:-5] in only and n.endswith(".bpmn")):
            for task in re.findall(r'<bpmn:userTask id="(\w+)"(.*?)</bpmn:userTask>', files.files[name], re.S):
                if 'name="dueIn"' not in task[1]:
                    violations.append(
                        _Violation(
                            "due_time", f"{task[0]} has no due time", [f"open {name}", f"user task {task[0]}: no dueIn"]
                        )
                    )
        report = _Report(violations)
        if violations and accept_risk is None:
            raise UnsafeLibrary(report)
        return report

    def record(self, versions, report, accept_risk):
        self.recorded.append(([(v.process_id, v.version) for v in versions], accept_risk))


class _Violation:
    def __init__(self, invariant, message, reproduction):
        self.invariant, self.message, self.reproduction = invariant, message, reproduction


class _Report:
    def __init__(self, violations):
        self.violations, self.episodes, self.tasks_completed, self.paths, self.seconds = violations, 1, 0, set(), 0.0


def without_due_on_record_referral(bpmn: str) -> str:
    return re.sub(
        r'(<bpmn:userTask id="record_referral".*?)<spiffworkflow:property name="dueIn" '
        r'value=(?:\'"P\w+"\'|"&quot;P\w+&quot;") ?/>',
        r"\1",
        bpmn,
        count=1,
        flags=re.S,
    )
