"""Signing in and staying signed in: the sign-in throttle, and server-side sessions.

Throttle. Failed sign-ins are counted in the database (every web worker and host sees the same counts)
under three keys, and each attempt is counted *before* its password is checked, with the rows locked, so
sixty parallel guesses queue on the lock and the sixth finds the limit reached (the password of a refused
attempt is never checked):

- per address (any account): `address_failures` failures within `window` seconds, then that address is
  refused (429) for 30 s, doubling with each further failure up to 15 minutes;
- per account at an address: `pair_failures` failures, then the same back-off for that pair;
- per account (from anywhere): a delay before the password is checked, `account_delay_step` seconds for each
  failure beyond `account_delay_after`, at most `account_delay_max`. It slows guessing spread over many
  addresses, and never refuses: a stranger failing on a colleague's account from elsewhere cannot lock the
  colleague out; the right password from the colleague's own address goes through, only a little slower.

A success takes back its own count, and clears the account-at-address key (knowing the password there
settles it), but not the address key: signing in to one's own account must not reset guessing at others.

Sessions. The cookie carries only a random id; its hash, the user, the times and whether it has ended are
kept here. Signing out, idling past `idle_minutes`, reaching `max_hours`, or the account being disabled
ends the session on the server, so a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .access import Actor
from .access_models import SigninThrottle, UserSession
from .errors import TooManyAttempts
from .models import User
from .people import actor_of

BACKOFF_START, BACKOFF_MAX = 30.0, 900.0
# last_seen_at is written at most this often: a session's idle time is exact to within a minute, and most
# requests do not write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    pair_failures: int = 5
    address_failures: int = 20
    window: int = 900  # seconds a failure is remembered after the last one
    account_delay_after: int = 5
    account_delay_step: float = 0.25
    account_delay_max: float = 2.0


def _keys(username: str, address: str) -> dict[str, str]:
    return {"address": f"a:{address}"[:200], "pair": f"p:{username}|{address}"[:200], "account": f"u:{username}"[:200]}


def backoff(over: int) -> float:
    """Seconds an address (or account at an address) waits after its last failure, `over` failures past the
    limit: 30 s, then doubling, at most 15 minutes."""
    return min(BACKOFF_MAX, BACKOFF_START * 2.0 ** max(0, over))


def account_delay(failures: int, limits: Limits) -> float:
    return min(limits.account_delay_max, limits.account_delay_step * max(0, failures - limits.account_delay_after))


def _locked_rows(session: Session, keys: list[str], now: datetime) -> dict[str, SigninThrottle]:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in sorted(keys):  # one order everywhere: two attempts never wait on each other's rows crosswise
        session.execute(
            insert(SigninThrottle)
            .values(key=key, failures=0, last_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    rows = session.scalars(
        select(SigninThrottle).where(SigninThrottle.key.in_(keys)).order_by(SigninThrottle.key).with_for_update()
    ).all()
    return {r.key: r for r in rows}


def reserve(session: Session, username: str, address: str, now: datetime, limits: Limits) -> float:
    """Count one attempt as a failure before its password is checked (`settle` takes it back on success).
    Returns the account delay to wait before checking. Raises TooManyAttempts while a back-off is on."""
    keys = _keys(username, address)
    rows = _locked_rows(session, list(keys.values()), now)
    for row in rows.values():
        if (now - row.last_at).total_seconds() > limits.window:
            row.failures = 0
    for kind, limit in (("address", limits.address_failures), ("pair", limits.pair_failures)):
        row = rows[keys[kind]]
        if row.failures >= limit:
            wait = backoff(row.failures - limit) - (now - row.last_at).total_seconds()
            if wait > 0:
                seconds = math.ceil(wait)
                raise TooManyAttempts(
                    f"Too many failed sign-ins. Wait {seconds} seconds and try again.", retry_after=seconds
                )
    delay = account_delay(rows[keys["account"]].failures, limits)
    for row in rows.values():
        row.failures += 1
        row.last_at = now
    return delay


def settle(session: Session, username: str, address: str, now: datetime, window: int) -> None:
    """A successful sign-in: take back the attempt counted by `reserve`, and clear the account-at-address key.
    Keys quiet for longer than the window are forgotten on the way (they count nothing any more)."""
    keys = _keys(username, address)
    rows = _locked_rows(session, list(keys.values()), now)
    for kind, row in ((k, rows[v]) for k, v in keys.items()):
        row.failures = 0 if kind == "pair" else max(0, row.failures - 1)
    session.execute(
        delete(SigninThrottle)
        .where(
            SigninThrottle.last_at < now - timedelta(seconds=2 * window), SigninThrottle.key.not_in(list(keys.values()))
        )
        .execution_options(synchronize_session=False)
    )


# ---------- sessions ----------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime, max_hours: float) -> str:
    """A new session for the user. Returns the random id the cookie carries (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=max_hours),
        )
    )
    return token


def actor_for_session(session: Session, token: str, now: datetime, idle_minutes: float) -> Actor | None:
    """The signed-in person of a live session, or None: unknown, signed out, idle too long, past its end, or
    the account disabled. A session found idle or past its end is ended here."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None:
        return None
    why = (
        "expired"
        if now >= row.expires_at
        else "idle"
        if now - row.last_seen_at > timedelta(minutes=idle_minutes)
        else None
    )
    if why:
        row.ended_at, row.ended_why = now, why
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return actor_of(user, "web")


def end_session(session: Session, token: str, now: datetime, why: str = "signed_out") -> None:
    if not isinstance(token, str) or not token:
        return
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_why = now, why
