"""The pathway checker: runs a pathway library on the real engine over many seeded random episodes and checks
every safety invariant after each one.

Each episode is one case on a fresh in-memory SQLite database with the library published, the real Runtime
and the real Worker, and a FixedClock that only moves when the episode moves it. At each turn the episode
completes an open task with random valid answers for its form (engine/safety/formgen.py), reports a crisis
or asks for a discharge through the same door staff use, or moves time and lets the worker fire what is
due. Everything is drawn from `random.Random(seed, episode)`, so a seed replays the same episodes. A
violation is shrunk to a short reproduction: the shortest prefix of the episode that still breaks the
promise, then with every step left out that is not needed for it.
"""

from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .. import clients, library, people
from ..access import Actor
from ..clock import FixedClock
from ..db import unit_of_work
from ..errors import CarepathError
from ..library import BuiltPathway, SpecCache
from ..models import ROLES, Base, Case, HumanTask, PathwayInstance, TimerJob, User, UserRole
from ..pathway_files import FileSet
from ..runtime import Runtime
from ..spiff import load_spec
from ..timers import Worker
from .case_work import RISK_EVENT
from .episode import load_episode
from .formgen import random_answers
from .invariants import INVARIANTS, STEP_FAILED, check_episode

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
STEPS = [
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=8),
    timedelta(days=31),
]
STATEMENTS = {inv.id: inv.statement for inv in (*INVARIANTS, STEP_FAILED)}
# One step of an episode. Replays and shrinking slice and rebuild lists of them.
# ("task", pathway, bpmn_id, which of the open tasks of that element, answers, title, role)
TaskAction = tuple[Literal["task"], str, str, int, dict[str, Any], str, str]
MessageAction = tuple[Literal["message"], str, dict[str, Any]]  # ("message", name, payload)
TimeAction = tuple[Literal["time"], timedelta]  # ("time", how far to move the clock)
Action = TaskAction | MessageAction | TimeAction


@dataclass
class Violation:
    invariant: str
    message: str
    episode: int
    reproduction: list[str]

    def __str__(self) -> str:
        lines = [
            f"VIOLATION {self.invariant}: {STATEMENTS.get(self.invariant, '')}",
            f"  what happened: {self.message}",
            f"  reproduction (episode {self.episode}):",
        ]
        return "\n".join(lines + [f"    {i + 1}. {step}" for i, step in enumerate(self.reproduction)])


@dataclass
class CheckReport:
    episodes: int = 0
    tasks_completed: int = 0
    paths: set[tuple[str, ...]] = field(default_factory=set)
    elements_reached: set[tuple[str, str]] = field(default_factory=set)
    elements_total: int = 0
    seconds: float = 0.0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        return (
            f"{self.episodes} episodes, {self.tasks_completed} tasks completed, {len(self.paths)} distinct paths, "
            f"{len(self.elements_reached)}/{self.elements_total} pathway elements reached, "
            f"{len(self.violations)} violation(s), {self.seconds:.1f} s"
        )

    def text(self) -> str:
        return "\n\n".join([*(str(v) for v in self.violations), self.summary()])


class _Carepath:
    """What Worker needs of a Carepath: a session factory, the runtime and the clock."""

    def __init__(self, db: sessionmaker[Session], runtime: Runtime, clock: FixedClock) -> None:
        self.db, self.runtime, self.clock = db, runtime, clock


class _Library:
    """The library under check: its built pathways, their loaded specs, and a blank database with the library
    published and one user per role, which each episode copies (SQLite's backup API) instead of building the
    schema and publishing again: that set-up was a sixth of a short episode."""

    def __init__(self, built: list[BuiltPathway]) -> None:
        self.built, self.specs = built, SpecCache()
        self.blank = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        Base.metadata.create_all(self.blank)
        with sessionmaker(self.blank).begin() as session:
            library.publish(session, built, START, origin="check", by="checker")
            for role in ROLES:
                session.add(
                    User(username=role, display_name=role, active=True, created_at=START, roles=[UserRole(role=role)])
                )

    def copy_into(self, engine: Engine) -> None:
        source, target = self.blank.raw_connection(), engine.raw_connection()
        try:
            source.driver_connection.backup(target.driver_connection)  # type: ignore[union-attr]
        finally:
            source.close()
            target.close()

    def close(self) -> None:
        self.blank.dispose()


