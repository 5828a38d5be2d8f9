"""The pathway library: versions by content hash, instances keep theirs, new ones start on the newest,
and broken or hostile files are refused with findings that say where."""

from __future__ import annotations

import dataclasses

import bpmn_fixtures as bf
import pytest
from sqlalchemy import select

from carepath.engine import library
from carepath.engine.errors import PathwayInvalid
from carepath.engine.models import PathwayInstance, PathwayVersion
from carepath.engine.pathway_files import FileSet


def _versions(cp, process_id):
    with cp.db() as session:
        return session.execute(
            select(PathwayVersion.version, PathwayVersion.is_current, PathwayVersion.origin)
            .where(PathwayVersion.process_id == process_id)
            .order_by(PathwayVersion.version)
        ).all()


def test_start_up_publishes_only_what_changed(cp, tmp_path):
    assert cp.sync_library() == []  # the seeded database already has the shipped library as version 1
    assert _versions(cp, "intake") == [(1, True, "library")]

    workflows, forms = tmp_path / "workflows", tmp_path / "forms"
    workflows.mkdir()
    forms.mkdir()
    for name, text in cp.library_files().files.items():
        ((forms if name.endswith(".json") else workflows) / name).write_text(text)
    (workflows / "intake.bpmn").write_text((workflows / "intake.bpmn").read_text() + "<!-- edited -->\n")
    cp.settings = dataclasses.replace(cp.settings, workflows_dir=workflows, forms_dir=forms)
    published = {(r.process_id, r.version) for r in cp.sync_library()}
    assert published == {("intake", 2)}
    assert _versions(cp, "intake") == [(1, False, "library"), (2, True, "library")]
    assert cp.sync_library() == []  # nothing changed since


def test_a_form_change_is_a_new_version_of_the_pathways_using_it(cp):
    files = cp.library_files()
    files.files["asq.schema.json"] = files.files["asq.schema.json"].replace("ASQ Suicide Risk", "ASQ suicide risk")
    built = library.build(files, skip_hashes=_current_hashes(cp))
    changed = sorted(p.process_id for p in built)
    assert "intake" in changed and "assessment" in changed
    assert "overdue_escalation" not in changed


def _current_hashes(cp):
    with cp.db() as session:
        return {pid: {h} for pid, h in session.execute(select(PathwayVersion.process_id, PathwayVersion.content_hash))}


def test_running_instances_keep_their_version_and_new_ones_start_on_the_newest(cp, driver, actors):
    fs = bf.files(note_flow=bf.pathway("note_flow", start_message="go_note"))
    bf.publish(cp, fs)
    first_case = driver.new_case()
    cp.deliver_message(actors["case_manager"], first_case, "go_note", {})

    fs.files["note_flow.bpmn"] = fs.files["note_flow.bpmn"].replace('name="First step"', 'name="First step, revised"')
    assert bf.publish(cp, fs) == [("note_flow", 2)]
    second_case = driver.new_case()
    cp.deliver_message(actors["case_manager"], second_case, "go_note", {})

    old, new = driver.task(first_case, "first"), driver.task(second_case, "first")
    assert (old.title, new.title) == ("First step", "First step, revised")
    driver.complete(old, {"text": "done on version 1"})
    with cp.db() as session:
        rows = session.scalars(
            select(PathwayInstance).where(PathwayInstance.process_id == "note_flow").order_by(PathwayInstance.id)
        ).all()
        assert [(r.pathway_version.version, r.status) for r in rows] == [(1, "completed"), (2, "running")]


BROKEN = {
    "not XML": ("broken.bpmn", "<bpmn:definitions", "not well-formed XML"),
    "XXE": (
        "xxe.bpmn",
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        "DOCTYPE",
    ),
    "billion laughs": (
        "lol.bpmn",
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>',
        "DOCTYPE",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_hostile_or_broken_xml_is_refused_without_being_expanded(case):
    name, text, expected = BROKEN[case]
    with pytest.raises(PathwayInvalid) as refused:
        library.build(FileSet({name: text}))
    assert refused.value.findings[0].file == name
    assert expected in refused.value.findings[0].message
    assert "root:" not in str(refused.value)  # /etc/passwd was never read


def test_carepath_rules_are_reported_with_file_and_line():
    text = bf.pathway("rules", after=bf.script_then_end("x = 1"))
    text = text.replace('name="Case Manager"', 'name="Janitor"')
    text = text.replace('value="note.schema.json"', 'value="missing.schema.json"')
    fs = bf.files(rules=text)
    fs.files["misnamed.bpmn"] = bf.pathway("other_id")
    fs.files["bad.schema.json"] = '{"type": "object", "properties": {"a": {"type": "nonsense"}}}'
    findings = library.validate(fs)
    messages = {(f.file, f.message.split(":")[0]) for f in findings}
    assert ("rules.bpmn", "user task 'First step'") in messages
    assert any("Janitor".lower() in f.message for f in findings)
    assert any("missing.schema.json not found" in f.message for f in findings)
    assert any(f.file == "misnamed.bpmn" and "must equal the file name" in f.message for f in findings)
    assert all(f.line for f in findings if f.file.endswith(".bpmn"))


def test_an_invalid_form_is_refused_against_the_2020_12_meta_schema():
    fs = bf.files(uses_bad=bf.pathway("uses_bad"))
    fs.files["note.schema.json"] = '{"type": "object", "properties": {"text": {"type": "nonsense"}}}'
    findings = library.validate(fs)
    assert any(f.file == "note.schema.json" and "not a valid JSON Schema" in f.message for f in findings)


def test_a_message_reference_to_nothing_is_a_readable_finding():
    text = bf.pathway("dangling", start_message="go").replace('<bpmn:message id="m_start" name="go"/>', "")
    findings = library.validate(bf.files(dangling=text))
    assert any("messageRef 'm_start' names no <bpmn:message>" in f.message and f.line for f in findings), findings
