"""The pathway runtime: start a case, complete a task, deliver a message, fire timers.

Each operation is one unit of work (docs/architecture.md, "One step, one transaction"): load the instance rows
with their `version`, deserialize, re-attach the restricted script engine, act, run the engine, route
thrown messages to the case's other instances (same transaction), then write instances (guarded by
`version`), human tasks, message waits, timer jobs, scores and the event log, and commit. A failure
anywhere rolls all of it back.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import audit, contacts, drafts, forms, incidents, messages
from .access import MESSENGERS, REGISTRARS, Actor, is_record_id, may_work_task
from .careteam import require_client
from .clock import step_time
from .db import inserted
from .errors import BadRequest, ContactRequired, NotAllowed, NotFound, PathwayFailed, TaskNotOpen
from .library import SpecCache
from .models import Case, Client, FormSubmission, HumanTask, PathwayInstance, PathwayVersion, Score
from .projection import (
    EventLog,
    Live,
    OpenedTask,
    close_human_task,
    log_transitions,
    sync_human_tasks,
    sync_message_waits,
    sync_timer_job,
    task_properties,
    write_instance,
)
from .routing import MessageRouting
from .safety import case_work
from .sandbox import StepBudget, StepScriptEngine
from .scripting import begin_effects, end_effects
from .spiff import (
    BpmnWorkflow,
    TaskState,
    catch_message,
    dump_instance,
    find_task,
    load_instance,
    thrown_messages,
)
from .states import CaseStatus, InstanceStatus, Lifecycle, TaskStatus
from .step_reads import WITHOUT_VERSION_ROW, JobHold, held_running_instance, running_instance, task_target

log = logging.getLogger(__name__)

ENTRY_PATHWAY = "intake"
# A form's answers, or a function from the form's JSON Schema to them.
FormAnswers = dict[str, Any] | Callable[[dict[str, Any]], Any]
# A form's UI hint: completing its task needs a contact recorded from the task (e.g. a crisis follow-up).
REQUIRES_CONTACT = "x-requires-contact"
# The answers as submitted: written once and never changed by the step, so a Core insert (built once) rather
# than an object in the step's unit of work.
_RECORD_ANSWERS = insert(cast(Table, FormSubmission.__table__))
_TASKS = cast(Table, HumanTask.__table__)
_VERSIONS = cast(Table, PathwayVersion.__table__)
_CURRENT_VERSION = select(_VERSIONS.c.id).where(
    _VERSIONS.c.process_id == bindparam("process_id"), _VERSIONS.c.is_current.is_(True)
)
_NAME_LATE_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("review_id"))
    .values(about_task_id=bindparam("late_id"), title=bindparam("named"))
)


class _Step:
    """The state of one unit of work."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        case: Case,
        actor: Actor | None,
        limit: float,
        case_manager: tuple[int | None] | None = None,  # the client's case manager, when already read
    ):
        self.session, self.now, self.case, self.actor = session, now, case, actor
        self.live: dict[int, Live] = {}
        self.done_by: dict[UUID, str] = {}
        self.messages: deque[tuple[str, dict[str, Any]]] = deque()
        self.events = EventLog()  # written with the rest of the step in _finish
        self.close_reason: str | None = None
        self.budget = StepBudget(limit)  # the time all of the step's pathway code shares (sandbox.py)
        self.role: str | None = None  # the role of the task completed in this step: risk changes record it
        self.deliveries = 0
        self._case_manager = case_manager

    def case_manager_id(self) -> int | None:
        """The client's case manager (who gets case_manager tasks), read once per step if needed."""
        if self._case_manager is None:
            self._case_manager = (
                self.session.scalar(select(Client.case_manager_id).where(Client.id == self.case.client_id)),
            )
        return self._case_manager[0]


