"""The pathway runtime: start a case, complete a task, deliver a message, fire timers.

Each operation is one unit of work (../DESIGN.md, "One step = one transaction"): load the instance rows
with their `version`, deserialize, re-attach the restricted script engine, act, run the engine, route
thrown messages to the case's other instances (same transaction), then write instances (guarded by
`version`), human tasks, message waits, timer jobs, scores and the event log, and commit. A failure
anywhere rolls all of it back.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from . import audit, forms
from .access import MESSENGERS, REGISTRARS, Actor, may_work_task
from .clock import Clock, step_time
from .errors import BadRequest, NotAllowed, NotFound, PathwayFailed, StaleInstance, TaskNotOpen
from .library import SpecCache
from .models import (Case, Client, Event, FormSubmission, HumanTask, MessageWait, PathwayInstance, PathwayVersion,
                     Score)
from .projection import (Live, close_human_task, find_task, log_transitions, message_waits, sync_human_tasks,
                         sync_message_waits, sync_timer_job, task_properties)
from .sandbox import StepScriptEngine, reset_step_deadline, set_step_deadline
from .scripting import SCRIPT_HELPERS, begin_effects, end_effects
from .serialization import dump_instance, load_instance
from .safety import case_work

log = logging.getLogger(__name__)

ENTRY_PATHWAY = "intake"
# Checks, inside a step's transaction, that the worker still owns its job, and marks it done.
JobGuard = Callable[[Session], bool]
# A message chain longer than this in one step is a loop between pathways, not care.
MAX_DELIVERIES_PER_STEP = 50


class _Step:
    """The state of one unit of work."""

    def __init__(self, session: Session, now: datetime, case: Case, actor: Actor | None, limit: float):
        self.session, self.now, self.case, self.actor = session, now, case, actor
        self.live: dict[int, Live] = {}
        self.done_by: dict[UUID, str] = {}
        self.messages: deque[tuple[str, dict]] = deque()
        self.close_reason: str | None = None
        self.role: str | None = None  # the role of the task completed in this step: risk changes record it
        self.deadline = time.monotonic() + limit
        self.deliveries = 0
        self._case_manager: tuple[int | None] | None = None

    def case_manager_id(self) -> int | None:
        """The client's case manager (who gets case_manager tasks), read once per step if needed."""
        if self._case_manager is None:
            self._case_manager = (self.session.scalar(select(Client.case_manager_id)
                                                      .where(Client.id == self.case.client_id)),)
        return self._case_manager[0]


