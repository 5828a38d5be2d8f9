"""What a file must pass before a draft keeps it, and what Carepath tells an author about files it keeps.

Two kinds of answer, on purpose:
- a *refusal*: the file is hostile or unreadable (a DOCTYPE or entity, not UTF-8, too large, a name that is not
  a pathway file's, XML that is not BPMN or DMN, JSON nested past reason, a script that imports, names
  Python's internals or reaches for files). Nothing of it is stored, anywhere.
- *findings* on a file that is kept: errors (it cannot be published like this, e.g. a condition that is not
  valid Python) and warnings (it can, but something will not behave as the diagram suggests, e.g. Camunda
  extensions the engine does not read). The author fixes errors in the editor; the draft remembers them.

Scripts are judged by their tokens, not by compiling them: a DMN cell such as `> 0` is not Python on its own,
and a script with a syntax error must still be refused if it reaches for `open` or `__class__`.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from typing import Any

from lxml import etree

from ..errors import Finding
from ..pathway_files import MAX_FILE_BYTES, NS, is_element, line_of, parse_xml, xpath_elements

BPMN_NS = NS["bpmn"]
SPIFF_NS = NS["spiffworkflow"]
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
# Namespaces every BPMN/DMN tool writes that carry no behaviour: diagram layout and XML Schema.
_LAYOUT_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.w3.org/2001/XMLSchema",
    "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "http://www.omg.org/spec/DMN/20180521/DMNDI/",
    "http://www.omg.org/spec/DMN/20180521/DI/",
}
FILE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}\.(bpmn|dmn|schema\.json|ui\.json)$")
# URL words of the library pages: a pathway may not be called like one of them.
RESERVED_STEMS = {"drafts", "import", "forms", "preview"}
MAX_JSON_DEPTH = 40

# Builtins a pathway script never needs and an attacker always wants: files, modules, the interpreter.
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "globals",
        "locals",
        "vars",
        "dir",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "input",
        "breakpoint",
        "help",
        "memoryview",
        "type",
        "object",
        "super",
        "exit",
        "quit",
        "classmethod",
        "staticmethod",
        "property",
        "bytearray",
        "copyright",
        "credits",
        "license",
    }
)
_DUNDER = re.compile(r"__")


def hostile_script(source: str) -> str | None:
    """Why a script, condition, timer or DMN cell is refused outright, or None.

    Refused: `import`, names starting with `_` (and attributes: `x.__class__`), the builtins above, and
    strings naming dunders (the usual way to smuggle `__class__` past a name check)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for tok in tokens:
            if tok.type == tokenize.NAME:
                if tok.string in ("import", "from") and _is_statement_start(tok):
                    return "imports a module (pathway scripts cannot import anything)"
                if tok.string.startswith("_"):
                    return f"uses {tok.string!r}: names starting with _ reach into Python's internals"
                if tok.string in FORBIDDEN_NAMES:
                    return (
                        f"uses {tok.string}(), which pathway scripts may not use "
                        "(no files, modules or interpreter internals)"
                    )
            elif tok.type == tokenize.STRING and _DUNDER.search(tok.string):
                return "spells a Python internal in a string (double underscores)"
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # the text stops being Python here; validation reports the syntax error with its line
    return None


def _is_statement_start(tok: tokenize.TokenInfo) -> bool:
    # `import` is always a statement; `from` only starts one (it is also a keyword in `yield from`).
    return tok.string == "import" or tok.line[: tok.start[1]].strip() == ""


