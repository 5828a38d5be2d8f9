"""The shipped pathway library as files: it validates with the CLI, every form is a valid JSON Schema 2020-12
form, and every diagram carries complete BPMN DI so it opens cleanly in bpmn.io / Camunda Modeler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from lxml import etree

from carepath.engine.pathway_files import NS
from carepath.web.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
FORMS = ROOT / "forms"
BPMN_FILES = sorted(WORKFLOWS.glob("*.bpmn"))
FORM_FILES = sorted(FORMS.glob("*.schema.json"))
DI = {
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    **NS,
}
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "intermediateThrowEvent",
    "intermediateCatchEvent",
    "boundaryEvent",
    "userTask",
    "scriptTask",
    "businessRuleTask",
    "receiveTask",
    "serviceTask",
    "manualTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "callActivity",
    "subProcess",
)
PATHWAYS = {
    "intake",
    "assessment",
    "planning",
    "periodic_review",
    "crisis_response",
    "discharge",
    "safety_planning",
    "overdue_escalation",
    "medication_refill",
    "case_closure",
    "ended_work_notice",
    "hospital_follow_up",
    "risk_review",
}


def parse(path: Path):
    return etree.parse(str(path)).getroot()


def bounds(root, element_id: str) -> tuple[float, float, float, float]:
    b = root.xpath(f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", namespaces=DI)
    assert len(b) == 1, f"{element_id}: {len(b)} shapes"
    return tuple(float(b[0].get(k)) for k in ("x", "y", "width", "height"))


def test_the_library_has_the_six_clinical_pathways_and_the_support_pathways():
    assert {p.stem for p in BPMN_FILES} == PATHWAYS


def test_carepath_pathways_validate_passes_on_the_shipped_library():
    paths = [str(p) for p in sorted(WORKFLOWS.iterdir())] + [str(p) for p in sorted(FORMS.iterdir())]
    result = CliRunner().invoke(cli, ["pathways", "validate", *paths])
    assert result.exit_code == 0, result.output
    assert f"ok: {len(PATHWAYS)} pathway(s)" in result.output


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_every_form_is_json_schema_2020_12_with_titles(path):
    schema = json.loads(path.read_text())
    form_id = path.name.removesuffix(".schema.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + form_id)
    assert schema["type"] == "object" and schema["title"] and schema["description"]
    assert set(schema["required"]) <= set(schema["properties"])
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"{form_id}.{name} has no title"
        if prop.get("type") == "string" and "format" not in prop and "enum" not in prop:
            # Free text: bounded, and never so short that a sentence does not fit.
            assert prop.get("maxLength", 0) >= 60, f"{form_id}.{name}"
            assert "pattern" not in prop
    for clause in schema.get("allOf", []) + ([schema] if "if" in schema else []):
        assert "else" not in clause, f"{form_id}: put requirements in then, not else"
        assert set(clause["then"]["required"]) <= set(schema["properties"])


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.ui.json")), ids=lambda p: p.name)
def test_ui_hints_name_fields_of_their_form(path):
    ui = json.loads(path.read_text())
    schema = json.loads((FORMS / path.name.replace(".ui.json", ".schema.json")).read_text())
    fields = set(schema["properties"])
    assert set(ui.get("ui:order", [])) <= fields
    assert set(ui.get("ui:order", [])) == fields, "ui:order lists every field once"
    assert {k for k in ui if not k.startswith(("ui:", "x-"))} <= fields
    # Form-level hints: prefill names fields of this form (docs/staff-ui.md, "Context carried").
    assert set(ui.get("x-prefill", {})) <= fields


def test_every_form_is_used_by_a_pathway_and_every_used_form_exists():
    used = set()
    for path in BPMN_FILES:
        for el in parse(path).xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']", namespaces=NS):
            used.add(el.get("value"))
    assert used == {p.name for p in FORM_FILES}


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.stem)
def test_every_flow_node_and_sequence_flow_has_diagram_layout(path):
    root = parse(path)
    process = root.xpath("bpmn:process", namespaces=NS)[0]
    nodes = [el for el in process.iter() if etree.QName(el).localname in FLOW_NODES]
    flows = process.xpath(".//bpmn:sequenceFlow", namespaces=NS)
    assert nodes and flows
    plane = root.xpath("//bpmndi:BPMNPlane", namespaces=DI)
    assert len(plane) == 1
    participant = root.xpath("//bpmn:participant", namespaces=NS)[0]
    assert participant.get("processRef") == path.stem
    assert plane[0].get("bpmnElement") == root.xpath("//bpmn:collaboration", namespaces=NS)[0].get("id")
    px, py, pw, ph = bounds(root, participant.get("id"))
    lanes = process.xpath(".//bpmn:lane", namespaces=NS)
    lane_bounds = {lane.get("id"): bounds(root, lane.get("id")) for lane in lanes}
    # Lanes stack inside the pool, top to bottom, without gaps or overlaps.
    stacked = sorted(lane_bounds.values(), key=lambda b: b[1])
    assert stacked[0][1] == py and stacked[-1][1] + stacked[-1][3] == py + ph
    for upper, lower in zip(stacked, stacked[1:], strict=False):
        assert upper[1] + upper[3] == lower[1]
    for x, _y, w, _h in stacked:
        assert px < x and x + w == px + pw
    lane_of = {ref.text: ref.getparent().get("id") for ref in process.xpath(".//bpmn:flowNodeRef", namespaces=NS)}
    for node in nodes:
        x, y, w, h = bounds(root, node.get("id"))
        lx, ly, lw, lh = lane_bounds[lane_of[node.get("id")]]
        cy = y + h / 2
        assert lx <= x and x + w <= lx + lw and ly <= cy <= ly + lh, f"{node.get('id')} outside its lane"
    for flow in flows:
        edge = root.xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", namespaces=DI)
        assert len(edge) == 1, flow.get("id")
        points = edge[0].xpath("di:waypoint", namespaces=DI)
        assert len(points) >= 2, flow.get("id")


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.stem)
def test_every_step_is_documented_in_a_lane_and_every_human_step_has_a_due_date(path):
    process = parse(path).xpath("bpmn:process", namespaces=NS)[0]
    assert process.xpath("bpmn:documentation", namespaces=NS)
    in_lane = {ref.text for ref in process.xpath(".//bpmn:flowNodeRef", namespaces=NS)}
    for task in process.xpath(
        ".//bpmn:userTask | .//bpmn:scriptTask | .//bpmn:businessRuleTask | .//bpmn:receiveTask", namespaces=NS
    ):
        label = f"{path.stem}/{task.get('id')}"
        assert task.get("name"), label
        assert (task.findtext("bpmn:documentation", namespaces=NS) or "").strip(), f"{label} is undocumented"
        assert task.get("id") in in_lane, f"{label} is in no lane"
    for task in process.xpath(".//bpmn:userTask", namespaces=NS):
        props = {p.get("name"): p.get("value") for p in task.xpath(".//spiffworkflow:property", namespaces=NS)}
        assert props.get("dueIn"), f"{path.stem}/{task.get('id')} has no due date"


def test_every_message_thrown_is_received_and_every_start_message_is_sent():
    thrown, caught, starts = set(), set(), set()
    for path in BPMN_FILES:
        root = parse(path)
        names = {m.get("id"): m.get("name") for m in root.xpath("//bpmn:message", namespaces=NS)}
        for ev in root.xpath("//bpmn:messageEventDefinition", namespaces=NS):
            kind = etree.QName(ev.getparent()).localname
            name = names[ev.get("messageRef")]
            if kind in ("endEvent", "intermediateThrowEvent"):
                thrown.add(name)
            else:
                caught.add(name)
                if kind == "startEvent":
                    starts.add(name)
        for task in root.xpath("//bpmn:receiveTask", namespaces=NS):
            caught.add(names[task.get("messageRef")])
    assert thrown <= caught
    # Sent by the engine (task_overdue, task_ended) or by staff through the API (crisis_reported, discharge_requested).
    assert starts - thrown <= {"task_overdue", "task_ended"}
    assert {"crisis_reported", "discharge_requested", "safety_plan_needed"} <= starts
