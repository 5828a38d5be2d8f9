"""Finding clients by name, in SQL, with an index on both databases.

PostgreSQL: a query of three characters or more matches anywhere in the lowercased full name
("okafor", "ria oka"), answered by a trigram GIN index (`pg_trgm`, migration 0007_scale) on exactly the
expression `full_name_key()` builds. SQLite has no trigram index, so there (and for one- or two-character
queries everywhere, where trigrams cannot help) a query matches the start of the given or family name, as
a range scan on the lowercased-name indexes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_

from .models import Client

TRIGRAM_MIN = 3  # pg_trgm indexes three-character pieces: shorter queries cannot use it


def full_name_key() -> ColumnElement[Any]:
    """lower(given_name || ' ' || family_name), spelled as the trigram index spells it (a literal space,
    not a bound parameter, so PostgreSQL recognises the indexed expression)."""
    return func.lower(Client.given_name.op("||")(literal_column("' '")).op("||")(Client.family_name))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(column: ColumnElement[Any], word: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        # A range, not LIKE: SQLite uses an index on lower(name) for a range, not for LIKE on an expression.
        # U+10FFFF sorts after every character under SQLite's byte-wise comparison.
        return and_(column >= word, column < word + "\U0010ffff")
    return column.like(f"{_escape_like(word)}%", escape="\\")


def name_matches(query: str, dialect: str) -> ColumnElement[bool]:
    """A condition on Client: the name matches `query` (trimmed, case-insensitive)."""
    q = " ".join(query.lower().split())
    full = full_name_key()
    if dialect == "postgresql" and len(q) >= TRIGRAM_MIN:
        return full.like(f"%{_escape_like(q)}%", escape="\\")
    first = q.split(" ", 1)[0]
    starts = or_(
        _prefix(func.lower(Client.family_name), first, dialect), _prefix(func.lower(Client.given_name), first, dialect)
    )
    if " " not in q:
        return starts
    # "maria lop": the first word picks rows by index, the whole query must then appear in the full name.
    return and_(starts, full.like(f"%{_escape_like(q)}%", escape="\\"))