class _World:
    """One episode's engine: an in-memory database with the library published and one user per role."""

    def __init__(self, lib: _Library, start: datetime) -> None:
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        lib.copy_into(engine)
        self.engine = engine
        self.db = sessionmaker(engine, expire_on_commit=False)
        self.clock = FixedClock(start)
        with self.db() as session:
            self.actors = {u.username: people.actor_of(u, "cli") for u in session.scalars(select(User))}
        self.runtime = Runtime(lib.specs, step_time_limit=10.0)
        self.worker = Worker(_Carepath(self.db, self.runtime, self.clock), worker_id="checker")
        with unit_of_work(self.db) as session:
            client = clients.create_client(
                session,
                self.actors["intake"],
                {"given_name": "Check", "family_name": "Episode", "birth_date": "1990-05-17"},
                start,
            )
            self.case_id = self.runtime.start_case(session, start, self.actors["intake"], client["id"]).id

    def complete_task(self, ht: HumanTask, data: dict[str, Any]) -> None:
        with unit_of_work(self.db) as session:
            self.runtime.complete_task(session, self.clock.now(), self.actor_for(ht), ht.id, data)

    def send(self, name: str, payload: dict[str, Any]) -> None:
        with unit_of_work(self.db) as session:
            self.runtime.deliver_message(
                session, self.clock.now(), self.actors["supervisor"], self.case_id, name, payload, from_person=True
            )

    def open_tasks(self) -> list[HumanTask]:
        with self.db() as session:
            return list(
                session.scalars(
                    select(HumanTask)
                    .where(HumanTask.case_id == self.case_id, HumanTask.status == "open")
                    .order_by(HumanTask.id)
                )
            )

    def case_open(self) -> bool:
        with self.db() as session:
            case = session.get(Case, self.case_id)
            if case is None:
                raise LookupError(f"the episode's case {self.case_id} is gone")
            return case.status == "open"

    def next_job(self) -> datetime | None:
        with self.db() as session:
            return session.scalar(
                select(TimerJob.due_at)
                .where(TimerJob.case_id == self.case_id, TimerJob.status == "pending")
                .order_by(TimerJob.due_at)
                .limit(1)
            )

    def schema_of(self, ht: HumanTask) -> dict[str, Any]:
        with self.db() as session:
            inst = session.get(PathwayInstance, ht.instance_id)
            if inst is None:
                raise LookupError(f"task {ht.id} belongs to no pathway instance")
            loaded = self.runtime.specs.get(inst.pathway_version)
        schema, _ = loaded.form(f"{ht.form_id}.schema.json") if ht.form_id else (None, None)
        return schema or {"type": "object"}

    def actor_for(self, ht: HumanTask) -> Actor:
        if ht.assignee_id is not None:
            for actor in self.actors.values():
                if actor.id == ht.assignee_id:
                    return actor
        return self.actors[ht.role]

    def close(self) -> None:
        self.engine.dispose()


def _describe(action: Action) -> str:
    if action[0] == "task":
        _, pathway, bpmn_id, nth, data, title, role = action
        return f"complete {pathway}/{bpmn_id} ({title}) as {role}: {json.dumps(data, sort_keys=True)}"
    if action[0] == "message":
        return f"send {action[1]} {json.dumps(action[2], sort_keys=True)}"
    return f"move time on {_span(action[1])} and run the worker"


def _span(delta: timedelta) -> str:
    days, hours = delta.days, delta.seconds // 3600
    return " ".join(x for x in (f"{days}d" if days else "", f"{hours}h" if hours else "") if x) or "0h"


class _Episode:
    """Plays (or replays) one episode and checks it."""

    def __init__(self, lib: _Library, start: datetime) -> None:
        self.world = _World(lib, start)
        self.done: list[Action] = []
        self.failures: list[str] = []
        self.tasks_completed = 0

    def apply(self, action: Action) -> bool:
        """Do one action; False when it cannot be done in this world (a replay with steps left out)."""
        w = self.world
        try:
            if action[0] == "task":
                _, pathway, bpmn_id, nth, data, _title, _role = action
                matches = [t for t in w.open_tasks() if t.process_id == pathway and t.bpmn_id == bpmn_id]
                if len(matches) <= nth:
                    return False
                ht = matches[nth]
                w.complete_task(ht, data)
                self.tasks_completed += 1
            elif action[0] == "message":
                if not w.case_open():
                    return False
                w.send(action[1], action[2])
            else:
                w.clock.advance(seconds=action[1].total_seconds())
                result = w.worker.sweep(w.clock.now())
                self.failures += [f"the worker could not fire a job: {e}" for e in result.errors]
        except CarepathError as exc:
            self.failures.append(f"{_describe(action)[:120]} failed: {exc.message}")
        self.done.append(action)
        return True

    def check(self) -> dict[str, list[str]]:
        with self.world.db() as session:
            found = check_episode(load_episode(session, self.world.case_id))
        if self.failures:
            found[STEP_FAILED.id] = list(self.failures)
        return found


