"""The states and kinds the engine writes to its tables. They are `StrEnum`s, so a value compares equal to
the plain text stored in the database and shown in the API (`TaskStatus.OPEN == "open"`)."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class InstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class JobKind(StrEnum):
    BPMN_TIMER = "bpmn_timer"  # fire an instance's due BPMN timers
    TASK_OVERDUE = "task_overdue"  # tell the case that a human task passed its due time


class JobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    INCIDENT = "incident"  # failed too often: an admin looks and retries
    DROPPED = "dropped"  # no longer needed (the task closed, the timer moved)


class Lifecycle(StrEnum):
    """What an event-log row records (the export's `lifecycle` column)."""

    READY = "ready"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMER_FIRED = "timer_fired"
    MESSAGE = "message"


class ContactModality(StrEnum):
    """How a contact with or about a client took place (billing codes map from these)."""

    PHONE = "phone"
    VIDEO = "video"
    HOME_VISIT = "home_visit"
    OFFICE = "office"
    COLLATERAL = "collateral"  # with family, a school, a landlord, another provider: about the client
    NO_SHOW = "no_show"  # attempted: the client was not there or did not answer
