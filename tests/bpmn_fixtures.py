"""Small BPMN documents for engine tests: one lane, one user task, then the element under test."""

from __future__ import annotations

from xml.sax.saxutils import escape

from carepath.engine import library
from carepath.engine.models import PathwayVersion
from carepath.engine.pathway_files import FileSet

NOTE_FORM = """{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://carepath.example.org/forms/note",
  "title": "Note", "type": "object", "required": ["text"],
  "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 500}},
  "additionalProperties": false
}
"""

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
    'targetNamespace="http://carepath.example.org/test">\n'
)


def user_task(task_id: str, name: str, form: str = "note.schema.json", due: str | None = None) -> str:
    due_prop = f'<spiffworkflow:property name="dueIn" value="{escape(due, {chr(34): "&#34;"})}"/>' if due else ""
    return (
        f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>{due_prop}'
        f"</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def pathway(
    process_id: str,
    *,
    after: str = "",
    lane: str = "Case Manager",
    due: str | None = None,
    start_message: str | None = None,
) -> str:
    """start -> user task `first` -> [`after` elements, a chain ending in `end`] .

    `after` is raw BPMN for the element(s) after `first`; its first element must be id `x` and the chain
    must reach an end event with id `end` (flows from `first` to `x` are added here)."""
    start_def = '<bpmn:messageEventDefinition messageRef="m_start"/>' if start_message else ""
    message = f'<bpmn:message id="m_start" name="{start_message}"/>' if start_message else ""
    body = after or '<bpmn:endEvent id="x"/>'
    return (
        HEAD + message + f'<bpmn:process id="{process_id}" isExecutable="true">'
        f'<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="{lane}">'
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>first</bpmn:flowNodeRef>"
        "</bpmn:lane></bpmn:laneSet>"
        f'<bpmn:startEvent id="start">{start_def}</bpmn:startEvent>'
        + user_task("first", "First step", due=due)
        + body
        + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="first"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="first" targetRef="x"/>'
        "</bpmn:process></bpmn:definitions>\n"
    )


def script_then_end(script: str) -> str:
    return (
        f'<bpmn:scriptTask id="x" name="Script"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end"/>'
    )


def condition_then_end(condition: str) -> str:
    return (
        '<bpmn:exclusiveGateway id="x" default="f_default"/>'
        '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
        f'<bpmn:sequenceFlow id="f_cond" sourceRef="x" targetRef="end2"><bpmn:conditionExpression>'
        f"{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_default" sourceRef="x" targetRef="end"/>'
    )


def timer_then_end(expression: str) -> str:
    return (
        '<bpmn:intermediateCatchEvent id="x" name="Wait"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{escape(expression)}</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end"/>'
    )


def files(**bpmn: str) -> FileSet:
    fs = FileSet({"note.schema.json": NOTE_FORM})
    for process_id, text in bpmn.items():
        fs.files[f"{process_id}.bpmn"] = text
    return fs


def publish(cp, fs: FileSet, origin: str = "publish"):
    """Publish through the library's checks (as `carepath pathways publish` does)."""
    built = library.build(fs)
    with cp.db.begin() as session:
        return [(r.process_id, r.version) for r in library.publish(session, built, cp.clock.now(), origin)]


def publish_unchecked(cp, fs: FileSet, process_id: str) -> None:
    """Publish WITHOUT Carepath's checks, as if a hostile diagram had got past them: the runtime
    sandbox must still hold on its own."""
    scan = library._scan(fs)
    names, _ = library._file_set_of(scan, f"{process_id}.bpmn")
    spec, subs = library._build_spec(scan, process_id, names)
    built = library.BuiltPathway(
        process_id,
        process_id,
        {n: fs.files[n] for n in names},
        "unchecked",
        library.dump_spec(spec, subs),
        library._start_messages(spec),
    )
    with cp.db.begin() as session:
        library.publish(session, [built], cp.clock.now(), "publish")


def current_version(cp, process_id: str) -> int:
    from sqlalchemy import select

    with cp.db() as session:
        return session.scalar(
            select(PathwayVersion.version).where(
                PathwayVersion.process_id == process_id, PathwayVersion.is_current.is_(True)
            )
        )


def started(
    cp,
    driver,
    process_id: str,
    after: str = "",
    *,
    extra_lane_nodes=(),
    checked: bool = True,
    case_id: int | None = None,
):
    """Publish a one-lane test pathway, start it in a (new) case, and return (case_id, its first task)."""
    text = pathway(process_id, after=after, start_message=f"go_{process_id}")
    for node in extra_lane_nodes:
        text = text.replace(
            "<bpmn:flowNodeRef>first</bpmn:flowNodeRef>",
            f"<bpmn:flowNodeRef>first</bpmn:flowNodeRef><bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>",
        )
    fs = files(**{process_id: text})
    publish(cp, fs) if checked else publish_unchecked(cp, fs, process_id)
    case_id = case_id or driver.new_case()
    cp.deliver_message(driver.actors["case_manager"], case_id, f"go_{process_id}", {})
    return case_id, driver.task(case_id, "first")
