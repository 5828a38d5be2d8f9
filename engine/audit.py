"""The audit log: who read or changed which client record, when, through which channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from .access import Actor
from .models import AuditEntry

# Entries are only ever appended, so nothing needs them as ORM objects: a Core insert of the table,
# built once, skips the ORM's unit of work (an entry is written with nearly every read and change).
_APPEND = insert(cast(Table, AuditEntry.__table__))


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    record_type: str,
    record_id: object,
    client_id: int | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> None:
    """Append one entry. Call it in the same transaction as the read or change it records.

    `detail` says what (counts, formats, ids), never record contents; `username` names who when there is no
    signed-in actor (the operating-system user running a CLI export)."""
    session.connection().execute(
        _APPEND,
        {
            "at": now,
            "username": actor.username if actor else username,
            "action": action,
            "record_type": record_type,
            "record_id": str(record_id)[:64],
            "client_id": client_id,
            "channel": actor.channel if actor else ("cli" if username else "system"),
            "detail": detail,
        },
    )


def record_many(
    session: Session,
    actor: Actor | None,
    action: str,
    record_type: str,
    record_id: object,
    client_ids: list[int | None],
    now: datetime,
    detail: dict[str, object] | None = None,
) -> None:
    """One entry per client (a search that found fifty clients), written in one statement."""
    who, channel = (actor.username, actor.channel) if actor else (None, "system")
    session.connection().execute(
        _APPEND,
        [
            {
                "at": now,
                "username": who,
                "action": action,
                "record_type": record_type,
                "record_id": str(record_id)[:64],
                "client_id": client_id,
                "channel": channel,
                "detail": detail,
            }
            for client_id in client_ids
        ],
    )
