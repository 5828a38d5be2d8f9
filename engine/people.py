"""Staff accounts: users and roles, password checks with a slow-down after failures, and API tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .access import Actor
from .errors import BadRequest, NotAuthenticated, NotFound, TooManyAttempts
from .models import ROLES, ApiToken, SigninFailure, User, UserRole

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def password_matches(stored: str | None, password: str) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def actor_of(user: User, channel: str) -> Actor:
    return Actor(user.id, user.username, frozenset(user.role_names), channel)


def add_user(session: Session, username: str, roles: list[str], password: str | None, now: datetime,
             display_name: str = "") -> User:
    """Create a user. Raises BadRequest for an unknown role, a taken or malformed username."""
    username = (username or "").strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise BadRequest("A username is 1 to 64 letters, digits or . _ - @.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise BadRequest(f"Roles must be among {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}.")
    if session.scalar(select(User.id).where(User.username == username)):
        raise BadRequest(f"User {username!r} already exists.")
    user = User(username=username, display_name=display_name or username,
                password_hash=hash_password(password) if password else None, active=True, created_at=now,
                roles=[UserRole(role=r) for r in sorted(set(roles))])
    session.add(user)
    session.flush()
    return user


def actor_by_id(session: Session, user_id: int, channel: str = "web") -> Actor | None:
    """The active user with that id as an Actor, or None (a disabled account stops at once)."""
    user = session.get(User, user_id)
    return actor_of(user, channel) if user is not None and user.active else None


def users_by_role(session: Session, roles) -> dict[str, list[dict]]:
    """Active users holding each role: whom a supervisor may hand a task to, or a client to."""
    rows = session.execute(select(UserRole.role, User.username, User.display_name)
                           .join(User, User.id == UserRole.user_id)
                           .where(UserRole.role.in_(sorted(set(roles))), User.active.is_(True))
                           .order_by(User.display_name, User.username)).all()
    found: dict[str, list[dict]] = {}
    for role, username, display in rows:
        found.setdefault(role, []).append({"username": username, "name": display or username})
    return found


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def issue_token(session: Session, username: str, now: datetime) -> str:
    """A new API token for the user; only its hash is stored, so this is the one time it is seen."""
    user = user_named(session, username)
    token = "cp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=now, revoked=False))
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for_token(session: Session, token: str, now: datetime) -> Actor:
    """Raises NotAuthenticated for an unknown, revoked or inactive user's token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token or "")))
    if row is None or row.revoked:
        raise NotAuthenticated("The API token is not valid.")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("The API token is not valid.")
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # coarse, so that every request does not write
    return actor_of(user, "api")


def sign_in(session: Session, username: str, password: str, now: datetime, max_failures: int,
            window: int) -> Actor:
    """Check a password. Raises NotAuthenticated (same message whether the user exists or not), or
    TooManyAttempts while a slow-down after repeated failures is in force.

    Failures are kept in the database, so every web worker and host counts the same."""
    username = (username or "").strip()[:64]
    failures = session.scalars(select(SigninFailure.at).where(
        SigninFailure.username == username, SigninFailure.at > now - timedelta(seconds=window))
        .order_by(SigninFailure.at.desc())).all()
    wait = signin_delay(len(failures), max_failures)
    if wait and now - failures[0] < timedelta(seconds=wait):
        raise TooManyAttempts(f"Too many failed sign-ins. Wait {int(wait)} seconds and try again.")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not password_matches(user.password_hash, password or ""):
        session.add(SigninFailure(username=username, at=now))
        raise NotAuthenticated("Wrong username or password.")
    session.execute(delete(SigninFailure).where(SigninFailure.username == user.username))
    return actor_of(user, "web")


def signin_delay(failures: int, max_failures: int) -> float:
    """Seconds to wait after the last failure: none at first, then 30 s doubling up to 15 minutes."""
    if failures < max_failures:
        return 0.0
    return float(min(900, 30 * 2 ** (failures - max_failures)))
