"""The tables of a case manager's day: contacts (with their amendment history), form drafts and due-date
changes. Part of the one schema (engine/models.py imports them, so Base.metadata has every table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .schema_base import Base


class Contact(Base):
    """A contact with or about a client (a call, a visit, a no-show): the billable unit of a case manager's day.
    Its author edits it for 24 hours, then amends it; each amendment keeps what it replaced (ContactVersion)."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]  # when the contact took place
    minutes: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(String(16))  # states.ContactModality
    with_whom: Mapped[str] = mapped_column(String(200), default="")
    goals: Mapped[list[Any]] = mapped_column(default=list)  # the plan goals this contact worked on (their text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    amended: Mapped[int] = mapped_column(Integer, default=0)  # how many amendments after the edit window
    __table_args__ = (
        Index("ix_contacts_case_at", "case_id", "at"),
        Index("ix_contacts_client_at", "client_id", "at"),
        Index("ix_contacts_author_at", "author_id", "at"),  # the billing export: one person's period
        Index("ix_contacts_task", "human_task_id"),
    )


class ContactVersion(Base):
    """What a contact said before an amendment, with who amended it, when and why."""

    __tablename__ = "contact_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    amended_at: Mapped[datetime]
    amended_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]]  # the contact's fields as they were


class FormDraft(Base):
    """Answers typed into a task's form, not yet submitted: one per task per person, gone on completion."""

    __tablename__ = "form_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("human_task_id", "user_id", name="uq_form_drafts_task_user"),)


class DueDateChange(Base):
    """A supervisor moved a task's due date (an agreed new date after it went overdue), and why."""

    __tablename__ = "due_date_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    changed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime]
    old_due_at: Mapped[datetime | None]
    new_due_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
