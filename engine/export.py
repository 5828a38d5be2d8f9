"""Exports of the event log: CSV (columns in docs/api.md, "Event export") and XES for process-mining tools."""
from __future__ import annotations

import csv
import io
from typing import Iterator
from xml.sax.saxutils import quoteattr

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from .models import Event

COLUMNS = ["case_id", "client_id", "pathway", "pathway_version", "instance_id", "activity", "activity_name",
           "lifecycle", "timestamp", "role", "user"]


def _rows(session: Session) -> Iterator[dict]:
    stmt = select(Event).order_by(Event.case_id, Event.at, Event.id).execution_options(yield_per=1000)
    for e in session.scalars(stmt):
        yield {"case_id": e.case_id, "client_id": e.client_id, "pathway": e.process_id,
               "pathway_version": e.pathway_version, "instance_id": e.instance_id, "activity": e.activity,
               "activity_name": e.activity_name, "lifecycle": e.lifecycle,
               "timestamp": e.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "role": e.role, "user": e.username}


def extent(session: Session) -> dict:
    """How much an export holds (for its audit entry): events, cases and clients."""
    events, cases, clients = session.execute(select(func.count(), func.count(distinct(Event.case_id)),
                                                    func.count(distinct(Event.client_id)))).one()
    return {"events": events, "cases": cases, "clients": clients}


def events_csv(session: Session) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _rows(session):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


def events_xes(session: Session) -> str:
    """IEEE 1849 XES: one trace per case; the CSV's columns as standard and Carepath attributes."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">',
             '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>',
             '  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>',
             '  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>',
             '  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>',
             '  <global scope="event"><string key="concept:name" value=""/><string key="lifecycle:transition" value=""/>'
             '<date key="time:timestamp" value="1970-01-01T00:00:00.000Z"/></global>',
             '  <classifier name="Activity" keys="concept:name lifecycle:transition"/>']
    case_id, open_trace = None, False
    for row in _rows(session):
        if not open_trace or row["case_id"] != case_id:
            if open_trace:
                lines.append("  </trace>")
            case_id, open_trace = row["case_id"], True
            lines.append("  <trace>")
            lines.append(f'    <string key="concept:name" value="{case_id if case_id is not None else "none"}"/>')
            if row["client_id"] is not None:
                lines.append(f'    <int key="client_id" value="{row["client_id"]}"/>')
        attrs = [f'<string key="concept:name" value={quoteattr(row["activity_name"] or row["activity"])}/>',
                 f'<string key="activity" value={quoteattr(row["activity"])}/>',
                 f'<string key="lifecycle:transition" value={quoteattr(row["lifecycle"])}/>',
                 f'<date key="time:timestamp" value="{row["timestamp"]}"/>']
        if row["role"]:
            attrs.append(f'<string key="org:role" value={quoteattr(row["role"])}/>')
        if row["user"]:
            attrs.append(f'<string key="org:resource" value={quoteattr(row["user"])}/>')
        if row["pathway"]:
            attrs.append(f'<string key="pathway" value={quoteattr(row["pathway"])}/>')
        if row["pathway_version"] is not None:
            attrs.append(f'<int key="pathway_version" value="{row["pathway_version"]}"/>')
        if row["instance_id"] is not None:
            attrs.append(f'<int key="instance_id" value="{row["instance_id"]}"/>')
        lines.append("    <event>" + "".join(attrs) + "</event>")
    if open_trace:
        lines.append("  </trace>")
    lines.append("</log>")
    return "\n".join(lines) + "\n"