def script_texts(name: str, root: etree._Element) -> list[tuple[etree._Element, str, str]]:
    """(element, text, what) for every piece of Python in a BPMN or DMN file."""
    found: list[tuple[etree._Element, str, str]] = []
    if name.endswith(".dmn"):
        for el in root.iter("{*}text"):
            found.append((el, el.text or "", "DMN cell"))
        return found

    def q(tag: str) -> str:
        return f"{{{BPMN_NS}}}{tag}"

    for el in root.iter(q("script")):
        found.append((el, el.text or "", "script"))
    for el in root.iter(q("conditionExpression")):
        found.append((el, el.text or "", "condition"))
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for el in root.iter(q(tag)):
            found.append((el, el.text or "", "timer expression"))
    for tag in ("preScript", "postScript", "messagePayload"):
        for el in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            found.append((el, el.text or "", tag))
    for el in root.iter(f"{{{SPIFF_NS}}}property"):
        if el.get("name") == "dueIn":
            found.append((el, el.get("value") or "", "dueIn"))
    return found


def element_id(el: etree._Element | None) -> str | None:
    """The id of the element, or of the nearest ancestor that has one (a script's task, a cell's rule)."""
    while el is not None:
        if is_element(el) and (ident := el.get("id")):
            return ident
        el = el.getparent()
    return None


