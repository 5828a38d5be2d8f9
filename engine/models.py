"""Database tables, as typed SQLAlchemy 2.0 models. Schema changes go through Alembic (engine/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .schema_base import Base as Base  # re-exported: every table shares its metadata
from .schema_base import UTCDateTime as UTCDateTime

ROLES = ("intake", "case_manager", "clinician", "supervisor", "crisis", "quality", "admin")


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


# ---------- clients and cases ----------


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    preferred_language: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    # Family members, caregivers and other contacts: [{"name", "relationship", "phone", "may_contact"}].
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who registered the client: on the care team from the start, so intake can go on with the referral.
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    case_manager: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[case_manager_id])
    # Name search (engine/names.py): a prefix of either name on both databases, and on PostgreSQL a trigram
    # GIN index on the lowercased full name (created by migration 0007_scale only, with pg_trgm).
    __table_args__ = (
        Index("ix_clients_sort_name", "family_name", "given_name", "id"),
        Index("ix_clients_family_lower", func.lower(literal_column("family_name"))),
        Index("ix_clients_given_lower", func.lower(literal_column("given_name"))),
        Index(
            "ix_clients_name_trgm",
            func.lower(literal_column("(given_name || ' ') || family_name")).label("full_name"),
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        # The duplicate warning at registration looks clients up by birth date (engine/duplicates.py).
        Index("ix_clients_birth_date", "birth_date"),
    )


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
    # The care-team rule asks "which clients' cases did this person open?" (engine/careteam.py).
    __table_args__ = (Index("ix_cases_opened_by", "opened_by", "client_id"),)


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
    spec: Mapped[dict[str, Any]] = mapped_column(deferred=True)  # serialized spec and subprocess specs
    sources: Mapped[dict[str, Any]] = mapped_column(deferred=True)  # file name -> text: BPMN, DMN and forms used
    start_messages: Mapped[list[Any]] = mapped_column(default=list)  # message names whose start event begins it
    published_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(String(64))
    # Why this version exists: the approved draft's summary, or the reason given for a roll back.
    reason: Mapped[str | None] = mapped_column(Text)
    # The draft it was approved from (None for the bundled library, the CLI and roll backs).
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("pathway_drafts.id", name="fk_pathway_versions_draft"))
    # Published although the pathway checker found a safety invariant broken: who accepted it, and why.
    accepted_risk: Mapped[str | None] = mapped_column(Text)
    # The checker's figures and findings at publish time (engine/safety/gate.py), None if it did not run.
    safety_check: Mapped[dict[str, Any] | None] = mapped_column(deferred=True)


class PathwayInstance(Base):
    """One SpiffWorkflow BpmnWorkflow run for one case, serialized without its spec."""

    __tablename__ = "pathway_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    pathway_version_id: Mapped[int] = mapped_column(ForeignKey("pathway_versions.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="running")  # states.InstanceStatus
    state: Mapped[dict[str, Any]]
    # Optimistic lock: every write says which version it read; a stale write is a conflict.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    pathway_version: Mapped[PathwayVersion] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": version}
    # Quality measures that start from one pathway's instances (engine/quality/episodes.py).
    __table_args__ = (Index("ix_pathway_instances_pathway", "process_id", "started_at"),)


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
    # A supervisor's overdue review names the late task it is about (set when the escalation opens it).
    about_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id", name="fk_human_tasks_about"))
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    __table_args__ = (
        # The lists of open tasks (engine/task_lists.py), each in its list's order; partial, so they hold the
        # open tasks only (a few percent of the table) and closed work costs them nothing.
        Index(
            "ix_human_tasks_open_mine",
            "assignee_id",
            "due_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_human_tasks_open_queue",
            "role",
            "due_at",
            "id",
            postgresql_where=text("status = 'open' AND assignee_id IS NULL"),
            sqlite_where=text("status = 'open' AND assignee_id IS NULL"),
        ),
        Index(
            "ix_human_tasks_open_due",
            "due_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_human_tasks_open_created",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_human_tasks_open_client",
            "client_id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_human_tasks_case", "case_id", "status"),
        Index("ix_human_tasks_instance", "instance_id", "status"),
        # The care team: whose clients a person holds or has done work for (engine/careteam.py).
        Index("ix_human_tasks_holder", "assignee_id", "status", "client_id"),
        Index("ix_human_tasks_done_by", "completed_by", "client_id"),
        # Quality measures that start from one pathway step's tasks (engine/quality/episodes.py).
        Index("ix_human_tasks_step", "process_id", "bpmn_id", "status"),
        # My caseload: next due work per client (engine/caseload.py).
        Index("ix_human_tasks_client_open", "client_id", "status", "due_at"),
    )

    def event_fields(self) -> dict[str, Any]:
        """The event-log columns that name this task and where it runs (an event about the task adds when, what
        happened and who)."""
        return {
            "case_id": self.case_id,
            "client_id": self.client_id,
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "activity": self.bpmn_id,
            "role": self.role,
            "human_task_id": self.id,
        }


class FormSubmission(Base):
    """What a person entered in a task's form: the case file (plans, assessments) reads these."""

    __tablename__ = "form_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    form_id: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
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
    # Depression remission (engine/quality/episodes.py): each case's scores of one instrument in time order.
    __table_args__ = (Index("ix_scores_instrument_case", "instrument", "case_id", "at", "total"),)


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
    case_id: Mapped[int | None]
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
    __table_args__ = (
        # A case's log in order, paged by (at, id).
        Index("ix_events_case_at", "case_id", "at", "id"),
        # A quality measure's index events: a few activities among millions of events.
        Index("ix_events_activity", "activity", "lifecycle", "at"),
        # The pathway heat map: one pathway's events in a period.
        Index("ix_events_pathway_at", "process_id", "at"),
    )


