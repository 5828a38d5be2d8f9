"""Context carried from earlier forms: a form declares in its UI hints which of its fields start from what the
client's earlier forms recorded, so a treatment plan opens with the needs the assessment found and a review
with the plan's goals.

    "x-prefill": {
        "client_words": "needs_assessment.client_goals",          # copy a value: <form id>.<field>[.<field>…]
        "goals": {"from": "needs_assessment", "as": "needs"},      # one goal row per need rated moderate or high
        "goal_progress": {"from": "treatment_plan.goals", "as": "rows", "map": {"goal": "goal"}}
    }

Sources are the client's latest submission of that form, across their cases (the form_submissions index on
case and form). Nothing here reads instance blobs. A field already prefilled by the pathway is left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, FormSubmission

PREFILL = "x-prefill"
NEED_LEVELS = ("moderate", "high")  # the assessment's needs that become plan goals


def prefill(session: Session, client_id: int, ui: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the fields the form's `x-prefill` hint names filled from earlier forms."""
    mapping = (ui or {}).get(PREFILL)
    if not isinstance(mapping, dict):
        return data
    out = dict(data)
    cache: dict[str, dict[str, Any] | None] = {}
    for field, rule in mapping.items():
        if field in out:
            continue
        value = _value(session, client_id, rule, cache)
        if value not in (None, [], ""):
            out[field] = value
    return out


def _value(session: Session, client_id: int, rule: Any, cache: dict[str, dict[str, Any] | None]) -> Any:
    if isinstance(rule, str):
        return _at(session, client_id, rule, cache)
    if not isinstance(rule, dict) or not isinstance(rule.get("from"), str):
        return None
    source = _at(session, client_id, rule["from"], cache)
    kind = rule.get("as")
    if kind == "needs" and isinstance(source, dict):
        return _needs_as_goals(source)
    if kind == "rows" and isinstance(source, list):
        mapping = rule.get("map")
        fields: dict[str, Any] = mapping if isinstance(mapping, dict) else {}
        return [
            {to: row.get(frm) for to, frm in fields.items() if row.get(frm) not in (None, "")}
            for row in source
            if isinstance(row, dict)
        ] or None
    return source


def _at(session: Session, client_id: int, path: str, cache: dict[str, dict[str, Any] | None]) -> Any:
    form_id, _, rest = path.partition(".")
    if form_id not in cache:
        cache[form_id] = latest(session, client_id, form_id)
    value: Any = cache[form_id]
    for key in [k for k in rest.split(".") if k]:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def latest(session: Session, client_id: int, form_id: str) -> dict[str, Any] | None:
    """The client's latest answers to a form, from any of their cases."""
    return session.scalar(
        select(FormSubmission.data)
        .join(Case, Case.id == FormSubmission.case_id)
        .where(Case.client_id == client_id, FormSubmission.form_id == form_id)
        .order_by(FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
        .limit(1)
    )


def _needs_as_goals(assessment: dict[str, Any]) -> list[dict[str, Any]] | None:
    """One goal row per life domain the assessment rated a moderate or high need, worded from its notes."""
    goals = []
    for domain, level in assessment.items():
        if level in NEED_LEVELS and not domain.endswith("_notes"):
            notes = assessment.get(f"{domain}_notes") or ""
            goals.append({"domain": domain, "goal": str(notes)[:500]} if notes else {"domain": domain})
    return goals or None
