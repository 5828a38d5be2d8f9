"""The audit log: who read or changed which client record, when, through which channel."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .access import Actor
from .models import AuditEntry


def record(session: Session, actor: Actor | None, action: str, record_type: str, record_id, client_id: int | None,
           now: datetime) -> None:
    """Append one entry. Call it in the same transaction as the read or change it records."""
    session.add(AuditEntry(at=now, username=actor.username if actor else None, action=action,
                           record_type=record_type, record_id=str(record_id), client_id=client_id,
                           channel=actor.channel if actor else "system"))
