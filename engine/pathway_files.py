"""Reading and checking pathway files: BPMN, DMN and JSON-Schema forms, with findings by file and line.

Uploaded XML is parsed with entity resolution, DTD loading and network access off, and any DOCTYPE is
refused outright (no XXE, no billion laughs). Checks here are Carepath's own rules on top of the BPMN
schema: one process per file named after it, every user task in a role's lane with an existing form,
and every script, condition and timer expression accepted by the sandbox's compiler.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from .errors import Finding
from .models import ROLES
from .sandbox import ScriptRefused, compile_expression, compile_script

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_FILE_BYTES = 2_000_000


def xpath_elements(
    node: etree._Element, path: str, namespaces: Mapping[str, str] | None = None
) -> list[etree._Element]:
    """The elements an XPath location path selects. lxml types every XPath result as any XPath value
    (number, string, node list); the paths Carepath asks are node sets of elements, so anything else is a bug."""
    found = node.xpath(path, namespaces=namespaces)
    if not isinstance(found, list):
        raise TypeError(f"XPath {path!r} selects a {type(found).__name__}, not elements")
    return [el for el in found if isinstance(el, etree._Element)]


def line_of(el: etree._Element | None) -> int | None:
    """The element's line in its file. lxml-stubs declare `sourceline` without a type (it is Optional[int])."""
    line: int | None = getattr(el, "sourceline", None)
    return line


def parent_of(el: etree._Element) -> etree._Element:
    """The parent of an element that has one by construction (an XPath step below it matched)."""
    parent = el.getparent()
    if parent is None:
        raise ValueError(f"<{el.tag}> at line {line_of(el)} has no parent element")
    return parent


def is_element(el: etree._Element) -> bool:
    """A real element, not a comment or processing instruction (whose tag is a function: lxml-stubs say str)."""
    tag: object = el.tag
    return isinstance(tag, str)


def role_of_lane(lane_name: str | None) -> str | None:
    """A lane's name is a role: 'Case Manager' -> 'case_manager'."""
    if not lane_name:
        return None
    return "_".join(lane_name.strip().lower().split())


