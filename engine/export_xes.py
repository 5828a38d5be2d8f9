"""The XES export's traces and events built by PostgreSQL and streamed with `COPY … TO STDOUT`.

Python formats about 50,000 events a second; the database, several times that. The text is byte for byte what
export.py's Python path writes for the same rows (tests/quality/test_xes_export.py compares the two): the same
XML escaping as `xml.sax.saxutils.escape` and `quoteattr` (which picks single quotes for a value holding a
double quote and no single quote), the same optional attributes, and traces opened and closed where the case
changes in (case, time, id) order, found with window functions over that order.

COPY's text format escapes a backslash, and the newline inside a row (a trace's first and last event share a
row with its opening and closing lines), so each chunk is unescaped on the way out; XML escaping has already
replaced tabs and carriage returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from . import copy_out

# COPY text format's escapes that can occur here (backspace, form feed and vertical tab are not valid XML, but
# the Python path writes them as they are, and so does this one).
_COPY_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
_COPY_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _escaped(column: str, in_attribute: bool = True) -> str:
    """`xml.sax.saxutils.escape`, with quoteattr's entities for newline, carriage return and tab when
    `in_attribute` (the Python path quotes every value but the lifecycle with quoteattr)."""
    out = f"replace(replace(replace({column}, '&', '&amp;'), '>', '&gt;'), '<', '&lt;')"
    if in_attribute:
        for code, entity in ((10, "&#10;"), (13, "&#13;"), (9, "&#9;")):
            out = f"replace({out}, chr({code}), '{entity}')"
    return out


def _quoted(column: str) -> str:
    """`xml.sax.saxutils.quoteattr`: double quotes, unless the value holds a double quote and no single one."""
    escaped = _escaped(column)
    return (
        f"CASE WHEN strpos({column}, '\"') > 0 AND strpos({column}, '''') = 0 THEN '''' || {escaped} || '''' "
        f"ELSE '\"' || replace({escaped}, '\"', '&quot;') || '\"' END"
    )


def _attribute(kind: str, key: str, value: str) -> str:
    return f"'<{kind} key=\"{key}\" value=' || {value} || '/>'"


def _query(transitions: dict[str, str], where: str) -> str:
    transition = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in transitions.items())
    name = "CASE WHEN activity_name <> '' THEN activity_name ELSE activity END"
    event = " || ".join(
        [
            "'    <event>'",
            _attribute("string", "concept:name", _quoted(name)),
            _attribute("string", "activity", _quoted("activity")),
            f"'<string key=\"lifecycle:transition\" value=\"' || CASE lifecycle {transition} ELSE 'complete' END "
            "|| '\"/>'",
            f"'<string key=\"carepath_lifecycle\" value=\"' || {_escaped('lifecycle', in_attribute=False)} || '\"/>'",
            '\'<date key="time:timestamp" value="\' || '
            "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '\"/>'",
            f"CASE WHEN role <> '' THEN {_attribute('string', 'org:role', _quoted('role'))} ELSE '' END",
            f"CASE WHEN username <> '' THEN {_attribute('string', 'org:resource', _quoted('username'))} ELSE '' END",
            f"CASE WHEN process_id <> '' THEN {_attribute('string', 'pathway', _quoted('process_id'))} ELSE '' END",
            "COALESCE('<int key=\"pathway_version\" value=\"' || pathway_version || '\"/>', '')",
            "COALESCE('<int key=\"instance_id\" value=\"' || instance_id || '\"/>', '')",
            "'</event>'",
        ]
    )
    opening = (
        'CASE WHEN first_in_trace THEN \'  <trace><string key="concept:name" value="\' '
        "|| COALESCE(case_id::text, 'none') || '\"/>' "
        "|| COALESCE('<int key=\"client_id\" value=\"' || client_id || '\"/>', '') || chr(10) ELSE '' END"
    )
    closing = "CASE WHEN last_in_trace THEN chr(10) || '  </trace>' ELSE '' END"
    return (
        f"SELECT {opening} || {event} || {closing} FROM ("
        "SELECT *, "
        "(row_number() OVER w = 1 OR lag(case_id) OVER w IS DISTINCT FROM case_id) AS first_in_trace, "
        "(lead(id) OVER w IS NULL OR lead(case_id) OVER w IS DISTINCT FROM case_id) AS last_in_trace "
        f"FROM events{where} WINDOW w AS (ORDER BY case_id, at, id)) AS e ORDER BY case_id, at, id"
    )


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)


def traces(
    session: Session, transitions: dict[str, str], since: datetime | None, before: datetime | None, chunk: int
) -> Iterator[str]:
    """The log's traces as text (between the XES head and `</log>`), in chunks of about `chunk` bytes."""
    where, params = copy_out.window(since, before)
    query = _query(transitions, where)
    # Text format: whole rows per chunk, so each chunk's COPY escapes are complete and undone here.
    for text in copy_out.stream(session, f"COPY ({query}) TO STDOUT", params, chunk):
        yield _unescape(text)
