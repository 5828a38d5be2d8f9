"""Reading what the engine reads out of pathway files, as plain data: DMN decision tables row by row, and each
BPMN element's Carepath facts (role, form, due time, condition, timer, script, message). The library pages
show these, and compare.py diffs them between two versions."""
from __future__ import annotations

from lxml import etree

from ..pathway_files import NS, parse_xml, role_of_lane

_ANY = "{*}"


def _text(el) -> str:
    found = el.find(f"{_ANY}text") if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def read_tables(text: str, filename: str = "table.dmn") -> list[dict]:
    """Every decision table in a DMN file: its hit policy, columns and rules (cells as written)."""
    root, _ = parse_xml(text, filename)
    if root is None:
        return []
    tables = []
    for decision in root.iter(f"{_ANY}decision"):
        table = decision.find(f"{_ANY}decisionTable")
        if table is None:
            continue
        inputs = [{"id": i.get("id") or "", "label": i.get("label") or "",
                   "expression": _text(i.find(f"{_ANY}inputExpression"))} for i in table.findall(f"{_ANY}input")]
        outputs = [{"id": o.get("id") or "", "label": o.get("label") or "", "name": o.get("name") or ""}
                   for o in table.findall(f"{_ANY}output")]
        rules = []
        for rule in table.findall(f"{_ANY}rule"):
            rules.append({"id": rule.get("id") or "",
                          "description": (rule.findtext(f"{_ANY}description") or "").strip(),
                          "inputs": [_text(e) for e in rule.findall(f"{_ANY}inputEntry")],
                          "outputs": [_text(e) for e in rule.findall(f"{_ANY}outputEntry")]})
        tables.append({"id": decision.get("id") or "", "name": decision.get("name") or decision.get("id") or "",
                       "hit_policy": table.get("hitPolicy") or "UNIQUE", "inputs": inputs, "outputs": outputs,
                       "rules": rules})
    return tables


_KINDS = ("userTask", "scriptTask", "businessRuleTask", "serviceTask", "manualTask", "task", "sendTask",
          "receiveTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateThrowEvent",
          "intermediateCatchEvent", "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
          "eventBasedGateway", "sequenceFlow")


def element_facts(text: str, filename: str = "pathway.bpmn") -> dict[str, dict]:
    """BPMN element id -> what the engine reads of it, for every flow element of the file's processes."""
    root, _ = parse_xml(text, filename)
    if root is None:
        return {}
    messages = {m.get("id"): m.get("name") or m.get("id") for m in root.xpath("//bpmn:message", namespaces=NS)}
    lane_of = {(ref.text or "").strip(): ref.getparent().get("name")
               for ref in root.xpath("//bpmn:lane/bpmn:flowNodeRef", namespaces=NS)}
    facts: dict[str, dict] = {}
    for el in root.xpath("//bpmn:process//*[@id]", namespaces=NS):
        kind = etree.QName(el).localname
        if kind not in _KINDS:
            continue
        f: dict[str, str] = {"kind": kind, "name": (el.get("name") or "").strip()}
        role = role_of_lane(lane_of.get(el.get("id")))
        if role:
            f["role"] = role
        for prop in el.xpath("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS):
            key = {"formJsonSchemaFilename": "form", "dueIn": "due"}.get(prop.get("name"), prop.get("name"))
            f[key] = prop.get("value") or ""
        script = el.find(f"{{{NS['bpmn']}}}script")
        if script is not None:
            f["script"] = (script.text or "").strip()
        cond = el.find(f"{{{NS['bpmn']}}}conditionExpression")
        if cond is not None:
            f["condition"] = (cond.text or "").strip()
        if kind == "sequenceFlow":
            f["from"], f["to"] = el.get("sourceRef") or "", el.get("targetRef") or ""
        for timer in el.xpath("bpmn:timerEventDefinition/*", namespaces=NS):
            f["timer"] = f"{etree.QName(timer).localname}: {(timer.text or '').strip()}"
        refs = [d.get("messageRef") for d in el.xpath("bpmn:messageEventDefinition", namespaces=NS)]
        refs += [el.get("messageRef")] if el.get("messageRef") else []
        if refs:
            f["message"] = ", ".join(messages.get(r, r or "") for r in refs)
        decision = el.findtext(".//{*}calledDecisionId")
        if decision:
            f["decision"] = decision.strip()
        if el.get("calledElement"):
            f["calls"] = el.get("calledElement")
        facts[el.get("id")] = f
    return facts


def process_documentation(text: str, filename: str = "pathway.bpmn") -> str:
    root, _ = parse_xml(text, filename)
    if root is None:
        return ""
    docs = root.xpath("bpmn:process[@isExecutable='true']/bpmn:documentation", namespaces=NS)
    return (docs[0].text or "").strip() if docs else ""


def message_names(texts) -> list[str]:
    """Every message name the given BPMN files define (for the editor's message picker)."""
    names = set()
    for name, text in texts:
        root, _ = parse_xml(text, name)
        if root is not None:
            names.update(m.get("name") for m in root.xpath("//bpmn:message[@name]", namespaces=NS))
    return sorted(n for n in names if n)
