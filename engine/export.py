"""Exports of the event log, streamed in constant memory: CSV (columns in docs/api.md, "Event export") and
IEEE 1849 XES for process-mining tools (one trace per case, the standard lifecycle model).

Rows are read through a server-side cursor on PostgreSQL (`stream_results`) and in batches on SQLite, and
written out in chunks of about 64 KB as they come. On PostgreSQL both are PostgreSQL's own `COPY … TO STDOUT`
(the XES lines built in SQL: export_xes.py), which formats rows in the server many times faster than Python.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import distinct, func, select, text
from sqlalchemy.orm import Session

from . import copy_out, export_xes
from .models import Case, Event
from .paging import AnySelect

S = TypeVar("S", bound=AnySelect)

COLUMNS = [
    "case_id",
    "client_id",
    "pathway",
    "pathway_version",
    "instance_id",
    "activity",
    "activity_name",
    "lifecycle",
    "timestamp",
    "role",
    "user",
]
CHUNK = 64 * 1024
BATCH = 10_000
# The standard lifecycle model's transitions (XES lifecycle extension) for the log's `lifecycle` values.
XES_TRANSITION = {
    "ready": "schedule",
    "claimed": "assign",
    "completed": "complete",
    "cancelled": "withdraw",
    "timer_fired": "complete",
    "message": "complete",
}
FORMATS = ("csv", "xes")


def _window(stmt: S, since: datetime | None, before: datetime | None) -> S:
    if since is not None:
        stmt = stmt.where(Event.at >= since)
    if before is not None:
        stmt = stmt.where(Event.at < before)
    return stmt


def _select(since: datetime | None, before: datetime | None, by_case: bool) -> AnySelect:
    stmt = select(
        Event.case_id,
        Event.client_id,
        Event.process_id,
        Event.pathway_version,
        Event.instance_id,
        Event.activity,
        Event.activity_name,
        Event.lifecycle,
        Event.at,
        Event.role,
        Event.username,
    )
    # XES needs each case's events together (a trace); the CSV is in the order events were recorded, which
    # needs no sort, so the database streams it straight off the table.
    return _window(stmt, since, before).order_by(*((Event.case_id, Event.at, Event.id) if by_case else (Event.id,)))


def _rows(session: Session, since: datetime | None, before: datetime | None, by_case: bool) -> Iterator[Any]:
    result = session.execute(
        _select(since, before, by_case), execution_options={"stream_results": True, "yield_per": BATCH}
    )
    for partition in result.partitions():
        yield from partition


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def extent(session: Session, since: datetime | None = None, before: datetime | None = None) -> dict[str, int]:
    """How much an export holds (for its audit entry): events, cases and clients. The cases come from the
    case table (a semi-join), which is several times cheaper than counting distinct values of millions of
    events."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
    events = session.execute(_window(select(func.count()).select_from(Event), since, before)).scalar_one()
    in_log = _window(select(Event.case_id).where(Event.case_id.is_not(None)), since, before)
    cases, clients = session.execute(
        select(func.count(), func.count(distinct(Case.client_id))).where(Case.id.in_(in_log))
    ).one()
    return {"events": events, "cases": cases, "clients": clients}


def chunks(session: Session, fmt: str, since: datetime | None = None, before: datetime | None = None) -> Iterator[str]:
    """The export as text chunks, in order (events with `since <= at < before`, when given): CSV in the order
    events were recorded, XES by case, then time."""
    if session.get_bind().dialect.name == "postgresql":
        # One pass over the whole log: plan for the last row, not the first (a cursor's default would walk
        # an index in case order, fetching rows all over the table), and skip JIT compilation.
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        return _copy_csv(session, since, before) if fmt == "csv" else _copy_xes(session, since, before)
    return _csv(session, since, before) if fmt == "csv" else _xes(session, since, before)


def _csv(session: Session, since: datetime | None, before: datetime | None) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in _rows(session, since, before, by_case=False):
        writer.writerow(
            (
                "" if r.case_id is None else r.case_id,
                "" if r.client_id is None else r.client_id,
                r.process_id or "",
                "" if r.pathway_version is None else r.pathway_version,
                "" if r.instance_id is None else r.instance_id,
                r.activity,
                r.activity_name,
                r.lifecycle,
                _stamp(r.at),
                r.role or "",
                r.username or "",
            )
        )
        if out.tell() >= CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _copy_csv(session: Session, since: datetime | None, before: datetime | None) -> Iterator[str]:
    where, params = copy_out.window(since, before)
    query = (
        "SELECT case_id, client_id, process_id, pathway_version, instance_id, activity, activity_name, lifecycle, "
        "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), role, username FROM events" + where
    )  # the table is append-only: stored order is recorded order
    yield ",".join(COLUMNS) + "\n"
    yield from copy_out.stream(session, f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", params, CHUNK)


def _copy_xes(session: Session, since: datetime | None, before: datetime | None) -> Iterator[str]:
    """The XES with its traces and events written by PostgreSQL (export_xes.py), the same text as `_xes`."""
    yield _XES_HEAD
    yield from export_xes.traces(session, XES_TRANSITION, since, before, CHUNK)
    yield "</log>\n"


_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace"><string key="concept:name" value=""/></global>
  <global scope="event">
    <string key="concept:name" value=""/>
    <string key="lifecycle:transition" value="complete"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000Z"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
  <string key="lifecycle:model" value="standard"/>
  <string key="concept:name" value="Carepath event log"/>
"""


def _xes(session: Session, since: datetime | None, before: datetime | None) -> Iterator[str]:
    """One trace per case (events outside any case in a trace named "none"). Each event carries the CSV's
    columns: standard attributes where the XES extensions have them, Carepath's own keys for the rest."""
    parts: list[str] = [_XES_HEAD]
    size, current, open_trace = 0, None, False
    for r in _rows(session, since, before, by_case=True):
        if not open_trace or r.case_id != current:
            if open_trace:
                parts.append("  </trace>\n")
            current, open_trace = r.case_id, True
            parts.append(
                f'  <trace><string key="concept:name" value="{r.case_id if r.case_id is not None else "none"}"/>'
            )
            if r.client_id is not None:
                parts.append(f'<int key="client_id" value="{r.client_id}"/>')
            parts.append("\n")
        name = r.activity_name or r.activity
        event = (
            f'    <event><string key="concept:name" value={quoteattr(name)}/>'
            f'<string key="activity" value={quoteattr(r.activity)}/>'
            f'<string key="lifecycle:transition" value="{XES_TRANSITION.get(r.lifecycle, "complete")}"/>'
            f'<string key="carepath_lifecycle" value="{escape(r.lifecycle)}"/>'
            f'<date key="time:timestamp" value="{_stamp(r.at)}"/>'
        )
        if r.role:
            event += f'<string key="org:role" value={quoteattr(r.role)}/>'
        if r.username:
            event += f'<string key="org:resource" value={quoteattr(r.username)}/>'
        if r.process_id:
            event += f'<string key="pathway" value={quoteattr(r.process_id)}/>'
        if r.pathway_version is not None:
            event += f'<int key="pathway_version" value="{r.pathway_version}"/>'
        if r.instance_id is not None:
            event += f'<int key="instance_id" value="{r.instance_id}"/>'
        parts.append(event + "</event>\n")
        size += len(event)
        if size >= CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    if open_trace:
        parts.append("  </trace>\n")
    parts.append("</log>\n")
    yield "".join(parts)
