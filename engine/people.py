"""Staff accounts: users and roles, passwords (argon2id), API tokens that expire and can be revoked, and
disabling an account (which ends its sessions and tokens at once). Sign-in itself is engine/signin.py."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, Result, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .access import Actor
from .access_models import ApiToken, UserSession
from .errors import BadRequest, NotAuthenticated, NotFound
from .models import ROLES, User, UserRole

# argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane): about 50 ms a check here. They are
# stored in each hash, so raising them later re-hashes each password at its owner's next sign-in.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_LEGACY_SCRYPT = "scrypt$"  # hashes written before argon2id: still checked, replaced at the next sign-in


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@functools.lru_cache(maxsize=1)
def _no_user_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        # No such (active) user: spend the time a check takes anyway, so the answer's timing does not say so.
        _verify(_no_user_hash(), password)
        return False
    if stored.startswith(_LEGACY_SCRYPT):
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
        return hmac.compare_digest(candidate.hex(), digest)
    return _verify(stored, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return stored.startswith(_LEGACY_SCRYPT) or _HASHER.check_needs_rehash(stored)


def actor_of(user: User, channel: str) -> Actor:
    return Actor(user.id, user.username, frozenset(user.role_names), channel)


def add_user(
    session: Session, username: str, roles: list[str], password: str | None, now: datetime, display_name: str = ""
) -> User:
    """Create a user. Raises BadRequest for an unknown role, a taken or malformed username."""
    username = (username or "").strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise BadRequest("A username is 1 to 64 letters, digits or . _ - @.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise BadRequest(f"Roles must be among {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}.")
    if session.scalar(select(User.id).where(User.username == username)):
        raise BadRequest(f"User {username!r} already exists.")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password) if password else None,
        active=True,
        created_at=now,
        roles=[UserRole(role=r) for r in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    return user


def actor_by_id(session: Session, user_id: int, channel: str = "web") -> Actor | None:
    """The active user with that id as an Actor, or None (a disabled account stops at once)."""
    user = session.get(User, user_id)
    return actor_of(user, channel) if user is not None and user.active else None


def users_by_role(session: Session, roles: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Active users holding each role: whom a supervisor may hand a task to, or a client to."""
    rows = session.execute(
        select(UserRole.role, User.username, User.display_name)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role.in_(sorted(set(roles))), User.active.is_(True))
        .order_by(User.display_name, User.username)
    ).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for role, username, display in rows:
        found.setdefault(role, []).append({"username": username, "name": display or username})
    return found


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


DEFAULT_TOKEN_DAYS = 30.0


def issue_token(session: Session, username: str, now: datetime, days: float = DEFAULT_TOKEN_DAYS) -> str:
    """A new API token for the user (see new_token)."""
    return new_token(session, username, now, days)[1]


def new_token(session: Session, username: str, now: datetime, days: float) -> tuple[int, str]:
    """A new API token for the user, valid for `days`; only its hash is stored, so this is the one time it is
    seen. Returns (token id, token). Raises NotFound, BadRequest (a disabled user, a silly lifetime)."""
    user = user_named(session, username)
    if not user.active:
        raise BadRequest(f"User {username!r} is disabled.")
    if not 0 < days <= 3650:
        raise BadRequest("A token lasts between a few minutes and ten years (--days).")
    token = "cp_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
        revoked=False,
    )
    session.add(row)
    session.flush()
    return row.id, token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The token, its user and the user's roles (a row per role) in one statement of plain columns, built once:
# every API request starts here, so neither ORM objects nor a second statement for the roles.
_TOKEN_HOLDER = (
    select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        ApiToken.revoked,
        User.id.label("user_id"),
        User.username,
        User.active,
        UserRole.role,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
TOKEN_USE_GRAIN = timedelta(minutes=5)  # last_used_at is coarse, so that every request does not write


def actor_for_token(db: Session | Connection, token: str, now: datetime) -> Actor:
    """Raises NotAuthenticated for an unknown, expired or revoked token, or a disabled user's."""
    rows = db.execute(_TOKEN_HOLDER, {"token_hash": _token_hash(token or "")}).all()
    if not rows:
        raise NotAuthenticated("The API token is not valid (unknown, expired or revoked).")
    first = rows[0]
    if first.revoked or first.expires_at <= now or not first.active:
        raise NotAuthenticated("The API token is not valid (unknown, expired or revoked).")
    if first.last_used_at is None or now - first.last_used_at > TOKEN_USE_GRAIN:
        db.execute(update(ApiToken).where(ApiToken.id == first.id).values(last_used_at=now))
    return Actor(first.user_id, first.username, frozenset(r.role for r in rows if r.role is not None), "api")


def list_tokens(session: Session, username: str, now: datetime) -> list[dict[str, Any]]:
    """The user's API tokens (never the tokens themselves), newest first. Raises NotFound."""
    user = user_named(session, username)
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [
        {
            "id": t.id,
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "status": "revoked" if t.revoked else ("expired" if t.expires_at <= now else "active"),
        }
        for t in rows
    ]


def revoke_token(session: Session, token_id: object, now: datetime) -> dict[str, Any]:
    """Revoke one API token by its id; it stops working at once. Raises NotFound."""
    row = session.get(ApiToken, token_id) if isinstance(token_id, int) and 0 < token_id < 2**31 else None
    if row is None:
        raise NotFound(f"No API token {token_id}.")
    if not row.revoked:
        row.revoked, row.revoked_at = True, now
    owner = session.get(User, row.user_id)
    if owner is None:
        raise NotFound(f"API token {token_id} belongs to no user.")
    return {"id": row.id, "user": owner.username}


def set_active(session: Session, username: str, active: bool, now: datetime) -> dict[str, Any]:
    """Disable (or enable again) an account. Disabling ends every session and revokes every API token of the
    user in the same transaction: nothing of theirs works a moment later. Raises NotFound."""
    user = user_named(session, username)
    user.active = active
    ended = revoked = 0
    if not active:
        ended = _rowcount(
            session.execute(
                update(UserSession)
                .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                .values(ended_at=now, ended_why="disabled")
            )
        )
        revoked = _rowcount(
            session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                .values(revoked=True, revoked_at=now)
            )
        )
    return {"user": user.username, "active": active, "sessions_ended": ended, "tokens_revoked": revoked}


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched. Session.execute() is typed as returning a Result; for DML it is a CursorResult."""
    return cast("CursorResult[Any]", result).rowcount
