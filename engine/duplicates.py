"""Possible duplicates at registration: clients with the same birth date and the same or a similar name.

Looked up by birth date (ix_clients_birth_date), names compared here. A match the registering person may open
is named and linked; for one they may not, they learn only that a possible duplicate exists and whom to ask
(its case manager, or a supervisor), so the warning reveals no record.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .access import REGISTRARS, Actor
from .careteam import on_care_team, reads_every_record
from .models import Client

SIMILAR = 0.8  # SequenceMatcher ratio of two full names above which they are "similar"


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(folded.lower().replace("-", " ").split())


def similar_names(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    a, b = _plain(f"{given_a} {family_a}"), _plain(f"{given_b} {family_b}")
    swapped = _plain(f"{family_b} {given_b}")
    return a == b or a == swapped or SequenceMatcher(None, a, b).ratio() >= SIMILAR


def possible_duplicates(
    session: Session, actor: Actor, given: str, family: str, birth_date: date, now: datetime
) -> list[dict[str, Any]]:
    """Clients born on `birth_date` whose name is the same or similar. Each match is audited (a search).
    Raises NotAllowed (people who do not register clients)."""
    actor.require(REGISTRARS, "register clients")
    out = []
    for client in session.scalars(select(Client).where(Client.birth_date == birth_date).order_by(Client.id).limit(200)):
        if not similar_names(given, family, client.given_name, client.family_name):
            continue
        may_open = reads_every_record(actor) or on_care_team(session, actor, client.id, now)
        manager = client.case_manager
        ask = (manager.display_name or manager.username) if manager else None
        audit.record(session, actor, "search", "client", "duplicate-check", client.id, now)
        out.append(
            {
                "client_id": client.id if may_open else None,
                "may_open": may_open,
                "name": f"{client.given_name} {client.family_name}" if may_open else None,
                "birth_date": birth_date.isoformat(),
                "ask": ask,
            }
        )
    return out