def form_id_of(filename: str) -> str:
    name = Path(filename).name
    for suffix in (".schema.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class FileSet:
    """Pathway files by file name (no folders): *.bpmn, *.dmn, *.schema.json, *.ui.json."""

    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_paths(cls, paths: list[Path]) -> tuple[FileSet, list[Finding]]:
        fs, findings = cls(), []
        for path in paths:
            path = Path(path)
            if path.is_dir():
                more, errs = cls.from_paths(sorted(p for p in path.iterdir() if _is_pathway_file(p.name)))
                fs.files.update(more.files)
                findings += errs
                continue
            if not path.exists():
                findings.append(Finding(str(path), None, "no such file"))
                continue
            if not _is_pathway_file(path.name):
                findings.append(Finding(str(path), None, "not a pathway file (.bpmn, .dmn, .schema.json, .ui.json)"))
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                findings.append(Finding(path.name, None, "file is larger than 2 MB"))
                continue
            try:
                fs.files[path.name] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                findings.append(Finding(path.name, None, "file is not UTF-8 text"))
        return fs, findings

    @classmethod
    def from_library(cls, workflows_dir: Path, forms_dir: Path) -> tuple[FileSet, list[Finding]]:
        paths = sorted(workflows_dir.glob("*.bpmn")) + sorted(workflows_dir.glob("*.dmn"))
        paths += sorted(forms_dir.glob("*.schema.json")) + sorted(forms_dir.glob("*.ui.json"))
        return cls.from_paths(paths)

    def with_fallback(self, fallback: FileSet) -> FileSet:
        """These files, plus the fallback's for any name not given here."""
        return FileSet({**fallback.files, **self.files})

    def names(self, suffix: str) -> list[str]:
        return sorted(n for n in self.files if n.endswith(suffix))


def _is_pathway_file(name: str) -> bool:
    return name.endswith((".bpmn", ".dmn", ".schema.json", ".ui.json"))


_DECLARED_ENCODING = re.compile(r'^(<\?xml[^>]*?\bencoding\s*=\s*)["\'][^"\']*["\']')


def parse_xml(text: str, filename: str) -> tuple[etree._Element | None, list[Finding]]:
    """Parse XML safely: a DOCTYPE (and so any entity declaration) is refused, nothing is fetched."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None, [Finding(filename, None, "DOCTYPE and entity declarations are not allowed")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    # The text is already decoded: an encoding named in its XML declaration (ISO-8859-1, UTF-16) no longer
    # describes the bytes handed to the parser, which are UTF-8.
    text = _DECLARED_ENCODING.sub(r'\1"UTF-8"', text.lstrip("\ufeff"), count=1)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        return None, [Finding(filename, exc.lineno, f"not well-formed XML: {exc.msg}")]
    return root, []


def check_form(filename: str, text: str) -> tuple[dict[str, Any] | None, list[Finding]]:
    """A form must be JSON, an object schema, and valid against the JSON Schema 2020-12 meta-schema."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Finding(filename, exc.lineno, f"not valid JSON: {exc.msg}")]
    if not isinstance(schema, dict):
        return None, [Finding(filename, None, "a form schema must be a JSON object")]
    if filename.endswith(".ui.json"):
        return schema, []
    findings = []
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        findings.append(Finding(filename, None, f"forms use JSON Schema 2020-12 ($schema {DRAFT_2020_12})"))
    if schema.get("type") != "object":
        findings.append(Finding(filename, None, 'a form schema must have "type": "object"'))
    problem = _meta_schema_problem(text)
    if problem is not None:
        findings.append(Finding(filename, None, problem))
    return schema, findings


@functools.lru_cache(maxsize=1024)
def _meta_schema_problem(text: str) -> str | None:
    """What is wrong with a form's schema (its JSON text) against the 2020-12 meta-schema, or None. Kept per text:
    the check is pure and costs about as much as the rest of a library build together, and every publish, check
    and restart builds the whole library again with its forms mostly unchanged."""
    try:
        Draft202012Validator.check_schema(json.loads(text))
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return f"not a valid JSON Schema at {where}: {exc.message}"
    return None


def _compile_check(filename: str, el: etree._Element, source: str, what: str, exec_mode: bool = False) -> list[Finding]:
    try:
        # Plain Python first: a typing mistake is reported as one, not as something the sandbox refused.
        compile(source if exec_mode else source.strip(), "<pathway script>", "exec" if exec_mode else "eval")
    except SyntaxError as exc:
        return [Finding(filename, line_of(el), f"{what} is not valid Python: {exc.msg}")]
    except ValueError as exc:  # NUL characters
        return [Finding(filename, line_of(el), f"{what} is not valid Python: {exc}")]
    try:
        (compile_script if exec_mode else compile_expression)(source)
    except ScriptRefused as exc:
        return [Finding(filename, line_of(el), f"{what} refused by the sandbox: {exc}")]
    except SyntaxError as exc:
        return [Finding(filename, line_of(el), f"{what} is not valid Python: {exc.msg}")]
    return []


def check_bpmn(filename: str, root: etree._Element, files: FileSet) -> list[Finding]:
    """Carepath's rules for one BPMN file (after the BPMN XML schema has passed)."""
    findings: list[Finding] = []
    stem = filename[: -len(".bpmn")]
    processes = xpath_elements(root, "bpmn:process[@isExecutable='true']", NS)
    if len(processes) != 1:
        where = (processes or xpath_elements(root, "bpmn:process", NS) or [root])[0]
        return [
            Finding(
                filename,
                line_of(where),
                "a pathway file holds exactly one executable process "
                f'(isExecutable="true"); this one has {len(processes)}',
            )
        ]
    process = processes[0]
    if process.get("id") != stem:
        findings.append(
            Finding(filename, line_of(process), f"process id {process.get('id')!r} must equal the file name {stem!r}")
        )
    lane_of: dict[str | None, str | None] = {}
    for ref in xpath_elements(process, ".//bpmn:lane/bpmn:flowNodeRef", NS):
        lane_of[(ref.text or "").strip()] = parent_of(ref).get("name")

    for task in xpath_elements(process, ".//bpmn:userTask", NS):
        label = f"user task {task.get('name') or task.get('id')!r}"
        role = role_of_lane(lane_of.get(task.get("id")))
        if role is None:
            findings.append(Finding(filename, line_of(task), f"{label} is in no lane; the lane names its role"))
        elif role not in ROLES:
            findings.append(
                Finding(filename, line_of(task), f"{label}: lane names role {role!r}, not one of {', '.join(ROLES)}")
            )
        props = {
            p.get("name"): p.get("value")
            for p in xpath_elements(task, "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
        }
        form = props.get("formJsonSchemaFilename")
        if not form:
            findings.append(Finding(filename, line_of(task), f"{label} names no form (formJsonSchemaFilename)"))
        elif form not in files.files:
            findings.append(Finding(filename, line_of(task), f"{label}: form file {form} not found"))
        if due := props.get("dueIn"):
            findings += _compile_check(filename, task, due, f"{label}: dueIn")

    for script in xpath_elements(process, ".//bpmn:scriptTask/bpmn:script", NS):
        findings += _compile_check(filename, script, script.text or "", "script", exec_mode=True)
    for tag in ("preScript", "postScript"):
        for script in xpath_elements(process, f".//spiffworkflow:{tag}", NS):
            findings += _compile_check(filename, script, script.text or "", tag, exec_mode=True)
    for cond in xpath_elements(process, ".//bpmn:conditionExpression", NS):
        findings += _compile_check(filename, cond, cond.text or "", "condition")
    for timer in xpath_elements(process, ".//bpmn:timerEventDefinition/*", NS):
        findings += _compile_check(filename, timer, timer.text or "", "timer expression")
    for payload in xpath_elements(root, ".//spiffworkflow:messagePayload", NS):
        findings += _compile_check(filename, payload, payload.text or "", "message payload")
    messages = {m.get("id") for m in xpath_elements(root, "bpmn:message", NS)}
    for ref in xpath_elements(process, ".//*[@messageRef]", NS):
        if ref.get("messageRef") not in messages:
            # Checked here: SpiffWorkflow's own parser fails on this with an unreadable TypeError.
            findings.append(
                Finding(
                    filename, line_of(ref), f"messageRef {ref.get('messageRef')!r} names no <bpmn:message> in this file"
                )
            )
    for task in xpath_elements(process, ".//bpmn:serviceTask", NS):
        findings.append(Finding(filename, line_of(task), "service tasks are not supported; use a script task"))
    return findings


def check_dmn(filename: str, root: etree._Element) -> list[Finding]:
    """Every DMN input expression and cell must compile in the sandbox."""
    findings: list[Finding] = []
    for expr in xpath_elements(root, "//*[local-name()='inputExpression']/*[local-name()='text']"):
        findings += _compile_check(filename, expr, expr.text or "None", "DMN input expression")
    for entry in xpath_elements(root, "//*[local-name()='outputEntry']/*[local-name()='text']"):
        if (entry.text or "").strip():
            findings += _compile_check(filename, entry, entry.text or "", "DMN output cell")
    return findings


def decision_ids(root: etree._Element) -> list[str]:
    return [ident for d in xpath_elements(root, "//*[local-name()='decision']") if (ident := d.get("id"))]


def referenced_decisions(root: etree._Element) -> set[str]:
    return {(el.text or "").strip() for el in xpath_elements(root, ".//spiffworkflow:calledDecisionId", NS)}


def referenced_forms(root: etree._Element) -> set[str]:
    xp = ".//spiffworkflow:property[@name='formJsonSchemaFilename']"
    return {value for el in xpath_elements(root, xp, NS) if (value := el.get("value"))}


def called_processes(root: etree._Element) -> set[str]:
    return {called for el in xpath_elements(root, ".//bpmn:callActivity", NS) if (called := el.get("calledElement"))}
