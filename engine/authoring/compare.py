"""What changed between two versions of a pathway (or a version and a draft), in the engine's terms.

The diagram itself is compared in the browser by bpmn-js-differ (shapes added, removed, moved); this module
compares what the engine reads, which that library sees only as anonymous XML: per BPMN element the role,
form, due time, condition, timer, script and message; per form field its label, type, choices, limits and
whether it is required; per decision table its hit policy, columns and rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, TypeVar

from .tables import DecisionTable, TableRule, element_facts, read_tables

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_T = TypeVar("_T")


class Detail(TypedDict):
    what: str
    before: str
    after: str


class Change(TypedDict):
    file: str
    id: str
    label: str
    change: str  # ADDED, REMOVED or CHANGED
    details: list[Detail]
    kind: NotRequired[str]  # elements: the BPMN element's kind
    table: NotRequired[str]  # rules: the decision table's name


def compare(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """{"files": {added, removed, changed}, "elements": [...], "fields": [...], "rules": [...]}; each change is
    {"file", "id", "label", "change", "details": [{"what", "before", "after"}]}."""
    names = sorted(set(before) | set(after))
    files = {
        ADDED: [n for n in names if n not in before],
        REMOVED: [n for n in names if n not in after],
        CHANGED: [n for n in names if n in before and n in after and before[n] != after[n]],
    }
    out: dict[str, Any] = {"files": files, "elements": [], "fields": [], "rules": []}
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if (old is None or new is None) and not name.endswith(".bpmn"):
            # A form or table the pathway starts or stops using: one line (the page draws a new form whole).
            kind = "rules" if name.endswith(".dmn") else "fields"
            title = _json(old or new).get("title") if name.endswith(".json") else None
            out[kind].append(
                {
                    "file": name,
                    "id": "(file)",
                    "label": title or name,
                    "change": ADDED if old is None else REMOVED,
                    "details": [],
                }
            )
            continue
        if name.endswith(".bpmn"):
            out["elements"] += _facts_diff(
                name, element_facts(old or "", name) if old else {}, element_facts(new or "", name) if new else {}
            )
        elif name.endswith(".schema.json"):
            out["fields"] += _form_diff(name, _json(old), _json(new))
        elif name.endswith(".ui.json"):
            out["fields"] += _ui_diff(name, _json(old), _json(new))
        elif name.endswith(".dmn"):
            out["rules"] += _tables_diff(
                name, read_tables(old or "", name) if old else [], read_tables(new or "", name) if new else []
            )
    return out


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _details(old: dict[str, Any], new: dict[str, Any], keys: Sequence[str] | None = None) -> list[Detail]:
    keys = keys or sorted(set(old) | set(new))
    return [
        {"what": k, "before": _shown(old.get(k)), "after": _shown(new.get(k))} for k in keys if old.get(k) != new.get(k)
    ]


def _change(
    file: str,
    ident: str,
    label: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    keys: Sequence[str] | None = None,
) -> Change | None:
    if old is None:
        if new is None:
            return None
        return {"file": file, "id": ident, "label": label, "change": ADDED, "details": _details({}, new, keys)}
    if new is None:
        return {"file": file, "id": ident, "label": label, "change": REMOVED, "details": _details(old, {}, keys)}
    details = _details(old, new, keys)
    return {"file": file, "id": ident, "label": label, "change": CHANGED, "details": details} if details else None


def _either(new: _T | None, old: _T | None) -> _T:
    """The newer of two versions of one thing (`new or old`); at least one exists, since its id came from them."""
    found = new or old
    if found is None:
        raise ValueError("neither version exists")
    return found


def _facts_diff(file: str, old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[Change]:
    out = []
    for ident in sorted(set(old) | set(new), key=lambda i: (i not in new, i)):
        a, b = old.get(ident), new.get(ident)
        label = (b or a or {}).get("name") or ident
        change = _change(file, ident, label, a, b)
        if change:
            change["kind"] = _either(b, a)["kind"]
            out.append(change)
    return out


_FIELD_KEYS = (
    "title",
    "type",
    "required",
    "choices",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "format",
    "description",
    "const",
    "default",
    "items",
)


def _field(schema: dict[str, Any], name: str, prop: Any) -> dict[str, Any]:
    prop = prop if isinstance(prop, dict) else {}
    facts = {k: prop[k] for k in _FIELD_KEYS if k in prop and k not in ("required",)}
    options = prop.get("oneOf") or prop.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, dict) and "const" in o for o in options):
        facts["choices"] = [f"{o['const']}: {o.get('title', o['const'])}" for o in options]
    elif "enum" in prop:
        facts["choices"] = prop["enum"]
    facts["required"] = "yes" if name in (schema.get("required") or []) else "no"
    return facts


def _form_diff(file: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    form = _change(
        file,
        "(form)",
        new.get("title") or old.get("title") or file,
        {k: old.get(k) for k in ("title", "description") if k in old} if old else None,
        {k: new.get(k) for k in ("title", "description") if k in new} if new else None,
    )
    if form:
        out.append(form)
    before, after = old.get("properties") or {}, new.get("properties") or {}
    for name in sorted(set(before) | set(after), key=lambda n: (n not in after, n)):
        a = _field(old, name, before[name]) if name in before else None
        b = _field(new, name, after[name]) if name in after else None
        change = _change(
            file,
            name,
            ((after.get(name) or before.get(name) or {}).get("title") or name)
            if isinstance(after.get(name) or before.get(name), dict)
            else name,
            a,
            b,
        )
        if change:
            out.append(change)
    conditions = _change(
        file,
        "(conditions)",
        "Conditional questions",
        {"if/then": old.get("allOf") or old.get("if")} if old else None,
        {"if/then": new.get("allOf") or new.get("if")} if new else None,
    )
    if conditions and conditions["change"] == CHANGED:
        out.append(conditions)
    return out


def _ui_diff(file: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    for key in sorted(set(old) | set(new)):
        change = _change(
            file, key, key, {"hints": old[key]} if key in old else None, {"hints": new[key]} if key in new else None
        )
        if change:
            out.append(change)
    return out


def _tables_diff(file: str, old: list[DecisionTable], new: list[DecisionTable]) -> list[Change]:
    out = []
    before, after = {t["id"]: t for t in old}, {t["id"]: t for t in new}
    for tid in sorted(set(before) | set(after)):
        a, b = before.get(tid), after.get(tid)
        head = _change(file, tid, _either(b, a)["name"], _table_head(a) if a else None, _table_head(b) if b else None)
        if head:
            out.append(head)
        if a is None or b is None:
            continue
        rules_a = {r["id"] or f"row {i + 1}": _rule(a, r) for i, r in enumerate(a["rules"])}
        rules_b = {r["id"] or f"row {i + 1}": _rule(b, r) for i, r in enumerate(b["rules"])}
        for rid in [*rules_b, *[r for r in rules_a if r not in rules_b]]:
            change = _change(
                file,
                rid,
                (rules_b.get(rid) or rules_a.get(rid) or {}).get("description") or rid,
                rules_a.get(rid),
                rules_b.get(rid),
            )
            if change:
                change["table"] = _either(b, a)["name"]
                out.append(change)
    return out


def _table_head(t: DecisionTable) -> dict[str, Any]:
    return {
        "hit policy": t["hit_policy"],
        "inputs": [f"{i['label'] or i['id']}: {i['expression']}" for i in t["inputs"]],
        "outputs": [o["name"] or o["label"] for o in t["outputs"]],
    }


def _rule(table: DecisionTable, rule: TableRule) -> dict[str, str]:
    facts = {"description": rule["description"]}
    for col, cell in zip(table["inputs"], rule["inputs"], strict=False):
        facts[f"when {col['label'] or col['expression']}"] = cell
    for output, cell in zip(table["outputs"], rule["outputs"], strict=False):
        facts[f"then {output['name'] or output['label']}"] = cell
    return facts
