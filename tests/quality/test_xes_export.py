"""The event-log export read back: the XES validates against the standard's structure (an XML schema, lxml),
declares the standard lifecycle model, uses only its transitions, and holds the CSV's rows, trace by case."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from carepath.engine import export as export_module
from carepath.engine.models import Event

XES = "{http://www.xes-standard.org/}"
STANDARD_TRANSITIONS = {
    "schedule",
    "assign",
    "reassign",
    "start",
    "suspend",
    "resume",
    "complete",
    "autoskip",
    "manualskip",
    "withdraw",
    "ate_abort",
    "pi_abort",
}


def export(cp, fmt: str, **window) -> str:
    out = io.StringIO()
    cp.export_events(fmt, out, who="os:test", **window)
    return out.getvalue()


def test_the_xes_export_reads_back_as_the_csv(driver, cp, clock, actors):
    first = driver.new_case("Maria", "Lopez")
    driver.complete((first, "record_referral"), {"urgency": "routine", "reason": 'Says "xyzzy-overwhelmed" & <won\'t>'})
    second = driver.new_case()
    cp.deliver_message(actors["crisis"], second, "crisis_reported", {"reason": "Called the line."})
    clock.advance(hours=1)
    driver.complete((second, "crisis_triage"))

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("xes_1849.xsd"))))
    document = etree.fromstring(export(cp, "xes").encode())
    schema.assertValid(document)
    log_attrs = {el.get("key"): el.get("value") for el in document if el.tag == f"{XES}string"}
    assert log_attrs["lifecycle:model"] == "standard"

    rows = list(csv.DictReader(io.StringIO(export(cp, "csv"))))
    traces = document.findall(f"{XES}trace")
    assert [t.find(f"{XES}string[@key='concept:name']").get("value") for t in traces] == [str(first), str(second)]
    events = [{el.get("key"): el.get("value") for el in ev} for t in traces for ev in t.findall(f"{XES}event")]
    assert len(events) == len(rows)
    assert {e["lifecycle:transition"] for e in events} <= STANDARD_TRANSITIONS
    assert {"schedule", "complete"} <= {e["lifecycle:transition"] for e in events}
    # The CSV is in recorded order, the XES by case: the same events either way.
    assert sorted(
        (e["activity"], e["time:timestamp"], e.get("org:resource", ""), e["carepath_lifecycle"]) for e in events
    ) == sorted((r["activity"], r["timestamp"], r["user"], r["lifecycle"]) for r in rows)
    # Nothing of what was written in a form reaches the log.
    assert "xyzzy" not in export(cp, "xes") and "xyzzy" not in export(cp, "csv")


def test_an_export_for_a_window_holds_only_its_events(driver, cp, clock):
    driver.new_case()
    start = clock.advance(days=1)
    driver.new_case()
    rows = list(csv.DictReader(io.StringIO(export(cp, "csv", since=start))))
    assert rows and all(r["timestamp"] >= start.strftime("%Y-%m-%dT%H:%M:%S") for r in rows)
    assert {r["case_id"] for r in rows} == {"2"}
    assert list(csv.DictReader(io.StringIO(export(cp, "csv", before=start)))) and {
        r["case_id"] for r in csv.DictReader(io.StringIO(export(cp, "csv", before=start)))
    } == {"1"}


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_the_xes_written_by_postgresql_is_the_python_one_byte_for_byte(driver, cp, clock, actors):
    """On PostgreSQL the XES lines are built in SQL (engine/export_xes.py); the Python path must give the same
    text for the same events, whatever the names hold: markup, both quotes, non-ASCII, tabs, newlines,
    backslashes, events outside any case and empty optional columns."""
    case = driver.new_case("Zoë", "Ñúñez")
    driver.complete((case, "record_referral"), {"urgency": "routine"})
    cp.deliver_message(actors["crisis"], case, "crisis_reported", {"reason": "Called the line."})
    other = driver.new_case()
    at = clock.now()
    odd = [
        ("a<b>&c", 'Say "hello" & <bye>', "completed", "crisis", 'o"brien'),
        ("quote's", "It's \"both\" 'kinds'", "ready", None, "o'brien"),
        ("tab\there", "Line one\nline two\r\tend", "we\tx&<y>", "", ""),
        ("back\\slash", "C:\\path\\n not a newline \\\\ twice", "message", "case_manager", None),
        ("unicode", "Überprüfung — 日本語 ✓ 🙂", "timer_fired", "clinician", "zoë"),
        ("empty_name", "", "claimed", None, None),
    ]
    with cp.db.begin() as session:
        for n, (activity, name, lifecycle, role, user) in enumerate(odd):
            for case_id, client_id, instance_id in ((case, case, 1), (None, None, None), (other, None, None)):
                session.add(
                    Event(
                        at=at + timedelta(seconds=n, microseconds=7),
                        case_id=case_id,
                        client_id=client_id,
                        instance_id=instance_id,
                        process_id="crisis_response" if instance_id else None,
                        pathway_version=3 if instance_id else None,
                        activity=activity,
                        activity_name=name,
                        lifecycle=lifecycle,
                        role=role,
                        username=user,
                    )
                )

    def python_path(**window) -> str:
        with cp.db() as session:
            return "".join(export_module._xes(session, window.get("since"), window.get("before")))

    for window in ({}, {"since": at}, {"before": at + timedelta(seconds=3)}, {"since": at + timedelta(days=9)}):
        from_postgres = export(cp, "xes", **window)
        assert from_postgres == python_path(**window)
    whole = export(cp, "xes")
    assert "Überprüfung — 日本語 ✓ 🙂" in whole and "&lt;bye&gt;" in whole
    assert '<trace><string key="concept:name" value="none"/>' in whole
    schema = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("xes_1849.xsd"))))
    schema.assertValid(etree.fromstring(whole.encode()))


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_process_mining_tool_reads_the_xes_back(driver, cp, clock, actors, tmp_path):
    """pm4py (the most used open process-mining library; AGPL, so a test tool only) imports the export as an
    event log: one trace per case, every event with its activity, time, transition and resource."""
    import pm4py  # a test dependency ('.[test]'), imported here because its import takes two seconds

    first = driver.new_case("Maria", "Lopez")
    driver.complete((first, "record_referral"), {"urgency": "routine"})
    second = driver.new_case()
    cp.deliver_message(actors["crisis"], second, "crisis_reported", {"reason": "Called the line."})
    clock.advance(hours=1)
    driver.complete((second, "crisis_triage"))

    path = tmp_path / "carepath.xes"
    path.write_text(export(cp, "xes"), encoding="utf-8")
    log = pm4py.read_xes(str(path), variant="iterparse")
    rows = list(csv.DictReader(io.StringIO(export(cp, "csv"))))

    assert len(log) == len(rows)
    assert sorted(log["case:concept:name"].unique()) == sorted({r["case_id"] for r in rows})
    assert set(log["lifecycle:transition"]) <= STANDARD_TRANSITIONS
    read = sorted(
        (e["activity"], e["time:timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), e["carepath_lifecycle"])
        for e in log.to_dict("records")
    )
    assert read == sorted((r["activity"], r["timestamp"], r["lifecycle"]) for r in rows)
    # Each case's trace, in pm4py's terms, names its activities as staff see them, in the order they happened.
    for case_id in (first, second):
        trace = log[log["case:concept:name"] == str(case_id)].sort_values("time:timestamp", kind="stable")
        expected = [r["activity_name"] or r["activity"] for r in rows if r["case_id"] == str(case_id)]
        assert list(trace["concept:name"]) == expected
