"""A posted HTML form turned back into JSON typed by the form's schema, and what the person asked for.

Conversion never rejects: text that is not a number stays text, so the engine's validation reports
"Enter a whole number." at that field and the page shows what was typed. Empty answers are left out
(a required one then gets "This field is required."); list rows left empty are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from .schema import MISSING, choices, conditions, resolve, shown, type_of

_ROW_KEY = re.compile(r"^(\d{1,4})(?:/|$)")
MAX_ROWS = 200  # more posted rows than this is not a person filling in a form


def parse_form(schema: dict, posted: MultiDict) -> dict:
    """The answers as JSON, typed per `schema`. Hidden conditional answers are still in it (see `prune`)."""
    schema = schema or {"type": "object"}
    value = _Parser(schema, posted).object(schema, "")
    return value if isinstance(value, dict) else {}


def prune(schema: dict, data: dict) -> dict:
    """Leave out answers to fields whose if/then condition does not hold (the browser hid them).

    Without this, a "yes" to ASQ question 5 typed before question 1 was changed back to "no" would be
    scored as an acute positive screen."""
    return _prune(schema or {}, data, schema or {})


def _prune(schema: dict, data: Any, root: dict) -> Any:
    schema = resolve(schema, root)
    kind = type_of(schema)
    if kind == "object" and isinstance(data, dict):
        props = schema.get("properties") or {}
        conds = conditions(schema, root)
        kept = {}
        for name, value in data.items():
            if name in conds and not shown(conds[name], data, root):
                continue
            kept[name] = _prune(props[name], value, root) if name in props else value
        return kept
    if kind == "array" and isinstance(data, list):
        items = schema.get("items") or {}
        return [_prune(items, v, root) for v in data]
    return data


@dataclass(frozen=True)
class Action:
    """What the submit button asked for: complete the task, or (without JavaScript) add or remove a row."""

    kind: str  # complete | add | remove
    path: str = ""


def action_of(posted: MultiDict) -> Action:
    if posted.get("_add"):
        return Action("add", posted["_add"])
    if posted.get("_remove"):
        return Action("remove", posted["_remove"])
    return Action("complete")


def remove_row(data: dict, path: str) -> dict:
    """`data` without the list row at `path` ("goals/2")."""
    parts = path.split("/")
    if len(parts) < 2 or not parts[-1].isdigit():
        return data
    node: Any = data
    for part in parts[:-2]:
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None)
        )
        if node is None:
            return data
    rows = node.get(parts[-2]) if isinstance(node, dict) else None
    index = int(parts[-1])
    if isinstance(rows, list) and index < len(rows):
        del rows[index]
    return data


class _Parser:
    def __init__(self, root: dict, posted: MultiDict):
        self.root, self.posted = root, posted
        self.keys = [k for k in posted.keys() if not k.startswith("_") and k != "csrf_token"]

    def value(self, schema: dict, path: str) -> Any:
        schema = resolve(schema, self.root)
        kind = type_of(schema)
        if kind == "object":
            return self.object(schema, path)
        if kind == "array":
            return self.array(schema, path)
        return self.scalar(schema, self.posted.get(path), kind)

    def object(self, schema: dict, prefix: str) -> Any:
        schema = resolve(schema, self.root)
        out = {}
        for name, sub in (schema.get("properties") or {}).items():
            value = self.value(sub, f"{prefix}/{name}" if prefix else name)
            if value is not MISSING:
                out[name] = value
        return out if out or not prefix else MISSING

    def array(self, schema: dict, path: str) -> Any:
        items = resolve(schema.get("items") or {}, self.root)
        options = choices(items, self.root)
        if options and type_of(items) != "object":
            # Ticked boxes arrive under the list's own name, one value each.
            picked = [self.scalar(items, v, type_of(items)) for v in self.posted.getlist(path)]
            picked = [v for v in picked if v is not MISSING]
            return picked or MISSING
        rows = []
        for index in self._row_indexes(path):
            value = self.value(items, f"{path}/{index}")
            if value is not MISSING:
                rows.append(value)
        return rows or MISSING

    def _row_indexes(self, path: str) -> list[int]:
        prefix = path + "/"
        found = set()
        for key in self.keys:
            if key.startswith(prefix):
                m = _ROW_KEY.match(key[len(prefix) :])
                if m:
                    found.add(int(m.group(1)))
        return sorted(found)[:MAX_ROWS]

    def scalar(self, schema: dict, raw: str | None, kind: str | None) -> Any:
        if raw is None:
            return MISSING
        text = raw.replace("\r\n", "\n").strip()
        if text == "":
            return MISSING
        for option in choices(schema, self.root):
            if option.value == text:
                return option.const
        if kind == "boolean":
            return {"true": True, "false": False, "on": True, "yes": True, "no": False}.get(text.lower(), text)
        if kind == "integer":
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    return text
                return int(number) if number.is_integer() else number
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                return text
            return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", text) else number
        if (
            kind == "string"
            and schema.get("format") == "date-time"
            and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?", text)
        ):
            # <input type=datetime-local> sends no zone; the server works in UTC.
            return (text if len(text) > 16 else text + ":00") + "Z"
        return text
