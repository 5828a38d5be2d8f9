"""A case's episode as the safety invariants read it: its event log and its state (tasks, answers, instances).

Read once, after (or during) an episode, from the projection tables only: events, human tasks, form
submissions, pathway instances and the case row. Never from instance blobs, so the same checks could run
over a production database's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Case, Event, FormSubmission, HumanTask, PathwayInstance, User


@dataclass
class Task:
    id: int
    instance_id: int
    pathway: str
    bpmn_id: str
    form_id: str | None
    role: str
    assignee: str | None
    status: str
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None


@dataclass
class Answer:
    task_id: int
    form_id: str
    data: dict[str, Any]
    at: datetime
    role: str
    instance_id: int
    event_id: int = 0  # the task's completion in the event log: order within one instant


@dataclass
class Instance:
    id: int
    pathway: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    started_by: str | None = None  # the message that started it, from the event log
    first_event: int = 0  # ids of its first and last events: order within one instant
    last_event: int = 0

    def running_at(self, at: datetime) -> bool:
        """Running at `at`: started at or before it, and not ended by then (an instance ending in the same
        step counts as ended)."""
        return self.started_at <= at and (self.ended_at is None or self.ended_at > at)

    def running_at_event(self, event_id: int, at: datetime) -> bool:
        """Running when event `event_id` (at `at`) happened: many things happen at one instant in one step,
        so the event log's order decides."""
        if self.started_at > at or (self.started_at == at and self.first_event > event_id):
            return False
        if self.ended_at is None or self.ended_at > at:
            return True
        return self.ended_at == at and self.last_event > event_id


@dataclass
class Episode:
    case_id: int
    status: str
    closed_at: datetime | None
    close_reason: str | None
    events: list[Event] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    instances: dict[int, Instance] = field(default_factory=dict)

    def answers_of(self, *form_ids: str) -> list[Answer]:
        return [a for a in self.answers if a.form_id in form_ids]

    def tasks_opened_at(self, at: datetime) -> list[Task]:
        return [t for t in self.tasks if t.created_at == at]

    def supervisor_decided(self, after: datetime | None = None, before: datetime | None = None) -> bool:
        """A supervisor's recorded decision about safety work: closing with it open, or a plan refusal."""
        for a in self.answers:
            if a.role != "supervisor":
                continue
            decided = (a.form_id == "closure_decision" and a.data.get("decision") == "close_now") or (
                a.form_id == "safety_plan_not_agreed" and a.data.get("decision") != "continue_planning"
            )
            if decided and (after is None or a.at >= after) and (before is None or a.at <= before):
                return True
        return False


def load_episode(session: Session, case_id: int) -> Episode:
    case = session.get(Case, case_id)
    if case is None:
        raise LookupError(f"there is no case {case_id}")
    ep = Episode(case.id, case.status, case.closed_at, case.close_reason)
    ep.events = list(session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.at, Event.id)))
    users: dict[int | None, str] = dict(session.execute(select(User.id, User.username)).all())
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)).all()
    ep.tasks = [
        Task(
            t.id,
            t.instance_id,
            t.process_id,
            t.bpmn_id,
            t.form_id,
            t.role,
            users.get(t.assignee_id),
            t.status,
            t.created_at,
            t.due_at,
            t.completed_at,
        )
        for t in rows
    ]
    by_id = {t.id: t for t in ep.tasks}
    for s in session.scalars(
        select(FormSubmission)
        .where(FormSubmission.case_id == case_id)
        .order_by(FormSubmission.submitted_at, FormSubmission.id)
    ):
        task = by_id.get(s.human_task_id)
        ep.answers.append(
            Answer(
                s.human_task_id,
                s.form_id,
                s.data or {},
                s.submitted_at,
                task.role if task else "",
                task.instance_id if task else 0,
            )
        )
    done_event: dict[tuple[int | None, str | None, datetime], int] = {
        (e.instance_id, e.activity, e.at): e.id for e in ep.events if e.lifecycle == "completed"
    }
    for a in ep.answers:
        task = by_id.get(a.task_id)
        a.event_id = done_event.get((a.instance_id, task.bpmn_id if task else None, a.at), 0)
    for i in session.scalars(
        select(PathwayInstance).where(PathwayInstance.case_id == case_id).order_by(PathwayInstance.id)
    ):
        ep.instances[i.id] = Instance(i.id, i.process_id, i.status, i.started_at, i.ended_at)
    for e in ep.events:
        inst = ep.instances.get(e.instance_id) if e.instance_id is not None else None
        if inst is None:
            continue
        inst.first_event = inst.first_event or e.id
        inst.last_event = e.id
        if e.lifecycle == "message" and inst.started_by is None and e.at == inst.started_at:
            inst.started_by = e.activity
    return ep
