"""Pathway code that tries to hold a server: each case is a diagram whose step must be stopped at the step's
bound, plus what the tests need to check that the step failed cleanly."""

from __future__ import annotations

import threading
import time
from xml.sax.saxutils import escape

import bpmn_fixtures as bf
from sqlalchemy import func, select

from carepath.engine.models import Event, HumanTask, PathwayInstance, Score, TimerJob

# The limit the hostile tests run under (seconds), and how much later than it a step may end: the grace
# before a sandbox process stuck in one C call is killed (0.3 s), the step's own work, a busy machine.
LIMIT = 1.0
SLACK = 1.5

# (label, where the code goes, the code, the kinds of stop that are acceptable)
HOSTILE = [
    ("one-line loop", "script", "while True: pass", {"time_limit"}),
    ("comprehension over range(10**9)", "script", "x = [i for i in range(10**9)]", {"time_limit", "memory_limit"}),
    ("sum over a huge range", "script", "x = sum(range(3 * 10**8))", {"time_limit"}),
    ("string multiplication", "script", "x = 'x' * 10**9", {"memory_limit"}),
    ("list multiplication", "script", "x = [0] * 10**9", {"memory_limit"}),
    ("huge power", "script", "x = 10 ** (10 ** 8)", {"time_limit"}),
    ("deep recursion via a lambda", "script", "f = lambda n: f(n + 1)\nx = f(0)", {"recursion_limit"}),
    ("pre-script loop", "prescript", "while True: pass", {"time_limit"}),
    ("gateway condition", "condition", "sum(range(10**10)) > 0", {"time_limit"}),
    ("timer expression", "timer", "'P%dD' % len([0] * 10**9)", {"memory_limit"}),
    ("dueIn expression", "due", "'P1D' if max(range(10**10)) else 'P2D'", {"time_limit"}),
    ("message payload", "payload", "{'n': len('x' * 10**9)}", {"memory_limit"}),
    ("DMN cell", "dmn", "sum(range(10**10)) > 0", {"time_limit"}),
    (
        "task instructions",
        "instructions",
        "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
        {"time_limit"},
    ),
]


def _dmn(decision: str, cell: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="d" '
        'namespace="http://carepath.example.org/dmn">'
        f'<decision id="{decision}" name="Hostile"><decisionTable id="t" hitPolicy="UNIQUE">'
        '<input id="i" label="n"><inputExpression id="ie" typeRef="integer"><text>1</text></inputExpression></input>'
        '<output id="o" label="out" name="outcome" typeRef="string"/>'
        f'<rule id="r"><inputEntry id="e"><text>{escape(cell)}</text></inputEntry>'
        '<outputEntry id="oe"><text>"yes"</text></outputEntry></rule>'
        "</decisionTable></decision></definitions>\n"
    )


def _ext(inner: str) -> str:
    return f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>"


def pathway_files(process_id: str, where: str, code: str):
    """The files of a one-lane test pathway whose element `x`, after the task `first`, runs `code`."""
    end = '<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end"/>'
    extra_lane, extra_files, message = [], {}, ""
    if where == "script":
        after = bf.script_then_end(code)
    elif where == "prescript":
        pre = _ext(f"<spiffworkflow:preScript>{escape(code)}</spiffworkflow:preScript>")
        after = f'<bpmn:task id="x" name="Prepare">{pre}</bpmn:task>' + end  # script tasks take no pre-script
    elif where == "condition":
        after = bf.condition_then_end(code)
    elif where == "timer":
        after = bf.timer_then_end(code)
    elif where == "due":
        after, extra_lane = bf.user_task("x", "Second", due=code) + end, ["x"]
    elif where == "instructions":
        props = (
            '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
            'value="note.schema.json"/></spiffworkflow:properties>'
        )
        text = f"<spiffworkflow:instructionsForEndUser>{escape(code)}</spiffworkflow:instructionsForEndUser>"
        after, extra_lane = f'<bpmn:userTask id="x" name="Second">{_ext(props + text)}</bpmn:userTask>' + end, ["x"]
    elif where == "payload":
        payload = _ext(f"<spiffworkflow:messagePayload>{escape(code)}</spiffworkflow:messagePayload>")
        message = f'<bpmn:message id="m_out" name="{process_id}_out">{payload}</bpmn:message>'
        after = '<bpmn:endEvent id="x"><bpmn:messageEventDefinition messageRef="m_out"/></bpmn:endEvent>'
    elif where == "dmn":
        decision = f"{process_id}_decision"
        called = _ext(f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>")
        after = f'<bpmn:businessRuleTask id="x" name="Decide">{called}</bpmn:businessRuleTask>' + end
        extra_files[f"{process_id}.dmn"] = _dmn(decision, code)
    else:
        raise ValueError(where)
    text = bf.pathway(process_id, after=after, start_message=f"go_{process_id}")
    for node in extra_lane:
        text = text.replace(
            "<bpmn:flowNodeRef>first</bpmn:flowNodeRef>",
            f"<bpmn:flowNodeRef>first</bpmn:flowNodeRef><bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>",
        )
    text = text.replace("<bpmn:process ", message + "<bpmn:process ", 1)
    fs = bf.files(**{process_id: text})
    fs.files.update(extra_files)
    return fs


def start(cp, driver, actors, process_id: str, where: str, code: str, case_id: int | None = None):
    """Publish the hostile pathway (through the library's checks: it is legal Python) and open its first task."""
    bf.publish(cp, pathway_files(process_id, where, code))
    case_id = case_id or driver.new_case()
    cp.deliver_message(actors["case_manager"], case_id, f"go_{process_id}", {})
    warm_sandbox(cp)
    return case_id, driver.task(case_id, "first")


def warm_sandbox(cp) -> None:
    """Leave an idle sandbox process in the pool (the one before may have been killed), so that a timed
    step measures the step and not the start of a process (which is not charged to the step either)."""
    cp.runtime.script_engine.environment.evaluate("1", {})


def snapshot(cp, case_id: int) -> dict:
    """Everything a step of the case could have written."""
    with cp.db() as session:

        def count(model):
            return session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))

        states = session.execute(
            select(PathwayInstance.id, PathwayInstance.state, PathwayInstance.status)
            .where(PathwayInstance.case_id == case_id)
            .order_by(PathwayInstance.id)
        ).all()
        tasks = session.execute(
            select(HumanTask.id, HumanTask.status).where(HumanTask.case_id == case_id).order_by(HumanTask.id)
        ).all()
        jobs = session.execute(
            select(TimerJob.id, TimerJob.status, TimerJob.due_at)
            .where(TimerJob.case_id == case_id)
            .order_by(TimerJob.id)
        ).all()
        return {
            "instances": [tuple(r) for r in states],
            "tasks": [tuple(r) for r in tasks],
            "jobs": [tuple(r) for r in jobs],
            "events": count(Event),
            "scores": count(Score),
        }


def within(seconds: float, fn):
    """Run fn in a daemon thread; fail (instead of hanging the run, as the old sandbox did) if it does not
    return in time. Returns (fn's result, seconds taken)."""
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    took = time.monotonic() - started
    assert not worker.is_alive(), f"still running after {seconds:.1f} s: the step was not stopped"
    if "error" in box:
        raise box["error"]
    return box["result"], took