class Runtime(MessageRouting):
    """The pathway operations. Each runs inside a transaction its caller (the Carepath facade, the worker)
    opened with `db.unit_of_work`, and leaves everything it changed written to that session."""

    def __init__(self, specs: SpecCache, step_time_limit: float, script_memory_mb: int = 256):
        self.specs = specs
        self.step_time_limit, self.script_memory_mb = step_time_limit, script_memory_mb
        self.script_engine = StepScriptEngine(step_time_limit, script_memory_mb)

    def _step(
        self,
        session: Session,
        now: datetime,
        case: Case | None,
        actor: Actor | None,
        case_manager: tuple[int | None] | None = None,
    ) -> _Step:
        if case is None:  # every task, instance and job row points at its case (a foreign key)
            raise LookupError("a step needs its case")
        return _Step(session, now, case, actor, self.step_time_limit, case_manager)

    # ---------- operations ----------

    def start_case(self, session: Session, now: datetime, actor: Actor, client_id: int) -> Case:
        """Open a case for the client and start the intake pathway.

        Raises NotAllowed, NotFound (no such client), PathwayFailed (the intake pathway cannot start)."""
        actor.require(REGISTRARS, "open cases")
        # The client's id and case manager only (the step gives the case manager its tasks): loading the client
        # would also load the case manager and their roles.
        client = (
            session.execute(select(Client.id, Client.case_manager_id).where(Client.id == client_id)).first()
            if is_record_id(client_id)
            else None
        )
        if client is None:
            raise NotFound(f"No client {client_id}.")
        # Access (engine/careteam.py): a case is opened by someone who may change the client's record.
        require_client(session, actor, client.id, now, write=True)
        case = inserted(
            session,
            Case(
                client_id=client.id,
                status=CaseStatus.OPEN,
                risk_level=None,
                opened_at=now,
                closed_at=None,
                close_reason=None,
                opened_by=actor.id,
            ),
        )
        step = self._step(session, now, case, actor, (client.case_manager_id,))
        version = self._current_version_id(session, ENTRY_PATHWAY)
        if version is None:
            raise PathwayFailed(f"No '{ENTRY_PATHWAY}' pathway is published.")
        step.events.add(
            at=now,
            case_id=case.id,
            client_id=client.id,
            activity="case_opened",
            activity_name="Case opened",
            lifecycle=Lifecycle.COMPLETED,
            username=actor.username,
        )
        self._start_instance(step, version, None)
        self._route(step)
        self._finish(step)
        audit.record(session, actor, "create", "case", case.id, client.id, now)
        return case

    def complete_task(
        self, session: Session, now: datetime, actor: Actor, task_id: int, data: FormAnswers
    ) -> list[OpenedTask]:
        """Validate the answers against the task's form and complete it. Returns the tasks it opened.

        `data` is the answers, or a function from the form's schema to the answers (the web page parses
        its fields by the schema, read here in the same transaction).
        Raises NotFound, TaskNotOpen, NotAllowed, InvalidFormData, StaleInstance, PathwayFailed."""
        # Lock the task row first: a second person completing it waits here, then finds it done.
        target = task_target(session, task_id) if is_record_id(task_id) else None
        if target is None:
            raise NotFound(f"No task {task_id}.")
        ht = target.task
        if ht.status != TaskStatus.OPEN:
            raise TaskNotOpen(f"This task was already {ht.status}; nothing was changed.")
        if not may_work_task(actor, ht.role, ht.assignee_id):
            raise NotAllowed("This task belongs to someone else or to another role.")
        step = self._step(session, now, target.case, actor)
        step.role = ht.role
        live = self._load(step, ht.instance_id)
        task = find_task(live.wf, ht.spiff_task_id)
        if task is None or task.state != TaskState.READY:
            raise TaskNotOpen("This task is no longer open; nothing was changed.")
        form_file = task_properties(task).get("formJsonSchemaFilename")
        schema, ui = live.pathway.form(form_file) if form_file else ({"type": "object"}, None)
        schema = schema or {"type": "object"}
        if (ui or {}).get(REQUIRES_CONTACT) and not contacts.recorded_for_task(session, ht.id):
            raise ContactRequired(
                "This step needs a contact with the client: record the contact from this task "
                "(when, how long, how), then complete it."
            )
        answers = data(schema) if callable(data) else data
        forms.check(schema, answers)
        task.data[self.data_key(task)] = answers
        step.done_by[task.id] = actor.username
        self._engine(step, live, lambda: (task.run(), live.wf.do_engine_steps()))
        self._route(step)
        if ht.assignee_id is None:
            ht.assignee_id = actor.id
        close_human_task(session, ht, TaskStatus.COMPLETED, now, actor.id)
        live.ready.discard(ht.spiff_task_id)  # its row is closed here, with who completed it
        session.connection().execute(
            _RECORD_ANSWERS,
            {
                "human_task_id": ht.id,
                "case_id": ht.case_id,
                "form_id": ht.form_id or "",
                "data": answers,
                "submitted_by": actor.id,
                "submitted_at": now,
            },
        )
        opened = self._finish(step)
        drafts.discard(session, ht.id)  # the answers are in the record now; no copy is left behind
        audit.record(session, actor, "complete", "task", ht.id, ht.client_id, now)
        return opened

    def deliver_message(
        self,
        session: Session,
        now: datetime,
        actor: Actor | None,
        case_id: int,
        name: str,
        payload: dict[str, Any] | None,
        from_person: bool = False,
    ) -> dict[str, Any]:
        """Send a named message into a case: to its instances waiting for it, and to every pathway whose
        start event catches it. Returns what received it.

        `from_person`: a person sends it (the API, the staff pages): only what engine/messages.py allows them,
        checked here. Otherwise the engine sends it (hand-overs, the demo, tests), `actor` named in the log.
        Raises NotFound (case, or nothing receives the message), NotAllowed, NotOnCareTeam, InvalidFormData
        (the payload), TaskNotOpen (case closed)."""
        if not isinstance(name, str) or not name or len(name) > 100:
            raise BadRequest("A message needs a name.")
        case = session.get(Case, case_id) if is_record_id(case_id) else None
        if case is None:
            raise NotFound(f"No case {case_id}.")
        if from_person:
            # People: only the allow-listed messages, each by whom it names, with a payload of its shape.
            if actor is None:
                raise NotAllowed("A message from a person needs to say who sends it.")
            payload = messages.check_sender(session, actor, case, name, payload, now)
        elif actor is not None:
            actor.require(MESSENGERS, "send messages into a case")
        if payload is not None and not isinstance(payload, dict):
            raise BadRequest("A message payload must be a JSON object.")
        if actor is not None and name in case_work.ENGINE_ONLY:
            raise NotAllowed(f"The message {name!r} is sent by Carepath itself, not by people.")
        if case.status != CaseStatus.OPEN:
            raise TaskNotOpen("This case is closed.")
        step = self._step(session, now, case, actor)
        receivers = self._deliver(step, name, dict(payload or {}))
        if not receivers:
            raise NotFound(f"Nothing in this case waits for or starts on the message {name!r}.")
        self._route(step)
        self._finish(step)
        audit.record(session, actor, "message", "case", case.id, case.client_id, now)
        return {"message": name, "received_by": receivers}

    def fire_timers(self, session: Session, now: datetime, instance_id: int, job: JobHold | None = None) -> bool:
        """Fire the instance's timers that are due at `now` (the worker calls this, one job per call).

        `job`: the worker's job that brings the timer, marked done in this transaction if the worker still
        holds it. Returns False, having done nothing, when it does not."""
        if job is None:
            target = running_instance(session, instance_id)
        else:
            held, target = held_running_instance(session, instance_id, job, now)
            if not held:
                return False
        if target is None:
            return True
        step = self._step(session, now, target.case, None, (target.case_manager_id,))
        live = self._load(step, instance_id)
        live.force_timer_sync = True  # the job that brought us here is spent: always re-arm
        # SpiffWorkflow fires a timer strictly after its due time; the worker fires at-or-before.
        at = now + timedelta(microseconds=1)

        def fire() -> None:
            with step_time(at):
                live.wf.refresh_timers()
                live.wf.do_engine_steps()

        self._engine(step, live, fire)
        self._route(step)
        self._finish(step)
        return True

    def escalate_overdue(self, session: Session, now: datetime, human_task_id: int) -> None:
        """The task is past due: tell the case (message `task_overdue`), leaving the task with its owner."""
        ht = session.get(HumanTask, human_task_id)
        if ht is None or ht.status != TaskStatus.OPEN:
            return
        case = session.get(Case, ht.case_id)
        step = self._step(session, now, case, None)
        step.events.add(
            **ht.event_fields(), at=now, activity_name=f"{ht.title} (overdue)", lifecycle=Lifecycle.TIMER_FIRED
        )
        if step.case.status != CaseStatus.OPEN:
            step.events.write(session)
            return
        step.messages.append(
            (
                "task_overdue",
                {
                    "task_id": ht.id,
                    "task": ht.bpmn_id,
                    "title": ht.title,
                    "pathway": ht.process_id,
                    "role": ht.role,
                    "assignee": ht.assignee.username if ht.assignee else None,
                    "due_at": ht.due_at.isoformat() if ht.due_at else None,
                },
            )
        )
        self._route(step)
        for review in self._finish(step):
            # The review names the late task: its page links it, and inbox rows of several reviews differ.
            step.session.connection().execute(
                _NAME_LATE_TASK,
                {"review_id": review.id, "late_id": ht.id, "named": f"{review.title}: {ht.title}"[:200]},
            )

    # ---------- instances ----------

    @staticmethod
    def _current_version_id(session: Session, process_id: str) -> int | None:
        return session.connection().execute(_CURRENT_VERSION, {"process_id": process_id}).scalar()

    def _start_instance(self, step: _Step, version_id: int, message: tuple[str, dict[str, Any]] | None) -> Live:
        pathway = self.specs.by_id(step.session, version_id)
        wf = BpmnWorkflow(pathway.spec, pathway.subprocess_specs, script_engine=self.script_engine)
        row = inserted(
            step.session,
            PathwayInstance(
                case_id=step.case.id,
                pathway_version_id=version_id,
                process_id=pathway.process_id,
                status=InstanceStatus.RUNNING,
                state={},
                version=1,  # the optimistic lock's first version (write_instance moves it on)
                started_at=step.now,
                ended_at=None,
            ),
        )
        live = Live(row, wf, pathway, step.case.client_id, step.case_manager_id, states={})
        step.live[row.id] = live

        def begin() -> None:
            wf.do_engine_steps()
            if message is not None:
                catch_message(wf, *message)
                wf.do_engine_steps()

        self._engine(step, live, begin)
        return live

    def _load(self, step: _Step, instance_id: int) -> Live:
        if instance_id in step.live:
            return step.live[instance_id]
        row = step.session.get(PathwayInstance, instance_id, options=WITHOUT_VERSION_ROW)
        if row is None:
            raise NotFound(f"No pathway instance {instance_id}.")
        pathway = self.specs.by_id(step.session, row.pathway_version_id)
        wf = load_instance(row.state, pathway.spec, pathway.subprocess_specs)
        # Deserializing restores SpiffWorkflow's unsafe default environment: always put ours back.
        wf.script_engine = self.script_engine
        live = Live.loaded(row, wf, pathway, step.case.client_id, step.case_manager_id)
        step.live[instance_id] = live
        return live

    @staticmethod
    def data_key(task: Any) -> str:
        """Where a user task's form data goes in the task data: `dataKey`, else the form's id."""
        props = task_properties(task)
        if props.get("dataKey"):
            return str(props["dataKey"])
        form_file = str(props.get("formJsonSchemaFilename") or task.task_spec.bpmn_id)
        return form_file.removesuffix(".schema.json").removesuffix(".json")

    def _pathway_code(self, step: _Step, live: Live) -> AbstractContextManager[None]:
        """Where pathway code runs (engine steps; `dueIn` and instructions while projecting): under the
        step's deadline, any failure of it failing the step as a whole and saying where (incidents.py)."""
        return incidents.pathway_code(step, live, self.step_time_limit, self.script_memory_mb)

    def _engine(self, step: _Step, live: Live, action: Callable[[], object]) -> None:
        """Run SpiffWorkflow under the step's clock, deadline and effects; then log and collect messages."""
        effects, effects_token = begin_effects()
        effects.case_status = lambda: case_work.case_status(step)
        try:
            with self._pathway_code(step, live), step_time(step.now):
                action()
        finally:
            end_effects(effects_token)
        for instrument, total, severity in effects.scores:
            step.session.add(
                Score(
                    case_id=step.case.id,
                    instance_id=live.row.id,
                    instrument=instrument,
                    total=total,
                    severity=severity,
                    at=step.now,
                )
            )
        if effects.risk_level:
            # Logged, and a rise re-times waiting reviews (engine/safety/case_work.py).
            case_work.record_risk_level(step, live, effects.risk_level)
        if effects.close_reason:
            step.close_reason = effects.close_reason
        log_transitions(step.events, live, step.now, step.case.id, step.done_by)
        # The case's last safety work just ended: a closure waiting for it may go ahead.
        step.messages.extend(case_work.safety_work_messages(step, live))
        step.messages.extend(thrown_messages(live.wf))

    # ---------- writing the step ----------

    def _finish(self, step: _Step) -> list[OpenedTask]:
        """Write every instance the step touched, and its projections. Returns the human tasks opened."""
        if step.close_reason:
            self._close_case(step)
        opened: list[OpenedTask] = []
        # One flush at the end instead of one before every query: a step is a few statements, not dozens.
        with step.session.no_autoflush:
            for live in list(step.live.values()):
                if live.row.status == InstanceStatus.RUNNING and live.wf.is_completed():
                    live.row.status, live.row.ended_at = InstanceStatus.COMPLETED, step.now
                write_instance(step.session, live.row, dump_instance(live.wf))
                with self._pathway_code(step, live):  # evaluates `dueIn` and renders instructions
                    opened += sync_human_tasks(step.session, live, step.now, step.case.id)
                sync_message_waits(step.session, live, step.case.id)
                sync_timer_job(step.session, live, step.case.id, step.now)
        step.session.flush()
        step.events.write(step.session)
        return opened

    def _close_case(self, step: _Step) -> None:
        """Close the case and end every pathway instance of it still running."""
        step.case.status, step.case.closed_at, step.case.close_reason = CaseStatus.CLOSED, step.now, step.close_reason
        ending = case_work.open_tasks_of_case(step)
        running = step.session.scalars(
            select(PathwayInstance.id).where(
                PathwayInstance.case_id == step.case.id, PathwayInstance.status == InstanceStatus.RUNNING
            )
        ).all()
        for instance_id in running:
            live = self._load(step, instance_id)
            if live.wf.is_completed():
                continue
            self._engine(step, live, live.wf.cancel)
            live.row.status, live.row.ended_at = InstanceStatus.CANCELLED, step.now
        # Whoever held a task the closure ended is told in their inbox (the library's notice pathway).
        step.messages.extend(case_work.ended_work_messages(step, ending))
        self._route(step)
        step.events.add(
            at=step.now,
            case_id=step.case.id,
            client_id=step.case.client_id,
            activity="case_closed",
            activity_name="Case closed",
            lifecycle=Lifecycle.COMPLETED,
            username=step.actor.username if step.actor else None,
        )
