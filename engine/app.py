"""`Carepath`: the engine assembled from settings, and its facade. The web app, the API, the CLI, the worker
and the tests all go through it.

Every public method is one unit of work: it opens a transaction, does one thing a person (or the worker)
asked for, and commits, or rolls everything back and raises one of the engine's errors (errors.py), which
the callers turn into answers at their own edge. Callers never open sessions themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, careteam, casefile, clients, export, inbox, incidents, library, people, signin
from .access import Actor
from .authoring.facade import AuthoringFacade
from .clock import Clock
from .day import DayFacade, task_extras
from .db import make_engine, make_sessionmaker, unit_of_work
from .errors import BadRequest, CaseAlreadyOpen, NotAuthenticated, PathwayFailed, PathwayInvalid
from .library import SpecCache, sync_library
from .models import User
from .paging import DEFAULT_LIMIT, Page
from .pathway_files import FileSet
from .quality.facade import QualityFacade
from .runtime import FormAnswers, Runtime
from .safety.checker import CheckReport
from .safety.gate import SafetyGate
from .settings import Settings
from .timers import retry_incident
from .views import CaseView, ClientView, EventView, TaskView

T = TypeVar("T")


@dataclass(frozen=True)
class Completion:
    """A completed task and the tasks its completion opened (for "next for this client")."""

    task: TaskView
    next_tasks: list[TaskView]


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    session_token: str  # what the browser's cookie carries (engine/signin.py)
    waited: float  # the account delay applied before the password was checked, in seconds


@dataclass(frozen=True)
class InboxPage:
    tasks: list[TaskView]
    counts: dict[str, dict[str, int]]
    assignees: dict[str, list[dict[str, Any]]]  # role -> people a supervisor may hand tasks to
    next_cursor: str | None = None  # the next page of the same list
    pathways: list[str] = field(default_factory=list)  # every published pathway, to filter by


@dataclass(frozen=True)
class TaskPage:
    task: dict[str, Any]
    context: dict[str, Any] | None  # the client's context beside the form, for those who read records
    people: list[dict[str, Any]]  # who a supervisor may hand the task to
    done: dict[str, Any] | None  # for a closed task: who completed it, when, and what they submitted
    extras: dict[str, Any] = field(default_factory=dict)  # draft, contacts, a required contact, the late task (day.py)


class Carepath(AuthoringFacade, QualityFacade, DayFacade):
    """One per process (or per test): a database connection pool, the spec cache and the runtime.

    The pathway library's authoring (drafts, review, publishing, roll back) is in authoring/facade.py; contacts,
    form drafts, the caseload, supervision of late work and client copies in day.py."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.engine = make_engine(settings.database_url)
        self.db = make_sessionmaker(self.engine)
        self.specs = SpecCache()
        self.runtime = Runtime(self.specs, settings.step_time_limit, settings.script_memory_mb)
        # Approving a draft and rolling back publish through the pathway checker (engine/safety/gate.py).
        self.safety_gate = SafetyGate(episodes=settings.approval_episodes)

    def _do(self, work: Callable[[Session, datetime], T], now: datetime | None = None) -> T:
        now = now or self.clock.now()
        try:
            with unit_of_work(self.db) as session:
                return work(session, now)
        except PathwayFailed as failed:
            # After the rollback, in a transaction of its own: an admin sees that (and where) a step failed.
            incidents.record(self.db, failed, now)
            raise

    def close(self) -> None:
        self.engine.dispose()

    # ---------- the pathway library ----------

    def library_files(self) -> FileSet:
        files, findings = FileSet.from_library(self.settings.workflows_dir, self.settings.forms_dir)
        if findings:
            raise PathwayInvalid(findings)
        return files

    def sync_library(self) -> list[Any]:
        """Publish the library folders as new versions where they changed. Returns the new versions."""
        return sync_library(self.db, self.library_files(), self.clock.now())

    def publish_files(
        self, files: FileSet, only: set[str], by: str, gate: SafetyGate, accept_risk: str | None = None
    ) -> tuple[list[tuple[str, int]], CheckReport]:
        """Publish the pathways in `only` from `files` once the safety gate passes: the check runs first, outside
        any transaction, then one transaction publishes and records it. Returns (pathway, version) for each,
        and the check's report. Raises PathwayInvalid, UnsafeLibrary, CarepathError (a reason too short)."""
        report = gate.check(files, only, accept_risk)

        def work(session: Session, now: datetime) -> list[tuple[str, int]]:
            rows = library.publish(session, library.build(files, only=only), now, origin="publish", by=by)
            gate.record(rows, report, accept_risk)
            return [(r.process_id, r.version) for r in rows]

        return self._do(work), report

    def pathway_versions(self) -> list[dict[str, Any]]:
        return self._do(lambda s, now: library.list_versions(s))

    # ---------- people ----------

    def sign_in(self, username: str, password: str, address: str = "unknown") -> SignedIn:
        """Check a password and start a session. Raises NotAuthenticated (same message whether the user exists
        or not) or TooManyAttempts (engine/signin.py: the attempt was not counted, the password not checked).

        Three short transactions, none held while the password is checked or the account delay is waited:
        count the attempt (rows locked, so parallel guesses queue), check, then settle and open the session."""
        username = (username or "").strip()[:64]
        address = (address or "unknown")[:100]
        limits = signin.Limits(
            self.settings.signin_max_failures,
            self.settings.signin_address_failures,
            self.settings.signin_window,
            self.settings.signin_account_delay_after,
            account_delay_max=self.settings.signin_account_delay_max,
        )
        delay = self._do(lambda s, now: signin.reserve(s, username, address, now, limits))
        if delay > 0:
            self.clock.sleep(delay)
        stored = self._do(
            lambda s, now: s.scalar(select(User.password_hash).where(User.username == username, User.active.is_(True)))
        )
        if not people.password_matches(stored, password or ""):
            raise NotAuthenticated("Wrong username or password.")

        def open_session(session: Session, now: datetime) -> SignedIn:
            signin.settle(session, username, address, now, self.settings.signin_window)
            user = people.user_named(session, username)
            if not user.active:
                raise NotAuthenticated("Wrong username or password.")
            if user.password_hash is not None and people.needs_rehash(user.password_hash):
                user.password_hash = people.hash_password(password)
            token = signin.start_session(session, user, now, self.settings.session_max_hours)
            return SignedIn(people.actor_of(user, "web"), token, delay)

        return self._do(open_session)

    def actor_for_session(self, token: str) -> Actor | None:
        """The person signed in with this session id, or None (ended, idle too long, expired, disabled)."""
        return self._do(lambda s, now: signin.actor_for_session(s, token, now, self.settings.session_idle_minutes))

    def sign_out(self, token: str) -> None:
        self._do(lambda s, now: signin.end_session(s, token, now))

    def actor_by_id(self, user_id: int, channel: str = "web") -> Actor | None:
        return self._do(lambda s, now: people.actor_by_id(s, user_id, channel))

    def actor_for_token(self, token: str) -> Actor:
        # Every API request starts here: one statement of columns, on a plain connection in a transaction of its
        # own (an ORM session would cost more to set up than the check itself).
        with self.engine.begin() as connection:
            return people.actor_for_token(connection, token, self.clock.now())

    def add_user(self, username: str, roles: list[str], password: str | None, display_name: str = "") -> None:
        self._do(lambda s, now: people.add_user(s, username, roles, password, now, display_name))

    def issue_token(self, username: str, days: float | None = None) -> tuple[int, str]:
        """A new API token (id, token) lasting `days` (default CAREPATH_TOKEN_DAYS)."""
        return self._do(lambda s, now: people.new_token(s, username, now, days or self.settings.token_days))

    def list_tokens(self, username: str) -> list[dict[str, Any]]:
        return self._do(lambda s, now: people.list_tokens(s, username, now))

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        return self._do(lambda s, now: people.revoke_token(s, token_id, now))

    def set_user_active(self, username: str, active: bool) -> dict[str, Any]:
        """Disable (ending every session and token of the user at once) or enable an account."""
        return self._do(lambda s, now: people.set_active(s, username, active, now))

    def users_by_role(self, roles: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return self._do(lambda s, now: people.users_by_role(s, roles))

    # ---------- clients and cases ----------

    def register_client(self, actor: Actor, data: Any) -> ClientView:
        return self._do(lambda s, now: clients.create_client(s, actor, data, now))

    def update_client(self, actor: Actor, client_id: int, data: Any) -> ClientView:
        return self._do(lambda s, now: clients.update_client(s, actor, client_id, data, now))

    def read_client(self, actor: Actor, client_id: int) -> ClientView:
        return self._do(lambda s, now: clients.read_client(s, actor, client_id, now))

    def break_glass(self, actor: Actor, client_id: int, reason: str) -> dict[str, Any]:
        """Open a client's record to someone outside the care team for 12 hours (audited, reviewed).
        Raises NotFound, NotAllowed, InvalidFormData (a reason under 10 characters)."""

        def work(session: Session, now: datetime) -> dict[str, Any]:
            client = clients.client_row(session, client_id)
            return careteam.break_glass(session, actor, client.id, reason, now)

        return self._do(work)

    def break_glass_log(self, actor: Actor) -> list[dict[str, Any]]:
        """Recent break-the-glass accesses (supervisors, quality). Raises NotAllowed."""
        return self._do(lambda s, now: careteam.break_glass_log(s, actor, now))

    def search_clients(
        self, actor: Actor, query: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ClientView]:
        """One page of the clients matching `query` that the person may open. Raises NotAllowed, BadRequest."""
        return self._do(lambda s, now: clients.search_clients(s, actor, query, now, limit, cursor))

    def start_case(
        self, actor: Actor, client_id: int, now: datetime | None = None, unless_open: bool = False
    ) -> CaseView:
        """Open a case and start intake. With `unless_open`, a client who already has an open case gets
        CaseAlreadyOpen instead (the staff page's rule; the API allows several).
        Raises NotAllowed, NotFound, CaseAlreadyOpen, PathwayFailed."""

        def work(session: Session, now: datetime) -> CaseView:
            if unless_open:
                # Who may open a case first, so that "already open" tells nothing to someone who may not.
                careteam.require_client(session, actor, clients.client_row(session, client_id).id, now, write=True)
                if clients.has_open_case(session, client_id):
                    raise CaseAlreadyOpen("This client already has an open case.")
            return clients.case_view(session, self.runtime.start_case(session, now, actor, client_id))

        return self._do(work, now)

    def read_case(self, actor: Actor, case_id: int) -> CaseView:
        return self._do(lambda s, now: clients.read_case(s, actor, case_id, now))

    def read_case_events(
        self, actor: Actor, case_id: int, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[EventView]:
        """One page of a case's event log, oldest first. Raises NotFound, NotAllowed, NotOnCareTeam, BadRequest."""
        return self._do(lambda s, now: clients.read_case_events(s, actor, case_id, now, limit, cursor))

    def read_case_file(self, actor: Actor, case_id: int, everything: bool = False) -> dict[str, Any]:
        """The case file page (`everything`: engine steps in the timeline too), with the case's adherence."""
        return self._do(lambda s, now: casefile.read_case_file(s, self.specs, actor, case_id, now, everything))

    def send_message(self, actor: Actor, case_id: int, name: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        """A person sends a message into a case (the API, "Report a crisis"): only the messages people may send,
        by whom each names, with a valid payload (engine/messages.py). Returns who received it.
        Raises NotFound, NotAllowed, NotOnCareTeam, InvalidFormData, TaskNotOpen (closed case)."""
        return self._do(
            lambda s, now: self.runtime.deliver_message(s, now, actor, case_id, name, payload, from_person=True)
        )

    def deliver_message(
        self, actor: Actor | None, case_id: int, name: str, payload: dict[str, Any] | None, now: datetime | None = None
    ) -> dict[str, Any]:
        """The engine delivers a message into a case, any message (hand-overs, the demo's walk, tests driving
        pathways), naming `actor` in the event log. Never for what people send: that is `send_message`."""
        return self._do(lambda s, now: self.runtime.deliver_message(s, now, actor, case_id, name, payload), now)

    # ---------- tasks ----------

    def list_tasks(self, actor: Actor, **filters: Any) -> Page[TaskView]:
        """One page of the open tasks the person may see: filters, `q`, `sort`, `limit`, `cursor` as in
        inbox.list_tasks. Raises BadRequest (a cursor not made here)."""
        return self._do(lambda s, now: inbox.list_tasks(s, actor, now, **filters))

    def inbox_page(self, actor: Actor, view: str, team_lead: bool, **filters: Any) -> InboxPage:
        """The inbox: one page of a view (filtered, searched, sorted and paged as in list_tasks), the counts on
        the tabs, the pathways to filter by and, for supervisors, who each task may be handed to."""

        def work(session: Session, now: datetime) -> InboxPage:
            tasks = inbox.list_tasks(session, actor, now, view=view, **filters)
            assignees = people.users_by_role(session, {t["role"] for t in tasks.items}) if team_lead else {}
            return InboxPage(
                tasks.items,
                inbox.task_counts(session, actor, now),
                assignees,
                tasks.next_cursor,
                library.pathway_ids(session),
            )

        return self._do(work)

    def read_task(self, actor: Actor, task_id: int) -> dict[str, Any]:
        return self._do(lambda s, now: inbox.read_task(s, self.specs, actor, task_id, now))

    def task_page(self, actor: Actor, task_id: int, team_lead: bool, after_conflict: bool = False) -> TaskPage:
        """The task (an audited read), the client's context and, for a closed task, what was submitted.
        `after_conflict`: the page shown again to someone whose submission lost the race (inbox.read_task)."""

        def work(session: Session, now: datetime) -> TaskPage:
            task = inbox.read_task(session, self.specs, actor, task_id, now, after_conflict)
            done = (inbox.completion_of(session, task_id) or {}) if task["status"] != "open" else None
            if task["bare"]:
                return TaskPage(task, None, [], {**(done or {}), "data": None})
            return TaskPage(
                task,
                casefile.task_context(session, self.specs, actor, task["case_id"], now),
                people.users_by_role(session, [task["role"]]).get(task["role"], []) if team_lead else [],
                done,
                task_extras(session, actor, task, now),
            )

        return self._do(work)

    def claim(self, actor: Actor, task_id: int) -> TaskView:
        return self._do(lambda s, now: inbox.claim(s, actor, task_id, now))

    def release(self, actor: Actor, task_id: int) -> TaskView:
        return self._do(lambda s, now: inbox.release(s, actor, task_id, now))

    def assign(self, actor: Actor, task_id: int, username: str | None) -> TaskView:
        return self._do(lambda s, now: inbox.assign(s, actor, task_id, username, now))

    def take_next_task(self, actor: Actor) -> TaskView | None:
        """The most urgent task the person may do: theirs, else the team queue's (claimed for them)."""
        return self._do(lambda s, now: inbox.take_next(s, actor, now))

    def complete_task(self, actor: Actor, task_id: int, data: FormAnswers, now: datetime | None = None) -> Completion:
        """Complete a task with the form's answers (or a function from the form's schema to them), in one
        transaction. Raises NotFound, TaskNotOpen, NotAllowed, InvalidFormData, StaleInstance, PathwayFailed."""

        def work(session: Session, now: datetime) -> Completion:
            opened = self.runtime.complete_task(session, now, actor, task_id, data)
            # One query for the completed task and those it opened (by id, as before).
            views = inbox.tasks_by_id(session, [task_id, *(t.id for t in opened)], now)
            return Completion(next(v for v in views if v["id"] == task_id), [v for v in views if v["id"] != task_id])

        return self._do(work, now)

    def fire_timers(self, instance_id: int, now: datetime) -> None:
        """Fire an instance's timers due at `now` (the worker's job, for the demo and tests)."""
        self._do(lambda s, now: self.runtime.fire_timers(s, now, instance_id), now)

    # ---------- administration and exports ----------

    def incidents(self, actor: Actor) -> list[dict[str, Any]]:
        """Timer jobs that kept failing (source `timer_job`) and pathway steps that failed (source `step`)."""
        actor.require({"admin"}, "see incidents")
        return self._do(lambda s, now: incidents.list_all(s))

    def retry_incident(self, actor: Actor, job_id: int) -> dict[str, Any]:
        actor.require({"admin"}, "retry worker incidents")
        return self._do(lambda s, now: retry_incident(s, job_id))

    def export_events(
        self,
        fmt: str,
        out: IO[str],
        by: Actor | None = None,
        who: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
    ) -> None:
        """Write the event log (optionally the events with `since <= at < before`) as CSV or XES to `out`, a chunk
        at a time. The export is audited: who (`by`, or `who` for the operating-system user of a CLI export) and
        what (format, where to, the window, how many events, cases, clients)."""

        def work(session: Session, now: datetime) -> None:
            audit.record(
                session,
                by,
                "export",
                "events",
                f"events.{fmt}",
                None,
                now,
                username=who,
                detail={
                    "format": fmt,
                    "output": target or "stdout",
                    **_window(since, before),
                    **export.extent(session, since, before),
                },
            )
            for chunk in export.chunks(session, fmt, since, before):
                out.write(chunk)

        self._do(work)

    def stream_events(self, actor: Actor, fmt: str, since: datetime | None, before: datetime | None) -> Iterator[str]:
        """The event log for a download, as text chunks read while they are sent (constant memory). Quality staff
        and supervisors. The export is audited before the first byte leaves, in its own transaction, so a download
        broken off half way is still on record. Raises NotAllowed, BadRequest (a format other than csv or xes)."""
        actor.require({"quality", "supervisor"}, "export the event log")
        if fmt not in export.FORMATS:
            raise BadRequest("The export format is csv or xes.")

        def record(session: Session, now: datetime) -> None:
            audit.record(
                session,
                actor,
                "export",
                "events",
                f"events.{fmt}",
                None,
                now,
                detail={
                    "format": fmt,
                    "output": "download",
                    **_window(since, before),
                    **export.extent(session, since, before),
                },
            )

        self._do(record)

        def chunks() -> Iterator[str]:
            with unit_of_work(self.db) as session:
                yield from export.chunks(session, fmt, since, before)

        return chunks()


def _window(since: datetime | None, before: datetime | None) -> dict[str, str]:
    """An export's time window, for its audit entry."""
    return {k: v.isoformat() for k, v in (("since", since), ("before", before)) if v is not None}
