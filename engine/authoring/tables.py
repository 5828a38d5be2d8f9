"""Reading what the engine reads out of pathway files, as plain data: DMN decision tables row by row, and each
BPMN element's Carepath facts (role, form, due time, condition, timer, script, message). The library pages
show these, and compare.py diffs them between two versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from lxml import etree

from ..pathway_files import NS, parent_of, parse_xml, role_of_lane, xpath_elements

_ANY = "{*}"


class TableInput(TypedDict):
    id: str
    label: str
    expression: str


class TableOutput(TypedDict):
    id: str
    label: str
    name: str


class TableRule(TypedDict):
    id: str
    description: str
    inputs: list[str]  # cells as written, in column order
    outputs: list[str]


class DecisionTable(TypedDict):
    id: str
    name: str
    hit_policy: str
    inputs: list[TableInput]
    outputs: list[TableOutput]
    rules: list[TableRule]


def _text(el: etree._Element | None) -> str:
    found = el.find(f"{_ANY}text") if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def read_tables(text: str, filename: str = "table.dmn") -> list[DecisionTable]:
    """Every decision table in a DMN file: its hit policy, columns and rules (cells as written)."""
    root, _ = parse_xml(text, filename)
    if root is None:
        return []
    tables: list[DecisionTable] = []
    for decision in root.iter(f"{_ANY}decision"):
        table = decision.find(f"{_ANY}decisionTable")
        if table is None:
            continue
        inputs: list[TableInput] = [
            {
                "id": i.get("id") or "",
                "label": i.get("label") or "",
                "expression": _text(i.find(f"{_ANY}inputExpression")),
            }
            for i in table.findall(f"{_ANY}input")
        ]
        outputs: list[TableOutput] = [
            {"id": o.get("id") or "", "label": o.get("label") or "", "name": o.get("name") or ""}
            for o in table.findall(f"{_ANY}output")
        ]
        rules: list[TableRule] = []
        for rule in table.findall(f"{_ANY}rule"):
            rules.append(
                {
                    "id": rule.get("id") or "",
                    "description": (rule.findtext(f"{_ANY}description") or "").strip(),
                    "inputs": [_text(e) for e in rule.findall(f"{_ANY}inputEntry")],
                    "outputs": [_text(e) for e in rule.findall(f"{_ANY}outputEntry")],
                }
            )
        tables.append(
            {
                "id": decision.get("id") or "",
                "name": decision.get("name") or decision.get("id") or "",
                "hit_policy": table.get("hitPolicy") or "UNIQUE",
                "inputs": inputs,
                "outputs": outputs,
                "rules": rules,
            }
        )
    return tables


_KINDS = (
    "userTask",
    "scriptTask",
    "businessRuleTask",
    "serviceTask",
    "manualTask",
    "task",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
    "startEvent",
    "endEvent",
    "intermediateThrowEvent",
    "intermediateCatchEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "sequenceFlow",
)


_PROPERTY_KEYS = {"formJsonSchemaFilename": "form", "dueIn": "due"}


def element_facts(text: str, filename: str = "pathway.bpmn") -> dict[str, dict[str, str]]:
    """BPMN element id -> what the engine reads of it, for every flow element of the file's processes."""
    root, _ = parse_xml(text, filename)
    if root is None:
        return {}
    messages: dict[str | None, str] = {
        m.get("id"): m.get("name") or m.get("id") or "" for m in xpath_elements(root, "//bpmn:message", NS)
    }
    lane_of: dict[str | None, str | None] = {
        (ref.text or "").strip(): parent_of(ref).get("name")
        for ref in xpath_elements(root, "//bpmn:lane/bpmn:flowNodeRef", NS)
    }
    facts: dict[str, dict[str, str]] = {}
    for el in xpath_elements(root, "//bpmn:process//*[@id]", NS):
        kind = etree.QName(el).localname
        if kind not in _KINDS:
            continue
        f: dict[str, str] = {"kind": kind, "name": (el.get("name") or "").strip()}
        role = role_of_lane(lane_of.get(el.get("id")))
        if role:
            f["role"] = role
        for prop in xpath_elements(el, "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
            name = prop.get("name")
            if name is None:
                continue  # a property without a name says nothing (and its None key broke the sorted diff)
            f[_PROPERTY_KEYS.get(name, name)] = prop.get("value") or ""
        script = el.find(f"{{{NS['bpmn']}}}script")
        if script is not None:
            f["script"] = (script.text or "").strip()
        cond = el.find(f"{{{NS['bpmn']}}}conditionExpression")
        if cond is not None:
            f["condition"] = (cond.text or "").strip()
        if kind == "sequenceFlow":
            f["from"], f["to"] = el.get("sourceRef") or "", el.get("targetRef") or ""
        for timer in xpath_elements(el, "bpmn:timerEventDefinition/*", NS):
            f["timer"] = f"{etree.QName(timer).localname}: {(timer.text or '').strip()}"
        refs = [d.get("messageRef") for d in xpath_elements(el, "bpmn:messageEventDefinition", NS)]
        refs += [el.get("messageRef")] if el.get("messageRef") else []
        if refs:
            f["message"] = ", ".join(messages.get(r, r or "") for r in refs)
        decision = el.findtext(".//{*}calledDecisionId")
        if decision:
            f["decision"] = decision.strip()
        if called := el.get("calledElement"):
            f["calls"] = called
        facts[el.get("id", "")] = f  # the XPath selects only elements with an id
    return facts


def process_documentation(text: str, filename: str = "pathway.bpmn") -> str:
    root, _ = parse_xml(text, filename)
    if root is None:
        return ""
    docs = xpath_elements(root, "bpmn:process[@isExecutable='true']/bpmn:documentation", NS)
    return (docs[0].text or "").strip() if docs else ""


def message_names(texts: Iterable[tuple[str, str]]) -> list[str]:
    """Every message name the given BPMN files define (for the editor's message picker)."""
    names: set[str | None] = set()
    for name, text in texts:
        root, _ = parse_xml(text, name)
        if root is not None:
            names.update(m.get("name") for m in xpath_elements(root, "//bpmn:message[@name]", NS))
    return sorted(n for n in names if n)
