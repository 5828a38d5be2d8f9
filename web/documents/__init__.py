"""Client copies as printable pages: the safety plan in the Stanley-Brown layout, the treatment plan with
signature lines, the discharge summary. Reading one is audited by the engine as a print."""

from __future__ import annotations

from flask import Blueprint, render_template

from carepath.engine.access import RECORD_READERS

from .. import forms
from ..appstate import cp
from ..auth import current_actor, login_required

bp = Blueprint("documents", __name__)

TEMPLATES = {
    "safety-plan": "documents/safety_plan.html",
    "treatment-plan": "documents/treatment_plan.html",
    "discharge-summary": "documents/discharge_summary.html",
}


def _choice_titles(schema: dict | None) -> dict[str, str]:
    """Every `{"const", "title"}` choice in the form, so answers read in the form's words."""
    titles: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for option in node.get("oneOf") or []:
                if isinstance(option, dict) and "const" in option and "title" in option:
                    titles[str(option["const"])] = option["title"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return titles


@bp.get("/clients/<id:client_id>/documents/<kind>")
@login_required(RECORD_READERS)
def show(client_id: int, kind: str):
    doc = cp().client_copy(current_actor(), client_id, kind)  # NotFound for a kind that is not a document
    return render_template(
        TEMPLATES[kind],
        doc=doc,
        data=doc["data"],
        client=doc["client"],
        titles=_choice_titles(doc["schema"]),
        answers=forms.describe(doc["schema"], doc["data"], doc["ui_schema"]),
    )
