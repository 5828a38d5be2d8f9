"""Submitted answers shown read-only with the form's own wording (a safety plan on the case file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schema import choices, humanize, ordered, resolve, type_of, wire


@dataclass
class Answer:
    label: str
    text: str = ""  # for a single value
    items: list[Answer] = field(default_factory=list)  # for lists and groups
    is_list: bool = False  # rows of a list (shown as a bulleted list), not the fields of a group
    format: str | None = None  # "date" or "date-time": shown in words, never as ISO text


def describe(schema: dict | None, data: dict | None, ui: dict | None = None) -> list[Answer]:
    """The answers in `data`, in the form's order, labelled by the form's titles. Unknown keys come last."""
    schema = schema or {}
    return _object(resolve(schema, schema), data if isinstance(data, dict) else {}, ui or {}, schema)


def _object(schema: dict, data: dict, ui: dict, root: dict) -> list[Answer]:
    props = schema.get("properties") or {}
    out = []
    for name in ordered(props, ui) + [k for k in data if k not in props]:
        if name not in data:
            continue
        sub_ui = ui.get(name) if isinstance(ui.get(name), dict) else {}
        sub = resolve(props.get(name) or {}, root)
        label = sub_ui.get("ui:title") or sub.get("title") or humanize(name)
        out.append(_answer(sub, data[name], sub_ui, root, label))
    return out


def _answer(schema: dict, value: Any, ui: dict, root: dict, label: str) -> Answer:
    kind = type_of(schema)
    if isinstance(value, dict):
        return Answer(label, items=_object(schema, value, ui, root))
    if isinstance(value, list):
        items = resolve(schema.get("items") or {}, root)
        items_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        return Answer(
            label, items=[_answer(items, v, items_ui, root, f"{i + 1}") for i, v in enumerate(value)], is_list=True
        )
    for option in choices(schema, root, ui):
        if option.const == value and isinstance(option.const, bool) == isinstance(value, bool):
            return Answer(label, option.label)
    if isinstance(value, bool) or kind == "boolean":
        return Answer(label, "Yes" if value is True else "No" if value is False else wire(value))
    fmt = schema.get("format") if schema.get("format") in ("date", "date-time") and isinstance(value, str) else None
    return Answer(label, wire(value), format=fmt)
