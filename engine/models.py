"""Database tables, as typed SQLAlchemy 2.0 models. Schema changes go through Alembic (engine/migrations)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("intake", "case_manager", "clinician", "supervisor", "crisis", "quality", "admin")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so it is put back on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


# ---------- people ----------

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the token is kept: a copy of the database does not hand out working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SigninFailure(Base):
    """Failed sign-ins, kept in the database so that every web worker and host sees the same count."""
    __tablename__ = "signin_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]


# ---------- clients and cases ----------

class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    preferred_language: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    # Family members, caregivers and other contacts: [{"name", "relationship", "phone", "may_contact"}].
    contacts: Mapped[list] = mapped_column(default=list)
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    case_manager: Mapped[User | None] = relationship(lazy="joined")


class Case(Base):
    """An episode of care. It owns the pathway instances that run for it."""
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    risk_level: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(200))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# ---------- pathways ----------

class PathwayVersion(Base):
    """One published version of one pathway (BPMN process). The parsed spec is stored once, here."""
    __tablename__ = "pathway_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    # `library`: published from workflows/ at start-up; `publish`: published on purpose (CLI or upload).
    origin: Mapped[str] = mapped_column(String(16), default="library")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Large, and read once per process (library.SpecCache): never loaded with the row itself.
    spec: Mapped[dict] = mapped_column(deferred=True)  # serialized spec and subprocess specs
    sources: Mapped[dict] = mapped_column(deferred=True)  # file name -> text: BPMN, DMN and forms used
    start_messages: Mapped[list] = mapped_column(default=list)  # message names whose start event begins it
    published_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(String(64))
    # Published although the pathway checker found a safety invariant broken: who accepted it, and why.
    accepted_risk: Mapped[str | None] = mapped_column(Text)
    # The checker's figures and findings at publish time (engine/safety/gate.py), None if it did not run.
    safety_check: Mapped[dict | None] = mapped_column(deferred=True)


class PathwayInstance(Base):
    """One SpiffWorkflow BpmnWorkflow run for one case, serialized without its spec."""
    __tablename__ = "pathway_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    pathway_version_id: Mapped[int] = mapped_column(ForeignKey("pathway_versions.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | completed | cancelled | error
    state: Mapped[dict]
    # Optimistic lock: every write says which version it read; a stale write is a conflict.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    pathway_version: Mapped[PathwayVersion] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": version}


class MessageWait(Base):
    """A pathway instance waiting for a named message; routing reads this, never the instance blobs."""
    __tablename__ = "message_waits"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("pathway_instances.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(index=True)
    message_name: Mapped[str] = mapped_column(String(100))
    __table_args__ = (Index("ix_message_waits_case_message", "case_id", "message_name"),)


# ---------- work ----------

class HumanTask(Base):
    """A ready user task, projected out of its instance so inboxes never read the blobs."""
    __tablename__ = "human_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("pathway_instances.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form_id: Mapped[str | None] = mapped_column(String(100))
    # The task's instructions, rendered over its data when it opened (spiffworkflow:instructionsForEndUser).
    instructions: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    __table_args__ = (
        Index("ix_human_tasks_open_role", "status", "role", "due_at"),
        Index("ix_human_tasks_open_assignee", "status", "assignee_id", "due_at"),
        Index("ix_human_tasks_case", "case_id", "status"),
        Index("ix_human_tasks_instance", "instance_id", "status"),
    )


class FormSubmission(Base):
    """What a person entered in a task's form: the case file (plans, assessments) reads these."""
    __tablename__ = "form_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    form_id: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict]
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]
    __table_args__ = (Index("ix_form_submissions_case_form", "case_id", "form_id", "submitted_at"),)


class Score(Base):
    """An instrument score (PHQ-9, GAD-7, ASQ, AUDIT-C), recorded by the pathway's scoring script."""
    __tablename__ = "scores"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("pathway_instances.id"))
    instrument: Mapped[str] = mapped_column(String(32))
    total: Mapped[int | None]
    severity: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


# ---------- time ----------

class TimerJob(Base):
    """Something the worker must do at `due_at`: fire an instance's BPMN timers, or escalate an overdue task.

    Claimed with a lease (`locked_by`, `locked_until`) so a crashed worker's jobs are picked up again."""
    __tablename__ = "timer_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # bpmn_timer | task_overdue
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("pathway_instances.id", ondelete="CASCADE"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | incident | dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    fired_at: Mapped[datetime | None]
    human_task: Mapped[HumanTask | None] = relationship(lazy="raise")
    __table_args__ = (
        Index("ix_timer_jobs_due", "status", "due_at"),
        Index("ix_timer_jobs_instance", "instance_id", "kind", "status"),
        Index("ix_timer_jobs_human_task", "human_task_id", "status"),
    )


# ---------- records of what happened ----------

class Event(Base):
    """The event log: the single source for adherence measures and process-mining exports."""
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(index=True)
    client_id: Mapped[int | None]
    instance_id: Mapped[int | None]
    process_id: Mapped[str | None] = mapped_column(String(100))
    pathway_version: Mapped[int | None]
    activity: Mapped[str] = mapped_column(String(100))
    activity_name: Mapped[str] = mapped_column(String(200), default="")
    lifecycle: Mapped[str] = mapped_column(String(16))  # ready claimed completed cancelled timer_fired message
    role: Mapped[str | None] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64))
    human_task_id: Mapped[int | None]


class AuditEntry(Base):
    """Who read or changed which client record, when. Append-only (database triggers refuse edits)."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # read | create | update | complete | export
    record_type: Mapped[str] = mapped_column(String(32))  # client | case | task | events
    record_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web | api | cli
