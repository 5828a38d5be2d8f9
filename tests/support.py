"""Helpers shared by the tests: seeding a database, API clients, and a driver that walks cases through
the real pathways with valid answers for each real form."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select

from carepath.engine import inbox, people
from carepath.engine.form_samples import valid_sample
from carepath.engine.models import ROLES, HumanTask, User, UserRole
from carepath.engine.people import hash_password


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    return hash_password("demo")


def seed(cp) -> None:
    """Publish the shipped library and add one user per role (username = role, password `demo`)."""
    cp.sync_library()
    now = cp.clock.now()
    with cp.db.begin() as session:
        for role in ROLES:
            session.add(
                User(
                    username=role,
                    display_name=role,
                    password_hash=_demo_hash(),
                    active=True,
                    created_at=now,
                    roles=[UserRole(role=role)],
                )
            )
    cp.close()


def actors_of(cp) -> dict:
    with cp.db() as session:
        users = session.scalars(select(User).where(User.username.in_(ROLES))).all()
        return {u.username: people.actor_of(u, "api") for u in users}


class ApiClient:
    """The JSON API through Flask's test client, with a bearer token per user."""

    def __init__(self, client, cp):
        self.client, self.cp = client, cp
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            with self.cp.db.begin() as session:
                self.tokens[username] = people.issue_token(session, username, self.cp.clock.now())
        return self.tokens[username]

    def call(
        self,
        method: str,
        path: str,
        user: str | None = None,
        body=None,
        raw: bytes | None = None,
        headers: dict | None = None,
    ):
        h = dict(headers or {})
        if user:
            h["Authorization"] = f"Bearer {self.token(user)}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        resp = self.client.open(path, method=method, data=data, headers=h)
        return resp.status_code, resp.get_json(silent=True)

    def get(self, path, user=None):
        return self.call("GET", path, user)

    def post(self, path, body=None, user=None):
        return self.call("POST", path, user, body if body is not None else {})


# The ordinary path through the pathways: eligible, consenting, negative screens, approvals given.
ROUTINE = {
    "eligibility": {"eligible": True},
    "consent": {"consent_to_services": True, "rights_explained": True},
    "asq": {"q1": False, "q2": False, "q3": False, "q4": False},
    "phq9": {f"item{i}": 0 for i in range(1, 10)},
    "gad7": {f"item{i}": 0 for i in range(1, 8)},
    "safety_plan": {"client_agrees": True},
    "assessment_signoff": {"approved": True},
}


class CaseDriver:
    """Walks cases through the engine as staff would: the open task, its real form, valid answers."""

    def __init__(self, cp, actors: dict):
        self.cp, self.actors = cp, actors

    def new_case(
        self,
        given: str = "Test",
        family: str = "Client",
        birth_date: str = "1990-05-17",
        case_manager: str | None = None,
    ) -> int:
        from carepath.engine import clients

        with self.cp.db.begin() as session:
            client = clients.create_client(
                session,
                self.actors["intake"],
                {
                    "given_name": given,
                    "family_name": family,
                    "birth_date": birth_date,
                    **({"case_manager": case_manager} if case_manager else {}),
                },
                self.cp.clock.now(),
            )
        return self.cp.start_case(self.actors["intake"], client["id"])["id"]

    def open_tasks(self, case_id: int) -> list[HumanTask]:
        with self.cp.db() as session:
            return list(
                session.scalars(
                    select(HumanTask)
                    .where(HumanTask.case_id == case_id, HumanTask.status == "open")
                    .order_by(HumanTask.created_at, HumanTask.id)
                )
            )

    def task(self, case_id: int, bpmn_id: str) -> HumanTask:
        found = [t for t in self.open_tasks(case_id) if t.bpmn_id == bpmn_id]
        assert len(found) == 1, f"expected one open {bpmn_id}, open: {[t.bpmn_id for t in self.open_tasks(case_id)]}"
        return found[0]

    def form_schema(self, task: HumanTask) -> dict:
        actor = self.actor_for(task)
        with self.cp.db.begin() as session:
            detail = inbox.read_task(session, self.cp.specs, actor, task.id, self.cp.clock.now())
        return detail["form"]["schema"]

    def actor_for(self, task: HumanTask):
        if task.assignee_id is not None:
            for actor in self.actors.values():
                if actor.id == task.assignee_id:
                    return actor
        return self.actors[task.role]

    def complete(self, task: HumanTask | tuple[int, str], answers: dict | None = None) -> list[int]:
        """Complete a task (or (case_id, bpmn_id)) with valid answers laid over routine ones."""
        if isinstance(task, tuple):
            task = self.task(*task)
        given = {**ROUTINE.get(task.form_id, {}), **(answers or {})}
        today = self.cp.clock.now().date()
        done = self.cp.complete_task(
            self.actor_for(task), task.id, lambda schema: valid_sample(schema, given, today=today)
        )
        return [t["id"] for t in done.next_tasks]

    def walk(
        self,
        case_id: int,
        until,
        answers: dict | None = None,
        max_steps: int = 60,
        skip: tuple[str, ...] = (),
        advance: timedelta | None = None,
    ) -> list[str]:
        """Complete the oldest open task until `until()` holds; returns the BPMN ids completed.

        `answers` maps form ids to answers; `skip` names pathways whose tasks are left open;
        `advance` moves the clock on before each task (to walk through time)."""
        done = []
        for _ in range(max_steps):
            if until():
                return done
            tasks = [t for t in self.open_tasks(case_id) if t.process_id not in skip]
            assert tasks, f"no open task and the goal was not reached; done {done}"
            task = tasks[0]
            if advance:
                self.cp.clock.advance(seconds=advance.total_seconds())
            self.complete(task, (answers or {}).get(task.form_id, {}))
            done.append(task.bpmn_id)
        raise AssertionError(f"goal not reached in {max_steps} steps; done {done}")

    def pathways(self, case_id: int) -> list[str]:
        with self.cp.db() as session:
            from carepath.engine.clients import case_row, case_view

            return [p["pathway"] for p in case_view(session, case_row(session, case_id))["pathways"]]

    def case(self, case_id: int) -> dict:
        with self.cp.db() as session:
            from carepath.engine.clients import case_row, case_view

            return case_view(session, case_row(session, case_id))
