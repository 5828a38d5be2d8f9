"""The tables of pathway authoring: drafts of library changes and their review history. Part of the one
schema (engine/models.py imports them, so Base.metadata has every table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .schema_base import Base


class PathwayDraft(Base):
    """A proposed change to the library: the full file set of the pathways it touches, waiting for review.

    editing -> submitted -> published, or submitted -> returned (with a comment) -> submitted again;
    the author may withdraw it until it is published. authoring/drafts.py enforces the steps."""

    __tablename__ = "pathway_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")  # what changes and why: the versions' reason
    status: Mapped[str] = mapped_column(String(16), default="editing", index=True)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # file name -> text. Large: loaded only by the pages and steps that need it.
    files: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    pathways: Mapped[list[Any]] = mapped_column(default=list)  # the pathways it changes (computed on every save)
    base: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pathway -> current version when last saved
    findings: Mapped[list[Any]] = mapped_column(default=list)  # the last validation's findings (as dicts)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    published: Mapped[list[Any]] = mapped_column(default=list)  # [{"pathway", "version"}] once approved
    # The safety checker's last result for this draft, and the reason given to publish over a violation.
    safety: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    accepted_risk: Mapped[str | None] = mapped_column(Text)


class PathwayDraftStep(Base):
    """A draft's history as its people see it: saved, submitted, sent back (with the comment), approved."""

    __tablename__ = "pathway_draft_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("pathway_drafts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
