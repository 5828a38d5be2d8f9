"""The JSON-Schema form renderer and parser (web/forms): widgets, labels, conditions, lists, typed answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from carepath.engine.form_samples import valid_sample
from carepath.web.forms import MISSING, action_of, build_form, describe, parse_form, prune, remove_row
from ui_support import form_data

FORMS = Path(__file__).resolve().parents[2] / "forms"

FREQUENCY = {
    "type": "integer",
    "minimum": 0,
    "maximum": 3,
    "oneOf": [
        {"const": 0, "title": "Not at all"},
        {"const": 1, "title": "Several days"},
        {"const": 2, "title": "More than half the days"},
        {"const": 3, "title": "Nearly every day"},
    ],
}

SCREEN = {
    "type": "object",
    "title": "Screen",
    "required": ["item1", "item2", "q1"],
    "$defs": {"frequency": FREQUENCY},
    "properties": {
        "item1": {"title": "1. Little interest", "$ref": "#/$defs/frequency"},
        "item2": {"title": "2. Feeling down", "$ref": "#/$defs/frequency"},
        "q1": {"title": "Wished you were dead?", "type": "boolean"},
        "q2": {"title": "Tried before?", "type": "boolean"},
        "q5": {"title": "Thoughts right now?", "type": "boolean"},
        "hours": {"title": "Hours of sleep", "type": "number", "minimum": 0, "maximum": 24},
        "seen_on": {"title": "Seen on", "type": "string", "format": "date"},
        "notes": {"title": "Notes", "type": "string", "maxLength": 2000},
        "source": {"title": "Source", "type": "string", "enum": ["a", "b", "c", "d", "e", "f", "g"]},
        "needs": {
            "title": "Needs",
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "enum": ["housing", "income"]},
        },
        "approved": {"title": "Approved", "type": "boolean", "const": True},
        "signs": {
            "title": "Warning signs",
            "type": "array",
            "minItems": 2,
            "maxItems": 3,
            "items": {"title": "Warning sign", "type": "string", "minLength": 1},
        },
        "goals": {
            "title": "Goals",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["goal"],
                "properties": {
                    "goal": {"title": "Goal", "type": "string", "minLength": 1},
                    "steps": {"title": "Steps", "type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "if": {
        "anyOf": [
            {"properties": {"q1": {"const": True}}, "required": ["q1"]},
            {"properties": {"q2": {"const": True}}, "required": ["q2"]},
        ]
    },
    "then": {"required": ["q5"]},
}


def by_path(form):
    return {f.path: f for f in form.walk()}


def render(app, form) -> str:
    with app.test_request_context():
        return render_template_string(
            '{% import "forms/macros.html" as fm %}{{ fm.error_summary(form) }}'
            '<form id="f">{{ fm.fields(form) }}</form>',
            form=form,
        )


# ---------- widgets ----------


def test_each_json_schema_type_gets_its_widget():
    f = by_path(build_form(SCREEN))
    assert f["item1"].kind == "radio" and [o.label for o in f["item1"].options][0] == "Not at all"
    assert f["item1"].label == "1. Little interest" and f["item1"].required  # the title beside $ref wins
    assert f["q1"].kind == "yesno" and [o.value for o in f["q1"].options] == ["true", "false"]
    assert f["hours"].kind == "number" and f["hours"].attrs["min"] == 0 and f["hours"].attrs["max"] == 24
    assert f["seen_on"].kind == "date"
    assert f["notes"].kind == "textarea"  # long text
    assert f["source"].kind == "select"  # more choices than fit as radios
    assert f["needs"].kind == "checkboxes"
    assert f["approved"].kind == "checkbox"  # must be ticked
    assert f["signs"].kind == "list" and f["goals"].kind == "list"


def test_ui_hints_choose_widgets_order_and_wording():
    ui = {
        "ui:order": ["notes", "*", "item1"],
        "notes": {"ui:widget": "text", "ui:help": "Short."},
        "source": {"ui:widget": "radio", "ui:title": "Where from"},
        "hours": {"ui:placeholder": "e.g. 7"},
    }
    form = build_form(SCREEN, ui)
    names = [f.path for f in form.fields]
    assert names[0] == "notes" and names[-1] == "item1"
    f = by_path(form)
    assert f["notes"].kind == "text" and f["notes"].hint == "Short."
    assert f["source"].kind == "radio" and f["source"].label == "Where from"
    assert f["hours"].placeholder == "e.g. 7"


def test_fields_shown_only_when_a_condition_holds_say_so():
    q5 = by_path(build_form(SCREEN))["q5"]
    assert q5.show_if and json.loads(q5.show_if)[0]["branch"] == "then"
    assert q5.required  # required whenever it is shown
    assert "Wished you were dead?" in q5.condition_hint and "Tried before?" in q5.condition_hint
    assert by_path(build_form(SCREEN))["q1"].show_if is None


def test_list_rows_blank_rows_and_template():
    f = by_path(build_form(SCREEN, values={"goals": [{"goal": "Sleep"}]}, extra_rows={"goals": 1}))
    assert [r.path for r in f["signs"].children] == ["signs/0", "signs/1"]  # minItems blank rows
    assert [r.path for r in f["goals"].children] == ["goals/0", "goals/1"]  # one kept, one added
    assert f["goals/0/goal"].value == "Sleep" and f["goals/1/goal"].value is MISSING
    assert f["goals"].template.path == "goals/__index__"
    nested = [c for c in f["goals"].template.walk() if c.kind == "list"][0]
    assert nested.template.path == "goals/__index__/steps/__index__"
    full = by_path(build_form(SCREEN, values={"signs": ["a", "b", "c"]}, extra_rows={"signs": 2}))
    assert len(full["signs"].children) == 3  # never more rows than maxItems


def test_errors_land_on_their_fields_and_in_the_summary_in_page_order():
    errors = {
        "q1": "Choose yes or no.",
        "item2": "This field is required.",
        "goals/0/goal": "This field is required.",
        "mystery": "Odd.",
    }
    form = build_form(SCREEN, values={"goals": [{"steps": ["x"]}]}, errors=errors)
    f = by_path(form)
    assert f["item2"].error and f["goals/0/goal"].error
    assert [e[0] for e in form.errors][:3] == ["f-item2-0", "f-q1-0", "f-goals--0--goal"]
    assert form.errors[-1] == ("", "Mystery", "Odd.")


# ---------- parsing posted answers ----------


def test_parse_types_answers_by_schema_and_leaves_out_empty_ones():
    posted = MultiDict(
        [
            ("item1", "2"),
            ("item2", "0"),
            ("q1", "true"),
            ("q2", "false"),
            ("hours", "7.5"),
            ("seen_on", "2026-03-02"),
            ("notes", "  a\r\nb "),
            ("source", ""),
            ("needs", "housing"),
            ("needs", "income"),
            ("approved", "true"),
            ("csrf_token", "x"),
            ("_add", ""),
        ]
    )
    data = parse_form(SCREEN, posted)
    assert data == {
        "item1": 2,
        "item2": 0,
        "q1": True,
        "q2": False,
        "hours": 7.5,
        "seen_on": "2026-03-02",
        "notes": "a\nb",
        "needs": ["housing", "income"],
        "approved": True,
    }


def test_parse_keeps_what_it_cannot_convert_so_validation_reports_it_in_place():
    data = parse_form(SCREEN, MultiDict([("item1", "7"), ("hours", "lots"), ("q1", "maybe")]))
    assert data == {"item1": 7, "hours": "lots", "q1": "maybe"}


def test_parse_lists_drop_empty_rows_and_renumber():
    posted = MultiDict(
        [
            ("signs/0", "pacing"),
            ("signs/1", " "),
            ("signs/7", "not sleeping"),
            ("goals/0/goal", ""),
            ("goals/3/goal", "Work"),
            ("goals/3/steps/0", "CV"),
            ("goals/__index__/goal", "template leftovers are not rows"),
        ]
    )
    data = parse_form(SCREEN, posted)
    assert data["signs"] == ["pacing", "not sleeping"]
    assert data["goals"] == [{"goal": "Work", "steps": ["CV"]}]


def test_prune_drops_answers_to_questions_whose_condition_does_not_hold():
    assert prune(SCREEN, {"q1": False, "q2": False, "q5": True}) == {"q1": False, "q2": False}
    assert prune(SCREEN, {"q1": True, "q5": True}) == {"q1": True, "q5": True}


def test_prune_follows_else_branches_and_allof():
    schema = {
        "type": "object",
        "properties": {"consent": {"type": "boolean"}, "why_not": {"type": "string"}, "signed": {"type": "string"}},
        "allOf": [
            {
                "if": {"properties": {"consent": {"const": True}}, "required": ["consent"]},
                "then": {"required": ["signed"]},
                "else": {"required": ["why_not"]},
            }
        ],
    }
    assert prune(schema, {"consent": True, "why_not": "x", "signed": "y"}) == {"consent": True, "signed": "y"}
    assert prune(schema, {"consent": False, "why_not": "x", "signed": "y"}) == {"consent": False, "why_not": "x"}


def test_row_buttons_without_javascript():
    assert action_of(MultiDict([("_add", "goals")])).kind == "add"
    assert action_of(MultiDict([("_remove", "goals/1")])).path == "goals/1"
    assert action_of(MultiDict([("item1", "1")])).kind == "complete"
    data = {"goals": [{"goal": "a"}, {"goal": "b"}, {"goal": "c"}]}
    assert remove_row(data, "goals/1") == {"goals": [{"goal": "a"}, {"goal": "c"}]}
    assert remove_row({"goals": [{"goal": "a", "steps": ["x", "y"]}]}, "goals/0/steps/0") == {
        "goals": [{"goal": "a", "steps": ["y"]}]
    }


def test_describe_uses_the_forms_own_words():
    answers = describe(SCREEN, {"item1": 3, "q1": False, "goals": [{"goal": "Sleep"}], "extra": "kept"})
    assert [(a.label, a.text) for a in answers][:2] == [
        ("1. Little interest", "Nearly every day"),
        ("Wished you were dead?", "No"),
    ]
    assert answers[2].items[0].items[0].label == "Goal" and answers[2].items[0].items[0].text == "Sleep"
    assert answers[-1].label == "Extra"


# ---------- HTML ----------


def test_html_labels_every_control_and_links_errors(app):
    form = build_form(SCREEN, values={"item1": 2, "notes": "<b>kept</b>"}, errors={"item2": "This field is required."})
    html = render(app, form)
    assert 'id="f-item1-2" name="item1" value="2" checked' in html
    assert "&lt;b&gt;kept&lt;/b&gt;</textarea>" in html  # escaped, kept
    assert "<legend>2. Feeling down</legend>" in html
    assert 'aria-describedby="f-item2-error"' in html and 'id="f-item2-error"' in html
    assert 'href="#f-item2-0"' in html  # the summary links to the first choice
    assert html.count("<label for=") >= html.count("<input ") - html.count('type="hidden"')
    assert 'name="_add" value="goals"' in html and "<template>" in html


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.schema.json")), ids=lambda p: p.name.split(".")[0])
def test_every_shipped_form_round_trips_through_html(app, path):
    """Render any form of the library with valid answers; what a browser posts back parses to them."""
    schema = json.loads(path.read_text())
    ui_path = path.with_name(path.name.replace(".schema.json", ".ui.json"))
    ui = json.loads(ui_path.read_text()) if ui_path.exists() else None
    answers = valid_sample(schema)
    html = render(app, build_form(schema, ui, answers))
    assert prune(schema, parse_form(schema, form_data(html, "f"))) == prune(schema, answers)
