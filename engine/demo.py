"""The demo agency: one user per role (username = role, password `demo`) and clients at different stages.

Loading is idempotent: users and clients that exist are left alone. Clients are walked through the real
pathways with the runtime (no shortcuts), starting a few days back so that some work is already due.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from . import clients, inbox, people
from .access import Actor
from .errors import NotFound
from .form_samples import valid_sample
from .models import ROLES, Client, HumanTask, PathwayInstance, User

DEMO_PASSWORD = "demo"
DISPLAY = {"intake": "Ida Intake", "case_manager": "Casey Manager", "clinician": "Dr. Cleo Clinician",
           "supervisor": "Sam Supervisor", "crisis": "Cris Crisis-Team", "quality": "Quinn Quality",
           "admin": "Ada Admin"}

# Realistic answers for the forms the demo walks through; anything not given is a routine sample.
ANSWERS = {
    "referral": {"source": "primary_care", "referrer_name": "Dr. Patel, Riverside Family Practice",
                 "reason": "Low mood for three months, stopped working, not sleeping.", "urgency": "routine"},
    "eligibility": {"eligible": True, "criteria_met": "Adult, lives in the service area, Medicaid."},
    "consent": {"consent_to_services": True, "rights_explained": True},
    "asq": {"q1": False, "q2": False, "q3": False, "q4": False},
    "phq9": {"item1": 2, "item2": 2, "item3": 1, "item4": 2, "item5": 1, "item6": 1, "item7": 1, "item8": 0,
             "item9": 0},
    "gad7": {"item1": 1, "item2": 1, "item3": 1, "item4": 1, "item5": 0, "item6": 1, "item7": 0},
}

CLIENTS = [
    # (given, family, birth date, language, days ago the case opened, how far to walk it)
    ("Maria", "Lopez", "1987-03-14", "Spanish", 2, "new referral"),
    ("James", "Carter", "1979-11-02", "English", 6, "in assessment"),
    ("Aisha", "Khan", "1995-06-21", "English", 4, "positive screen"),
    ("Tom", "Nguyen", "1968-01-30", "Vietnamese", 12, "assessed"),
    ("Rosa", "Diaz", "2001-09-09", "Spanish", 1, "crisis"),
]


def load(cp, now: datetime | None = None) -> dict:
    """Create what is missing of the demo agency. Returns counts of what was created."""
    now = now or cp.clock.now()
    created = {"users": 0, "clients": 0}
    with cp.db.begin() as session:
        for role in ROLES:
            if session.scalar(select(User.id).where(User.username == role)) is None:
                people.add_user(session, role, [role], DEMO_PASSWORD, now, display_name=DISPLAY[role])
                created["users"] += 1
    with cp.db() as session:
        actors = {r: people.actor_of(people.user_named(session, r), "cli") for r in ROLES}
    for given, family, born, language, days_ago, stage in CLIENTS:
        with cp.db() as session:
            exists = session.scalar(select(Client.id).where(Client.given_name == given, Client.family_name == family))
        if exists:
            continue
        start = now - timedelta(days=days_ago)
        with cp.db.begin() as session:
            client = clients.create_client(session, actors["intake"], {
                "given_name": given, "family_name": family, "birth_date": born, "preferred_language": language,
                "case_manager": "case_manager",
                "contacts": [{"name": f"{family} family", "relationship": "family", "may_contact": True}]}, start)
        case_id = cp.runtime.start_case(actors["intake"], client["id"], now=start)
        _walk(cp, actors, case_id, stage, start)
        created["clients"] += 1
    return created


def _pathways(cp, case_id: int) -> set[str]:
    with cp.db() as session:
        return set(session.scalars(select(PathwayInstance.process_id).where(PathwayInstance.case_id == case_id)))


def _walk(cp, actors: dict[str, Actor], case_id: int, stage: str, start: datetime) -> None:
    if stage == "new referral":
        return
    answers = dict(ANSWERS)
    if stage == "positive screen":
        answers["asq"] = {"q1": True, "q2": False, "q3": False, "q4": False, "q5": False}
    if stage == "crisis":
        answers["referral"] = {**ANSWERS["referral"], "urgency": "urgent",
                               "reason": "Family reports talk of not wanting to live."}
    goals: dict[str, Callable[[], bool]] = {
        "in assessment": lambda: "assessment" in _pathways(cp, case_id),
        "positive screen": lambda: "assessment" in _pathways(cp, case_id),
        "crisis": lambda: "assessment" in _pathways(cp, case_id),
        "assessed": lambda: "planning" in _pathways(cp, case_id) or _open(cp, case_id) == [],
    }
    at = start
    for _ in range(40):
        if goals[stage]():
            break
        tasks = [t for t in _open(cp, case_id) if t.process_id != "safety_planning"]
        if not tasks:
            break
        at += timedelta(hours=3)
        task = tasks[0]
        _complete(cp, actors, task, answers, at)
    if stage == "crisis":
        try:
            cp.runtime.deliver_message(actors["case_manager"], case_id, "crisis_reported",
                                       {"reason": "Client called saying they cannot keep themselves safe tonight."},
                                       now=at + timedelta(hours=1))
        except NotFound:
            pass  # an agency library without a crisis pathway: the client simply stays in assessment


def _open(cp, case_id: int) -> list[HumanTask]:
    with cp.db() as session:
        return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")
                                    .order_by(HumanTask.created_at, HumanTask.id)))


def _complete(cp, actors: dict[str, Actor], task: HumanTask, answers: dict, at: datetime) -> None:
    actor = actors[task.role] if task.role in actors else actors["case_manager"]
    with cp.db.begin() as session:
        detail = inbox.read_task(session, cp.specs, actor, task.id, at)
    schema = detail["form"]["schema"] or {"type": "object"}
    data = valid_sample(schema, answers.get(task.form_id, {}))
    cp.runtime.complete_task(actor, task.id, data, now=at)
