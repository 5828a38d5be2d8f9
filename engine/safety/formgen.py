"""Random valid answers for a form's JSON Schema, deterministic for a given random generator.

The pathway checker fills thousands of forms per run, each answer reproducible from a seed. A small
generator over the JSON Schema the library's forms use (objects, arrays, strings with formats, booleans,
integers, enums with labels, const, if/then) is exact about determinism and costs microseconds per form;
the answer is then checked with jsonschema like any submission, and a form it cannot satisfy falls back
to the routine sample (engine/form_samples.py).

Answers lean toward what keeps care moving, so episodes go deep: the first option of a choice (the
ordinary one, by the library's convention) half the time, and yes to consent-like questions (eligible,
consents, approved, agrees, reached, attended) most of the time. Other booleans are yes a third of the
time, which still makes positive screens, admissions and refusals common.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any, cast

from .. import forms
from ..errors import InvalidFormData
from ..form_samples import sample

_PROGRESS = re.compile(
    r"eligib|consent|approv|agree|reached|attended|confirm|informed|acknowledg|explained|"
    r"understood|reviewed|listed|copy_given",
    re.I,
)
_WORDS = [
    "Client seen at home",
    "Sister present",
    "Spoke by phone",
    "Plan reviewed",
    "Walks the dog",
    "Calls Ana",
    "No firearms at home",
    "Medication kept by partner",
    "Attends group on Tuesdays",
]


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _value(name: str, schema: dict[str, Any], root: dict[str, Any], rng: random.Random, today: date) -> Any:
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        options = schema["enum"]
        return options[0] if len(options) == 1 or rng.random() < 0.5 else rng.choice(options[1:])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return _object(schema, root, rng, today)
    if kind == "array":
        low, high = schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)
        items = schema.get("items", {})
        values = [_value(name, items, root, rng, today) for _ in range(rng.randint(low, max(low, high)))]
        if schema.get("uniqueItems"):
            values = list({repr(v): v for v in values}.values())
        return values
    if kind == "boolean":
        return rng.random() < (0.85 if _PROGRESS.search(name) else 0.3)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 10)
        value = low if rng.random() < 0.5 else rng.randint(int(low), int(high))
        return value if kind == "integer" else float(value)
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return (today + timedelta(days=rng.choice([0, 0, -1, -2, 1, 2, 3, 6, 8, 20, 31]))).isoformat()
        if fmt == "date-time":
            return f"{today.isoformat()}T09:00:00Z"
        if fmt == "email":
            return "someone@example.org"
        text = rng.choice(_WORDS)
        return text[: schema.get("maxLength", 200)].ljust(schema.get("minLength", 1), ".")
    return None


def _object(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, today: date) -> dict[str, Any]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    data = {}
    for name, sub in props.items():
        if name in required or rng.random() < 0.4:
            data[name] = _value(name, sub, root, rng, today)
    # Fields an if/then clause requires, given the answers so far (twice: one may switch on another).
    for _ in range(2):
        for clause in [schema] + [_resolve(c, root) for c in schema.get("allOf", [])]:
            if "if" in clause and not list(forms.validator_for(clause["if"]).iter_errors(data)):
                for name in _resolve(clause.get("then", {}), root).get("required", []):
                    if name not in data and name in props:
                        data[name] = _value(name, props[name], root, rng, today)
    return data


def random_answers(schema: dict[str, Any], rng: random.Random, today: date) -> dict[str, Any]:
    """Valid answers for `schema`; the routine sample if three random tries do not fit it."""
    for _ in range(3):
        data = _value("", schema, schema, rng, today)
        try:
            forms.check(schema, data)
            return cast("dict[str, Any]", data)  # check() refuses anything but a JSON object
        except InvalidFormData:
            continue
    data = sample(schema, {}, today=today)
    forms.check(schema, data)
    return data