def _choose(rng: random.Random, play: _Episode, counts: dict[str, Any]) -> Action | None:
    w = play.world
    tasks = w.open_tasks() if w.case_open() else []
    r = rng.random()
    if w.case_open() and r < 0.05 and counts["crisis"] < 2:
        counts["crisis"] += 1
        return ("message", "crisis_reported", {"reason": "Checker: crisis reported by staff", "source": "staff"})
    if w.case_open() and r < 0.08 and counts["discharge"] < 1:
        counts["discharge"] += 1
        return ("message", "discharge_requested", {"reason": "Checker: discharge requested", "source": "staff"})
    if tasks and r >= 0.28:
        ht = rng.choice(tasks)
        same = [t for t in tasks if t.process_id == ht.process_id and t.bpmn_id == ht.bpmn_id]
        data = random_answers(w.schema_of(ht), rng, w.clock.now().date())
        return ("task", ht.process_id, ht.bpmn_id, same.index(ht), data, ht.title, ht.role)
    if not tasks:
        due = w.next_job()
        if due is None or not w.case_open():
            return None
        return ("time", max(due - w.clock.now(), timedelta(0)) + timedelta(minutes=1))
    return ("time", rng.choice(STEPS))


def _episode_start(rng: random.Random) -> datetime:
    return START + timedelta(days=rng.randint(0, 6), hours=rng.choice([0, 3, 8]))


def _replay(lib: _Library, start: datetime, actions: list[Action]) -> tuple[_Episode, dict[str, list[str]]]:
    play = _Episode(lib, start)
    try:
        for action in actions:
            play.apply(action)
        return play, play.check()
    finally:
        play.world.close()


def _shrink(
    lib: _Library,
    start: datetime,
    actions: list[Action],
    invariant: str,
    budget: int = 40,
) -> list[Action]:
    """A short list of actions that still breaks `invariant`: the shortest prefix, then single steps left out."""

    def breaks(acts: list[Action]) -> tuple[bool, list[Action]]:
        play, found = _replay(lib, start, acts)
        return invariant in found, play.done

    low, high = 0, len(actions)
    while low < high and budget > 0:  # the shortest breaking prefix (violations do not heal)
        mid = (low + high) // 2
        budget -= 1
        if breaks(actions[:mid])[0]:
            high = mid
        else:
            low = mid + 1
    best = actions[:high]
    i = len(best) - 2
    while i >= 0 and budget > 0:  # leave out steps the violation does not need (the last one it does)
        budget -= 1
        ok, done = breaks(best[:i] + best[i + 1 :])
        if ok:
            best = done
        i -= 1
    return best


def check_library(
    files: FileSet, episodes: int = 200, seed: int = 0, max_actions: int = 40, shrink_budget: int = 30, first: int = 0
) -> CheckReport:
    """Run `episodes` random episodes of the library in `files` and check every invariant after each one.

    Deterministic for a given seed. Each violation's reproduction is shrunk with up to `shrink_budget` replays
    (0: the whole episode). Episodes are numbered from `first`, so one episode of a report can be replayed alone.
    Raises PathwayInvalid if the files do not build."""
    began = time.monotonic()
    built = library.build(files)
    lib = _Library(built)
    try:
        report = CheckReport()
        for p in built:
            spec, subs = load_spec(copy.deepcopy(p.spec))  # loading consumes the dict
            for s in [spec, *subs.values()]:
                report.elements_total += sum(
                    1
                    for ts in s.task_specs.values()
                    if getattr(ts, "bpmn_id", None) and not ts.name.endswith(".EndJoin")
                )
        seen: set[str] = set()
        for n in range(first, first + episodes):
            rng = random.Random(f"{seed}:{n}")
            start = _episode_start(rng)
            play = _Episode(lib, start)
            counts = {"crisis": 0, "discharge": 0}
            try:
                for _ in range(max_actions):
                    action = _choose(rng, play, counts)
                    if action is None:
                        break
                    play.apply(action)
                    if play.failures:
                        break
                found = play.check()
                with play.world.db() as session:
                    ep = load_episode(session, play.world.case_id)
            finally:
                play.world.close()
            report.episodes += 1
            report.tasks_completed += play.tasks_completed
            report.paths.add(
                tuple(
                    f"{a[1]}/{a[2]}" if a[0] == "task" else a[1] if a[0] == "message" else "."
                    for a in play.done
                    if a[0] != "time"
                )
            )
            report.elements_reached |= {
                (e.process_id, e.activity)
                for e in ep.events
                if e.process_id and e.lifecycle in ("ready", "completed", "timer_fired") and e.activity != RISK_EVENT
            }
            for invariant, messages in found.items():
                if invariant in seen:
                    continue  # one reproduction per invariant is enough to act on
                seen.add(invariant)
                steps = _shrink(lib, start, play.done, invariant, shrink_budget) if shrink_budget else play.done
                report.violations.append(Violation(invariant, messages[0], n, [_describe(a) for a in steps]))
    finally:
        lib.close()
    report.seconds = time.monotonic() - began
    return report
