"""Reading a form's JSON Schema (and its optional .ui.json hints): references, choices, conditions, labels.

The UI hints follow react-jsonschema-form's uiSchema, which agencies may already know: per property
`ui:widget` (textarea, radio, select, checkbox, checkboxes, hidden, text, date, email), `ui:title`,
`ui:help`, `ui:description`, `ui:placeholder`, `ui:enumNames`, `ui:options` ({"rows": 6}),
`ui:readonly`; `ui:order` on an object (with "*" for the rest); `items` for the rows of an array.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from carepath.engine import forms as engine_forms

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()


def resolve(node: Any, root: dict) -> Any:
    """Follow local `$ref`s ("#/$defs/x"); keywords beside the `$ref` (a title) win over the target's."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
        if seen > 20:  # a reference cycle: stop rather than loop
            break
    return node if isinstance(node, dict) else {}


def type_of(schema: dict) -> str | None:
    """The schema's type; for ["string", "null"] the non-null one."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        const = schema.get("const", (schema.get("enum") or [None])[0])
        if isinstance(const, bool):
            return "boolean"
        if isinstance(const, int):
            return "integer"
        if isinstance(const, str):
            return "string"
    return kind


def wire(value: Any) -> str:
    """How a value travels in an HTML form: booleans as true/false, nothing as the empty string."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def humanize(name: str) -> str:
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


@dataclass(frozen=True)
class Choice:
    value: str  # as sent by the browser
    label: str
    const: Any  # the typed JSON value


def choices(schema: dict, root: dict, ui: dict | None = None) -> list[Choice]:
    """The allowed answers of a field: `oneOf`/`anyOf` of `const` with `title`, `enum`, or a single `const`."""
    ui = ui or {}
    for key in ("oneOf", "anyOf"):
        options = [resolve(o, root) for o in schema.get(key) or []]
        if options and all("const" in o for o in options):
            return [Choice(wire(o["const"]), o.get("title") or _label_of(o["const"]), o["const"]) for o in options]
    if isinstance(schema.get("enum"), list):
        names = ui.get("ui:enumNames") or []
        return [
            Choice(wire(v), names[i] if i < len(names) else _label_of(v), v)
            for i, v in enumerate(schema["enum"])
            if v is not None
        ]
    return []


def _label_of(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return humanize(value) if isinstance(value, str) else wire(value)


def ordered(properties: dict, ui: dict) -> list[str]:
    """Property names in `ui:order` (with "*" standing for the rest), else in schema order."""
    order = ui.get("ui:order")
    names = list(properties)
    if not isinstance(order, list):
        return names
    known = [n for n in order if n in properties]
    rest = [n for n in names if n not in known]
    if "*" in order:
        at = order.index("*")
        before = [n for n in order[:at] if n in properties]
        after = [n for n in order[at + 1 :] if n in properties]
        return before + [n for n in rest if n not in after] + after
    return known + rest


@dataclass(frozen=True)
class Condition:
    """A field shown only when an if/then (or if/else) clause of its object selects it."""

    if_schema: dict
    branch: str  # "then" | "else"
    required: bool  # the branch also makes the field required


def conditions(schema: dict, root: dict) -> dict[str, list[Condition]]:
    """Properties that an if/then/else clause (at the object, or in its allOf) brings in, by name.

    A property the object requires outright, or that both branches bring in, is always shown."""
    clauses = [schema] + [resolve(c, root) for c in schema.get("allOf") or []]
    found: dict[str, list[Condition]] = {}
    for clause in clauses:
        if "if" not in clause or not isinstance(clause["if"], dict):
            continue
        branches = {b: resolve(clause.get(b) or {}, root) for b in ("then", "else")}
        named = {b: set(s.get("required") or []) | set(s.get("properties") or {}) for b, s in branches.items()}
        for branch, names in named.items():
            other = "else" if branch == "then" else "then"
            for name in names - named[other]:
                found.setdefault(name, []).append(
                    Condition(clause["if"], branch, name in (branches[branch].get("required") or []))
                )
    always = set(schema.get("required") or [])
    return {name: conds for name, conds in found.items() if name not in always}


def condition_holds(cond: Condition, data: dict, root: dict) -> bool:
    """Whether the clause selects its branch for `data` (the object the field belongs to)."""
    schema = {**cond.if_schema}
    if "$defs" in root and "$defs" not in schema:
        schema["$defs"] = root["$defs"]
    try:
        matched = engine_forms.validator_for(schema).is_valid(data if isinstance(data, dict) else {})
    except Exception:  # noqa: BLE001 - an `if` we cannot evaluate shows the field (the engine still validates)
        return True
    return matched if cond.branch == "then" else not matched


def shown(conds: list[Condition], data: dict, root: dict) -> bool:
    return any(condition_holds(c, data, root) for c in conds)


def condition_json(conds: list[Condition], root: dict) -> str:
    """The conditions for the browser script (a small subset of JSON Schema it can evaluate)."""
    return json.dumps(
        [{"if": _inline_refs(c.if_schema, root), "branch": c.branch} for c in conds], separators=(",", ":")
    )


def _inline_refs(node: Any, root: dict, depth: int = 0) -> Any:
    if depth > 10:
        return {}
    if isinstance(node, dict):
        node = resolve(node, root)
        return {k: _inline_refs(v, root, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, root, depth + 1) for v in node]
    return node


def condition_hint(conds: list[Condition], properties: dict, root: dict) -> str | None:
    """A plain sentence saying when a conditional field applies, for simple `const` conditions."""
    parts = []
    for cond in conds:
        text = _describe_if(cond.if_schema, properties, root)
        if text is None:
            return None
        parts.append(text if cond.branch == "then" else f"not ({text})")
    return "Only if " + " or ".join(parts) + "." if parts else None


def _describe_if(node: dict, properties: dict, root: dict) -> str | None:
    if "anyOf" in node and set(node) <= {"anyOf"}:
        texts = [_describe_if(resolve(n, root), properties, root) for n in node["anyOf"]]
        return None if None in texts else " or ".join(texts)
    props = node.get("properties") or {}
    if not props or set(node) - {"properties", "required"}:
        return None
    texts = []
    for name, rule in props.items():
        rule = resolve(rule, root)
        if "const" not in rule:
            return None
        field = resolve(properties.get(name, {}), root)
        title = field.get("title") or humanize(name)
        title = title if len(title) <= 60 else title[:57].rstrip() + "…"
        answer = next((c.label for c in choices(field, root) if c.const == rule["const"]), None)
        texts.append(f"“{title}” is {answer or _label_of(rule['const'])}")
    return " and ".join(texts)