def refusals(name: str, text: str) -> list[Finding]:
    """Why this file must not be kept at all (empty when it may be)."""
    if not FILE_NAME.match(name):
        return [
            Finding(
                name[:120],
                None,
                "not a pathway file name: letters, digits, _ and - ending in .bpmn, .dmn, "
                ".schema.json or .ui.json (no folders)",
            )
        ]
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        return [Finding(name, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")]
    if "\x00" in text:
        return [Finding(name, None, "file contains NUL characters: it is not a text file")]
    if name.endswith((".bpmn", ".dmn")):
        if name.endswith(".bpmn") and name[: -len(".bpmn")] in RESERVED_STEMS:
            return [Finding(name, None, f"a pathway may not be called {name[:-5]!r} (a word the library's pages use)")]
        return _xml_refusals(name, text)
    return _json_refusals(name, text)


def _xml_refusals(name: str, text: str) -> list[Finding]:
    root, errors = parse_xml(text, name)
    if root is None:
        return errors
    qname = etree.QName(root)
    if name.endswith(".bpmn") and (qname.namespace != BPMN_NS or qname.localname != "definitions"):
        return [
            Finding(
                name,
                line_of(root),
                f"not a BPMN 2.0 diagram: the root element must be <definitions> in the namespace {BPMN_NS}",
            )
        ]
    if name.endswith(".dmn") and (qname.namespace not in DMN_NAMESPACES or qname.localname != "definitions"):
        return [
            Finding(
                name,
                line_of(root),
                "not a DMN decision table file: the root element must be "
                "<definitions> in a DMN 1.1, 1.2 or 1.3 namespace",
            )
        ]
    found = []
    for el, source, what in script_texts(name, root):
        why = hostile_script(source)
        if why:
            found.append(Finding(name, line_of(el), f"{what} refused: it {why}", element=element_id(el)))
    return found


def _json_refusals(name: str, text: str) -> list[Finding]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Finding(name, exc.lineno, f"not valid JSON: {exc.msg}")]
    except RecursionError:
        return [Finding(name, None, "JSON nested too deeply to be a form")]
    if not isinstance(value, dict):
        return [Finding(name, None, "a form file must hold one JSON object")]
    if _depth(value) > MAX_JSON_DEPTH:
        return [Finding(name, None, f"JSON nested more than {MAX_JSON_DEPTH} levels deep: not a form anyone can fill")]
    return []


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


# ---------- findings on kept files ----------

_OTHER_LANGUAGE = re.compile(r"^\s*[$#]\{.*\}\s*$", re.S)
_UNQUOTED_ISO = re.compile(r"^\s*(R\d*/)?P(?=\d|T\d)[\dYMWDTHS.,]+\s*$|^\s*\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?\s*$")


def bpmn_notes(name: str, text: str) -> list[Finding]:
    """Errors and warnings about things other tools draw that this engine runs differently, or not at all."""
    root, _ = parse_xml(text, name)
    if root is None:
        return []
    found: list[Finding] = []
    foreign: dict[str, tuple[int | None, set[str]]] = {}
    for el in root.iter():
        if not is_element(el):
            continue
        for key in [el.tag, *el.attrib]:
            ns = etree.QName(key).namespace
            if ns and ns not in (BPMN_NS, SPIFF_NS) and ns not in _LAYOUT_NAMESPACES:
                line, names = foreign.setdefault(ns, (line_of(el), set()))
                names.add(etree.QName(key).localname)
    for ns, (line, names) in sorted(foreign.items()):
        prefix = next((p for p, uri in root.nsmap.items() if uri == ns and p), None) or ns
        shown = ", ".join(f"{prefix}:{n}" for n in sorted(names)[:4]) + (", …" if len(names) > 4 else "")
        found.append(
            Finding(
                name,
                line,
                f"extensions of another tool ({shown}) are kept in the file, but Carepath does not read them",
                severity="warning",
            )
        )
    if not xpath_elements(root, "//*[local-name()='BPMNShape']"):
        found.append(
            Finding(
                name,
                None,
                "no diagram layout (BPMN DI): the pathway can run, but it cannot be drawn or edited in the browser",
                severity="warning",
            )
        )
    for proc in xpath_elements(root, "bpmn:process[not(@isExecutable='true')]", NS):
        if xpath_elements(proc, ".//bpmn:userTask | .//bpmn:task | .//bpmn:scriptTask", NS):
            found.append(
                Finding(
                    name,
                    line_of(proc),
                    f"process {proc.get('id')!r} is not executable (isExecutable is not true): Carepath ignores it",
                    severity="warning",
                    element=proc.get("id"),
                )
            )
    for sub in xpath_elements(root, "//bpmn:subProcess[@triggeredByEvent='true']", NS):
        for start in xpath_elements(sub, "bpmn:startEvent[not(@isInterrupting='false')]", NS):
            found.append(
                Finding(
                    name,
                    line_of(start),
                    "an event subprocess never interrupts its process in "
                    "Carepath's engine (isInterrupting is ignored); use a boundary event, or a pathway "
                    "of its own started by a message",
                    severity="warning",
                    element=start.get("id"),
                )
            )
    for el in xpath_elements(root, "//bpmn:compensateEventDefinition | //*[@isForCompensation='true']", NS):
        found.append(
            Finding(
                name,
                line_of(el),
                "compensation is not supported by Carepath's engine: undo "
                "work with ordinary tasks on the path that needs it",
                element=element_id(el),
            )
        )
    for el, source, what in script_texts(name, root):
        if _OTHER_LANGUAGE.match(source or ""):
            found.append(
                Finding(
                    name,
                    line_of(el),
                    f"{what} {source.strip()[:60]} is written for another engine "
                    "(JUEL/FEEL): Carepath reads Python over the task's data, e.g. approved == True",
                    element=element_id(el),
                )
            )
        if what in ("timer expression", "dueIn") and _UNQUOTED_ISO.match(source or ""):
            found.append(
                Finding(
                    name,
                    line_of(el),
                    f'{what} {source.strip()} is Python here: put the ISO 8601 value in quotes ("{source.strip()}")',
                    element=element_id(el),
                )
            )
    return found


def locate(findings: list[Finding], files: dict[str, str]) -> list[Finding]:
    """The same findings with the element each one is about, found from its line (for the diagram)."""
    lines: dict[str, dict[int, str]] = {}
    out = []
    for f in findings:
        if f.element is None and f.line and f.file.endswith((".bpmn", ".dmn")) and f.file in files:
            if f.file not in lines:
                lines[f.file] = _line_elements(files[f.file], f.file)
            f = Finding(f.file, f.line, f.message, f.severity, lines[f.file].get(f.line))
        out.append(f)
    return out


def _line_elements(text: str, name: str) -> dict[int, str]:
    root, _ = parse_xml(text, name)
    found: dict[int, str] = {}
    if root is None:
        return found
    for el in root.iter():
        line = line_of(el)
        if is_element(el) and line and line not in found:
            ident = element_id(el)
            if ident and ident != root.get("id"):
                found[line] = ident
    return found