class Runtime:
    def __init__(self, db: sessionmaker[Session], specs: SpecCache, clock: Clock, step_time_limit: float):
        self.db, self.specs, self.clock = db, specs, clock
        self.step_time_limit = step_time_limit
        self.script_engine = StepScriptEngine(SCRIPT_HELPERS, step_time_limit)

    # ---------- the unit of work ----------

    def _run(self, work: Callable[[Session, datetime], object], now: datetime | None = None):
        """Run `work` in one transaction; a lost optimistic-lock race becomes StaleInstance."""
        now = now or self.clock.now()
        try:
            with self.db.begin() as session:
                return work(session, now)
        except StaleDataError:
            raise StaleInstance("Someone else changed this pathway at the same moment; "
                                "nothing of yours was saved. Reload and try again.") from None
        except IntegrityError:
            # A unique row written by a simultaneous step (same task, same job): the other one won.
            raise StaleInstance("A simultaneous change got there first; nothing of yours was saved.") from None
        except OperationalError as exc:
            if "deadlock" in str(exc).lower() or "could not serialize" in str(exc).lower():
                raise StaleInstance("A simultaneous change got in the way; nothing was saved. Try again.") from None
            raise
        except StatementError as exc:
            if isinstance(exc.orig, (TypeError, ValueError)):
                # Task data that JSON cannot hold (a set, an object) written by a pathway script.
                raise PathwayFailed("A pathway script stored a value that cannot be saved (only text, numbers, "
                                    "true/false, lists and objects can be); nothing was saved.") from None
            raise

    def _step(self, session: Session, now: datetime, case: Case, actor: Actor | None) -> _Step:
        return _Step(session, now, case, actor, self.step_time_limit)

    # ---------- operations ----------

    def start_case(self, actor: Actor, client_id: int, now: datetime | None = None) -> int:
        """Open a case for the client and start the intake pathway. Returns the case id.

        Raises NotAllowed, NotFound (no such client), PathwayFailed (the intake pathway cannot start)."""
        actor.require(REGISTRARS, "open cases")

        def work(session, now):
            client = session.get(Client, client_id)
            if client is None:
                raise NotFound(f"No client {client_id}.")
            case = Case(client_id=client.id, status="open", opened_at=now, opened_by=actor.id)
            session.add(case)
            session.flush()
            step = self._step(session, now, case, actor)
            version = self._current_version(session, ENTRY_PATHWAY)
            if version is None:
                raise PathwayFailed(f"No '{ENTRY_PATHWAY}' pathway is published.")
            session.add(Event(at=now, case_id=case.id, client_id=client.id, activity="case_opened",
                              activity_name="Case opened", lifecycle="completed", username=actor.username))
            self._start_instance(step, version, None)
            self._finish(step)
            audit.record(session, actor, "create", "case", case.id, client.id, now)
            return case.id
        return self._run(work, now)

    def complete_task(self, actor: Actor, task_id: int, data, now: datetime | None = None) -> list[int]:
        """Validate `data` against the task's form and complete it. Returns the ids of tasks it opened.

        Raises NotFound, TaskNotOpen, NotAllowed, InvalidFormData, StaleInstance, PathwayFailed."""
        def work(session, now):
            # Lock the task row first: a second person completing it waits here, then finds it done.
            ht = session.get(HumanTask, task_id, with_for_update={"of": HumanTask})
            if ht is None:
                raise NotFound(f"No task {task_id}.")
            if ht.status != "open":
                raise TaskNotOpen(f"This task was already {ht.status}; nothing was changed.")
            if not may_work_task(actor, ht.role, ht.assignee_id):
                raise NotAllowed("This task belongs to someone else or to another role.")
            case = session.get(Case, ht.case_id)
            step = self._step(session, now, case, actor)
            step.role = ht.role
            live = self._load(step, ht.instance_id)
            task = find_task(live.wf, ht.spiff_task_id)
            if task is None or task.state != TaskState.READY:
                raise TaskNotOpen("This task is no longer open; nothing was changed.")
            form_file = task_properties(task).get("formJsonSchemaFilename")
            schema, _ui = live.pathway.form(form_file) if form_file else ({"type": "object"}, None)
            forms.check(schema, data)
            task.data[self.data_key(task)] = data
            step.done_by[task.id] = actor.username
            self._engine(step, live, lambda: (task.run(), live.wf.do_engine_steps()))
            if ht.assignee_id is None:
                ht.assignee_id = actor.id
            close_human_task(session, ht, "completed", now, actor.id)
            live.ready.discard(ht.spiff_task_id)  # its row is closed here, with who completed it
            session.add(FormSubmission(human_task_id=ht.id, case_id=ht.case_id, form_id=ht.form_id or "",
                                       data=data, submitted_by=actor.id, submitted_at=now))
            opened = self._finish(step)
            audit.record(session, actor, "complete", "task", ht.id, ht.client_id, now)
            return [row.id for row in opened]
        return self._run(work, now)

    def deliver_message(self, actor: Actor | None, case_id: int, name: str, payload: dict | None,
                        now: datetime | None = None) -> dict:
        """Send a named message into a case: to its instances waiting for it, and to every pathway whose
        start event catches it. Returns what received it.

        Raises NotFound (case, or nothing receives the message), NotAllowed, TaskNotOpen (case closed)."""
        if actor is not None:
            actor.require(MESSENGERS, "send messages into a case")
        if not isinstance(name, str) or not name or len(name) > 100:
            raise BadRequest("A message needs a name.")
        if payload is not None and not isinstance(payload, dict):
            raise BadRequest("A message payload must be a JSON object.")
        if actor is not None and name in case_work.ENGINE_ONLY:
            raise NotAllowed(f"The message {name!r} is sent by Carepath itself, not by people.")

        def work(session, now):
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"No case {case_id}.")
            if case.status != "open":
                raise TaskNotOpen("This case is closed.")
            step = self._step(session, now, case, actor)
            step.messages.append((name, dict(payload or {})))
            receivers = self._route(step)
            if not receivers:
                raise NotFound(f"Nothing in this case waits for or starts on the message {name!r}.")
            self._finish(step)
            audit.record(session, actor, "message", "case", case.id, case.client_id, now)
            return {"message": name, "received_by": receivers}
        return self._run(work, now)

    def fire_timers(self, instance_id: int, now: datetime, guard: JobGuard | None = None) -> None:
        """Fire the instance's timers that are due at `now` (the worker calls this, one job per call).

        `guard` runs first in the same transaction: it checks the worker still owns the job and marks
        it done, so the job and its effects commit together or not at all."""
        def work(session, now):
            if guard is not None and not guard(session):
                return
            row = session.get(PathwayInstance, instance_id)
            if row is None or row.status != "running":
                return
            case = session.get(Case, row.case_id)
            step = self._step(session, now, case, None)
            live = self._load(step, instance_id)
            live.force_timer_sync = True  # the job that brought us here is spent: always re-arm
            # SpiffWorkflow fires a timer strictly after its due time; the worker fires at-or-before.
            at = now + timedelta(microseconds=1)

            def fire():
                with step_time(at):
                    live.wf.refresh_timers()
                    live.wf.do_engine_steps()
            self._engine(step, live, fire)
            self._finish(step)
        self._run(work, now)

    def escalate_overdue(self, human_task_id: int, now: datetime, guard: JobGuard | None = None) -> None:
        """The task is past due: tell the case (message `task_overdue`), leaving the task with its owner."""
        def work(session, now):
            if guard is not None and not guard(session):
                return
            ht = session.get(HumanTask, human_task_id)
            if ht is None or ht.status != "open":
                return
            case = session.get(Case, ht.case_id)
            step = self._step(session, now, case, None)
            session.add(Event(at=now, case_id=ht.case_id, client_id=ht.client_id, instance_id=ht.instance_id,
                              process_id=ht.process_id, activity=ht.bpmn_id, activity_name=f"{ht.title} (overdue)",
                              lifecycle="timer_fired", role=ht.role, human_task_id=ht.id))
            if case.status != "open":
                return
            step.messages.append(("task_overdue", {
                "task_id": ht.id, "task": ht.bpmn_id, "title": ht.title, "pathway": ht.process_id,
                "role": ht.role, "assignee": ht.assignee.username if ht.assignee else None,
                "due_at": ht.due_at.isoformat() if ht.due_at else None}))
            self._route(step)
            self._finish(step)
        self._run(work, now)

    # ---------- instances ----------

    @staticmethod
    def _current_version(session: Session, process_id: str) -> PathwayVersion | None:
        return session.scalar(select(PathwayVersion).where(PathwayVersion.process_id == process_id,
                                                           PathwayVersion.is_current.is_(True)))


    def _start_instance(self, step: _Step, version: PathwayVersion, message: tuple[str, dict] | None) -> Live:
        pathway = self.specs.get(version)
        wf = BpmnWorkflow(pathway.spec, pathway.subprocess_specs, script_engine=self.script_engine)
        row = PathwayInstance(case_id=step.case.id, pathway_version_id=version.id, process_id=version.process_id,
                              status="running", state={}, started_at=step.now)
        step.session.add(row)
        step.session.flush()
        live = Live(row, wf, pathway, step.case.client_id, step.case_manager_id, states={})
        step.live[row.id] = live

        def begin():
            wf.do_engine_steps()
            if message is not None:
                wf.catch(BpmnEvent(MessageEventDefinition(message[0]), payload=message[1]))
                wf.do_engine_steps()
        self._engine(step, live, begin)
        return live

    def _load(self, step: _Step, instance_id: int) -> Live:
        if instance_id in step.live:
            return step.live[instance_id]
        row = step.session.get(PathwayInstance, instance_id)
        if row is None:
            raise NotFound(f"No pathway instance {instance_id}.")
        pathway = self.specs.get(row.pathway_version)
        wf = load_instance(row.state, pathway.spec, pathway.subprocess_specs)
        # Deserializing restores SpiffWorkflow's unsafe default environment: always put ours back.
        wf.script_engine = self.script_engine
        live = Live.loaded(row, wf, pathway, step.case.client_id, step.case_manager_id)
        step.live[instance_id] = live
        return live

    @staticmethod
    def data_key(task) -> str:
        """Where a user task's form data goes in the task data: `dataKey`, else the form's id."""
        props = task_properties(task)
        if props.get("dataKey"):
            return props["dataKey"]
        form_file = props.get("formJsonSchemaFilename") or task.task_spec.bpmn_id
        return form_file.removesuffix(".schema.json").removesuffix(".json")

    def _engine(self, step: _Step, live: Live, action: Callable[[], object]) -> None:
        """Run SpiffWorkflow under the step's clock, deadline and effects; then log and collect messages."""
        effects, effects_token = begin_effects()
        effects.case_status = lambda: case_work.case_status(step)
        deadline_token = set_step_deadline(step.deadline)
        try:
            with step_time(step.now):
                action()
        except Exception as exc:  # noqa: BLE001 - any failure inside the engine fails the step as a whole
            element = getattr(getattr(getattr(exc, "task", None), "task_spec", None), "bpmn_id", None)
            # Log the kind and the place, never the message: it may quote a client's data.
            log.warning("pathway step failed in %s at %s: %s", live.row.process_id, element, type(exc).__name__)
            where = f" at {element}" if element else ""
            raise PathwayFailed(f"The {live.row.process_id} pathway failed{where}: {exc}. Nothing was saved.") from exc
        finally:
            reset_step_deadline(deadline_token)
            end_effects(effects_token)
        for instrument, total, severity in effects.scores:
            step.session.add(Score(case_id=step.case.id, instance_id=live.row.id, instrument=instrument,
                                   total=total, severity=severity, at=step.now))
        if effects.risk_level:
            # Logged, and a rise re-times waiting reviews (engine/safety/case_work.py).
            case_work.record_risk_level(step, live, effects.risk_level)
        if effects.close_reason:
            step.close_reason = effects.close_reason
        log_transitions(step.session, live, step.now, step.case.id, step.done_by)
        # The case's last safety work just ended: a closure waiting for it may go ahead.
        step.messages.extend(case_work.safety_work_messages(step, live))
        for event in live.wf.get_events():
            if isinstance(event.event_definition, MessageEventDefinition):
                step.messages.append((event.event_definition.name, event.payload or {}))
        self._route(step)

    # ---------- messages ----------

    def _route(self, step: _Step) -> list[dict]:
        """Deliver queued messages within the case, in this transaction. Returns who received what."""
        received = []
        while step.messages:
            name, payload = step.messages.popleft()
            step.deliveries += 1
            if step.deliveries > MAX_DELIVERIES_PER_STEP:
                raise PathwayFailed(f"Message {name!r} keeps being passed between pathways (a loop); nothing was saved.")
            waiting = set(step.session.scalars(self._waiting_instances(step, name)).all())
            # Instances loaded in this step know better than the table, which is written at the end.
            for instance_id, live in step.live.items():
                if live.row.status == "running" and name in message_waits(live.wf):
                    waiting.add(instance_id)
                else:
                    waiting.discard(instance_id)
            for instance_id in sorted(waiting):
                live = self._load(step, instance_id)
                self._log_message(step, live, name)
                self._engine(step, live, lambda live=live: (
                    live.wf.catch(BpmnEvent(MessageEventDefinition(name), payload=payload)),
                    live.wf.do_engine_steps()))
                received.append({"instance_id": instance_id, "pathway": live.row.process_id, "started": False})
            starters = step.session.scalars(select(PathwayVersion).where(PathwayVersion.is_current.is_(True))).all()
            for version in starters:
                if name in (version.start_messages or []):
                    # A one-per-case pathway (joinOpenInstance) already open takes the trigger in: no second one.
                    joined = case_work.join_target(step, version, self.specs.get(version))
                    if joined is not None:
                        if joined not in waiting:
                            case_work.log_join(step, joined, version.process_id, name)
                        received.append({"instance_id": joined, "pathway": version.process_id, "started": False,
                                         "joined": True})
                        continue
                    live = self._start_instance(step, version, (name, payload))
                    self._log_message(step, live, name)
                    received.append({"instance_id": live.row.id, "pathway": version.process_id, "started": True})
        return received

    @staticmethod
    def _waiting_instances(step: _Step, name: str):
        return (select(MessageWait.instance_id).join(PathwayInstance, PathwayInstance.id == MessageWait.instance_id)
                .where(MessageWait.case_id == step.case.id, MessageWait.message_name == name,
                       PathwayInstance.status == "running"))

    @staticmethod
    def _log_message(step: _Step, live: Live, name: str) -> None:
        step.session.add(Event(at=step.now, case_id=step.case.id, client_id=live.client_id, instance_id=live.row.id,
                               process_id=live.row.process_id, pathway_version=live.pathway.version,
                               activity=name, activity_name=f"Message {name}", lifecycle="message",
                               username=step.actor.username if step.actor else None))

    # ---------- writing the step ----------

    def _finish(self, step: _Step) -> list[HumanTask]:
        """Write every instance the step touched, and its projections. Returns the human tasks opened."""
        if step.close_reason:
            self._close_case(step)
        opened: list[HumanTask] = []
        # One flush at the end instead of one before every query: a step is a few statements, not dozens.
        with step.session.no_autoflush:
            for live in list(step.live.values()):
                if live.row.status == "running" and live.wf.is_completed():
                    live.row.status, live.row.ended_at = "completed", step.now
                live.row.state = dump_instance(live.wf)
                opened += sync_human_tasks(step.session, live, step.now, step.case.id)
                sync_message_waits(step.session, live, step.case.id)
                sync_timer_job(step.session, live, step.case.id, step.now)
        step.session.flush()
        return opened

    def _close_case(self, step: _Step) -> None:
        """Close the case and end every pathway instance of it still running."""
        step.case.status, step.case.closed_at, step.case.close_reason = "closed", step.now, step.close_reason
        ending = case_work.open_tasks_of_case(step)
        running = step.session.scalars(select(PathwayInstance.id).where(
            PathwayInstance.case_id == step.case.id, PathwayInstance.status == "running")).all()
        for instance_id in running:
            live = self._load(step, instance_id)
            if live.wf.is_completed():
                continue
            self._engine(step, live, live.wf.cancel)
            live.row.status, live.row.ended_at = "cancelled", step.now
        # Whoever held a task the closure ended is told in their inbox (the library's notice pathway).
        step.messages.extend(case_work.ended_work_messages(step, ending))
        self._route(step)
        step.session.add(Event(at=step.now, case_id=step.case.id, client_id=step.case.client_id,
                               activity="case_closed", activity_name="Case closed", lifecycle="completed",
                               username=step.actor.username if step.actor else None))
