"""Comparing two versions in the engine's terms: a step's role, form, due time, condition, timer and message; a
form's questions; a decision table's rows. Checked on the shipped library's own files."""

from __future__ import annotations

import json
from pathlib import Path

from authoring_support import with_condition, with_record_referral_due
from carepath.engine.authoring.compare import compare
from carepath.engine.authoring.tables import element_facts, read_tables

ROOT = Path(__file__).resolve().parents[2]
INTAKE = (ROOT / "workflows" / "intake.bpmn").read_text()
ASSESSMENT = (ROOT / "workflows" / "assessment.bpmn").read_text()
CONSENT = (ROOT / "forms" / "consent.schema.json").read_text()
RISK = (ROOT / "workflows" / "risk_level.dmn").read_text()


def _by_id(changes, kind):
    return {c["id"]: c for c in changes[kind]}


def _details(change):
    return {d["what"]: (d["before"], d["after"]) for d in change["details"]}


def test_a_step_s_due_time_condition_and_lane_are_seen():
    after = with_condition(
        with_record_referral_due(INTAKE, "P3D"),
        "f_emergent_gw_to_throw_crisis_referral",
        'referral["urgency"] == "emergent"',
    )
    changes = compare({"intake.bpmn": INTAKE}, {"intake.bpmn": after})
    assert changes["files"] == {"added": [], "removed": [], "changed": ["intake.bpmn"]}
    elements = _by_id(changes, "elements")
    assert set(elements) == {"record_referral", "f_emergent_gw_to_throw_crisis_referral"}
    assert _details(elements["record_referral"]) == {"due": ('"P1D"', '"P3D"')}
    assert _details(elements["f_emergent_gw_to_throw_crisis_referral"]) == {
        "condition": ("crisis_started", 'referral["urgency"] == "emergent"')
    }
    assert elements["record_referral"]["kind"] == "userTask" and elements["record_referral"]["change"] == "changed"
    # Move the clinician's review into the case manager's lane: its role changes.
    moved = ASSESSMENT.replace("<bpmn:flowNodeRef>clinical_review</bpmn:flowNodeRef>", "")
    moved = moved.replace(
        "<bpmn:flowNodeRef>needs_assessment</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>needs_assessment</bpmn:flowNodeRef><bpmn:flowNodeRef>clinical_review</bpmn:flowNodeRef>",
    )
    lanes = _by_id(compare({"assessment.bpmn": ASSESSMENT}, {"assessment.bpmn": moved}), "elements")
    assert _details(lanes["clinical_review"]) == {"role": ("clinician", "case_manager")}


def test_the_facts_read_from_the_shipped_intake():
    facts = element_facts(INTAKE, "intake.bpmn")
    assert facts["record_referral"] == {
        "kind": "userTask",
        "name": "Record the referral",
        "role": "intake",
        "form": "referral.schema.json",
        "due": '"P1D"',
    }
    assert facts["throw_crisis_referral"]["message"] == "crisis_reported"
    assert "record_score" in facts["score_asq"]["script"]


def test_form_questions_added_removed_and_changed():
    old = json.loads(CONSENT)
    new = json.loads(CONSENT)
    first, *_ = old["properties"]
    new["properties"][first]["title"] = "Changed wording"
    new["required"] = [n for n in new["required"] if n != first]
    new["properties"]["interpreter_needed"] = {"title": "Interpreter needed?", "type": "boolean"}
    gone = [n for n in old["properties"] if n != first][-1]
    del new["properties"][gone]
    changes = compare({"consent.schema.json": CONSENT}, {"consent.schema.json": json.dumps(new)})
    fields = _by_id(changes, "fields")
    assert fields["interpreter_needed"]["change"] == "added"
    assert fields[gone]["change"] == "removed"
    details = _details(fields[first])
    assert details["title"][1] == "Changed wording" and details["required"] == ("yes", "no")


def test_decision_table_rows_and_hit_policy():
    after = RISK.replace('<text>"low"</text>', '<text>"moderate"</text>', 1).replace(
        'hitPolicy="FIRST"', 'hitPolicy="UNIQUE"'
    )
    changes = compare({"risk_level.dmn": RISK}, {"risk_level.dmn": after})
    rules = _by_id(changes, "rules")
    assert _details(rules["risk_level"])["hit policy"] == ("FIRST", "UNIQUE")
    [row] = [c for c in changes["rules"] if c["id"] != "risk_level"]
    assert _details(row) == {"then risk_level": ('"low"', '"moderate"')}
    [table] = read_tables(RISK)
    assert table["hit_policy"] == "FIRST" and table["rules"][0]["inputs"][0] == '"acute_positive"'


def test_a_form_the_pathway_stops_using_is_one_line():
    changes = compare({"consent.schema.json": CONSENT}, {})
    assert changes["fields"] == [
        {
            "file": "consent.schema.json",
            "id": "(file)",
            "change": "removed",
            "label": json.loads(CONSENT)["title"],
            "details": [],
        }
    ]