class AuditEntry(Base):
    """Who read or changed which client record, when. Append-only (database triggers refuse edits and, on
    PostgreSQL, TRUNCATE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    # read | create | update | complete | message | search | export | break_glass | review
    action: Mapped[str] = mapped_column(String(16))
    record_type: Mapped[str] = mapped_column(String(32))  # client | case | task | events | break_glass
    record_id: Mapped[str] = mapped_column(String(64))  # for a search: the SHA-256 of the query
    client_id: Mapped[int | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web | api | cli | system
    # What an export wrote (format, rows, cases, clients); never record contents.
    detail: Mapped[dict[str, Any] | None]


class StepIncident(Base):
    """A pathway step that failed (a script error, or a script stopped at the step's time or memory bound),
    for an admin to see. Ids, pathway, element and the kind of failure only: never the error's message or
    task data, which may quote a client's record. The same failure at the same place counts up one row."""

    __tablename__ = "step_incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    first_at: Mapped[datetime] = mapped_column(index=True)
    last_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(32))  # time_limit | memory_limit | … | script_error | pathway_error
    error_type: Mapped[str | None] = mapped_column(String(64))  # e.g. NameError: the exception's type, not its text
    process_id: Mapped[str | None] = mapped_column(String(100))
    pathway_version: Mapped[int | None]
    element: Mapped[str | None] = mapped_column(String(100))
    # No foreign keys on purpose: an incident must be recordable whatever the failed step left behind.
    case_id: Mapped[int | None] = mapped_column(index=True)
    instance_id: Mapped[int | None]
    username: Mapped[str | None] = mapped_column(String(64))


# ---------- tables kept in their own modules, imported here so Base.metadata has every table ----------
from .access_models import ApiToken, BreakGlass, SigninThrottle, UserSession  # noqa: E402,F401
from .authoring_models import PathwayDraft, PathwayDraftStep  # noqa: E402,F401
from .day_models import Contact, ContactVersion, DueDateChange, FormDraft  # noqa: E402,F401
