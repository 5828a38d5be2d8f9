"""Valid example answers for a form's JSON Schema, for the demo agency and for walking pathways in tests.

The answers are the plain, routine ones (first option, zero, no), with `answers` laid over them; the
result is checked against the schema, so a form the sampler cannot satisfy fails loudly, not later.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from . import forms


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _value(schema: dict[str, Any], root: dict[str, Any], today: date) -> Any:
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            first = _resolve(schema[key][0], root)
            if "const" in first:
                return first["const"]
            return _value({**{k: v for k, v in schema.items() if k != key}, **first}, root, today)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return sample(schema, {}, root, today)
    if kind == "array":
        return [_value(schema.get("items", {}), root, today) for _ in range(schema.get("minItems", 0))]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        return int(low) if kind == "integer" else float(low)
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return today.isoformat()
        if fmt == "date-time":
            return f"{today.isoformat()}T09:00:00Z"
        if fmt == "email":
            return "someone@example.org"
        return "Noted."[: schema.get("maxLength", 100)].ljust(schema.get("minLength", 1), ".")
    return None


def _if_holds(cond: dict[str, Any], data: dict[str, Any]) -> bool:
    return not list(forms.validator_for(cond).iter_errors(data))


def sample(
    schema: dict[str, Any],
    answers: dict[str, Any] | None = None,
    root: dict[str, Any] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Required fields filled, `answers` laid over, and fields that if/then clauses then require."""
    root = root if root is not None else schema
    today = today or date.today()
    schema = _resolve(schema, root)
    props = schema.get("properties", {})
    data = {name: _value(props[name], root, today) for name in schema.get("required", []) if name in props}
    data.update(answers or {})
    clauses = [schema] + [_resolve(c, root) for c in schema.get("allOf", [])]
    for clause in clauses:
        if "if" in clause and _if_holds(clause["if"], data):
            branch = _resolve(clause.get("then", {}), root)
        elif "if" in clause:
            branch = _resolve(clause.get("else", {}), root)
        else:
            continue
        for name in branch.get("required", []):
            if name not in data:
                data[name] = _value({**props.get(name, {}), **branch.get("properties", {}).get(name, {})}, root, today)
    return data


def valid_sample(
    schema: dict[str, Any], answers: dict[str, Any] | None = None, today: date | None = None
) -> dict[str, Any]:
    """Like `sample` (dates on `today`, default the real date), then checked: raises InvalidFormData if the
    answers do not fit the form."""
    data = sample(schema, answers, today=today)
    forms.check(schema, data)
    return data
