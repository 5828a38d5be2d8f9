"""The tables of signing in and of access beyond the care team: API tokens, browser sessions, the sign-in
throttle and break-the-glass grants. Part of the one schema (engine/models.py imports them, so Base.metadata has
every table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .schema_base import Base


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the token is kept: a copy of the database does not hand out working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A signed-in browser. The cookie carries only a random id whose hash is kept here, so signing out,
    idling too long or disabling the account ends the session on the server: a copied cookie stops working."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end, however active the session is
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(16))  # signed_out | idle | expired | disabled


class SigninThrottle(Base):
    """Recent failed sign-ins per key (an address, an account at an address, an account), shared by every
    web worker and host. A row is locked while an attempt is counted, so parallel guesses queue."""

    __tablename__ = "signin_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(index=True)  # quiet keys are deleted (signin.settle)


class BreakGlass(Base):
    """Someone outside a client's care team opened the record, with a reason, for a limited time."""

    __tablename__ = "break_glass"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    __table_args__ = (Index("ix_break_glass_user", "user_id", "expires_at", "client_id"),)
