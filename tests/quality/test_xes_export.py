"""The event-log export read back: the XES validates against the standard's structure (an XML schema, lxml),
declares the standard lifecycle model, uses only its transitions, and holds the CSV's rows, trace by case."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from lxml import etree

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
