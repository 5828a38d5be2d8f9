"""The demo agency: one user per role (username = role, password `demo`) and clients at different stages.

Loading is idempotent: users and clients that exist are left alone. Each client is walked through the real
pathways with the runtime (no shortcuts), starting some days back so that the inboxes look like a working
day: a new referral, an assessment under way, a positive screen with its safety plan open, a treatment plan
being written, a periodic review due (and one waiting for its date), and a crisis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from . import clients, contacts, people
from .access import Actor
from .errors import NotFound
from .form_samples import valid_sample
from .models import ROLES, Client, HumanTask, PathwayInstance, User

if TYPE_CHECKING:  # the demo is loaded through the facade, which imports this module
    from .app import Carepath

DEMO_PASSWORD = "demo"
DISPLAY = {
    "intake": "Ida Intake",
    "case_manager": "Casey Manager",
    "clinician": "Dr. Cleo Clinician",
    "supervisor": "Sam Supervisor",
    "crisis": "Cris Crisis-Team",
    "quality": "Quinn Quality",
    "admin": "Ada Admin",
}

# Realistic answers for the forms the demo walks through; anything not given is a routine sample.
ANSWERS: dict[str, dict[str, Any]] = {
    "referral": {
        "source": "primary_care",
        "referrer_name": "Dr. Patel, Riverside Family Practice",
        "reason": "Low mood for three months, stopped working, not sleeping.",
        "urgency": "routine",
        "presenting_needs": ["mental_health", "employment"],
    },
    "eligibility": {"eligible": True, "criteria_met": "Adult, lives in the service area, Medicaid."},
    "consent": {"consent_to_services": True, "rights_explained": True},
    "asq": {"q1": False, "q2": False, "q3": False, "q4": False},
    "needs_assessment": {
        "presenting_concerns": "Feels flat and tired most days since losing his job; sleeping badly.",
        "housing": "low",
        "income_benefits": "moderate",
        "income_benefits_notes": "Unemployment benefit ends next month; behind on utilities.",
        "employment_education": "moderate",
        "employment_education_notes": "Laid off in December; wants work.",
        "strengths": "Close to his sister; used to coach youth football.",
        "client_goals": "Sleep better, feel like myself again, and get back to work.",
    },
    "audit_c": {"item1": 1, "item2": 0, "item3": 0, "scoring_sex": "male"},
    "phq9": {
        "item1": 2,
        "item2": 2,
        "item3": 1,
        "item4": 2,
        "item5": 1,
        "item6": 1,
        "item7": 1,
        "item8": 0,
        "item9": 0,
    },
    "gad7": {"item1": 1, "item2": 1, "item3": 1, "item4": 1, "item5": 0, "item6": 1, "item7": 0},
    "clinical_review": {
        "diagnostic_impression": "Major depressive disorder, single episode, moderate.",
        "risk_level_reviewed": True,
        "medication_evaluation_needed": False,
        "recommended_services": "Case management and weekly CBT for 12 weeks.",
    },
    "assessment_signoff": {"approved": True},
    "treatment_plan": {
        "client_words": "I want to sleep through the night and be working again by summer.",
        "goals": [
            {
                "goal": "Sleep better",
                "domain": "mental_health",
                "objectives": [
                    {"objective": "Sleep 6+ hours on 5 nights a week, by sleep diary", "target_date": "2026-06-30"}
                ],
                "interventions": [
                    {"intervention": "CBT for insomnia", "responsible": "clinician", "frequency": "weekly"}
                ],
            },
            {
                "goal": "Get back to work",
                "domain": "employment_education",
                "objectives": [{"objective": "Apply for 3 jobs a week", "target_date": "2026-07-31"}],
                "interventions": [
                    {
                        "intervention": "Supported employment referral",
                        "responsible": "case_manager",
                        "frequency": "fortnightly",
                    }
                ],
            },
        ],
        "community_referrals_needed": False,
        "client_agrees": True,
    },
    "plan_approval": {"approved": True},
    "safety_plan": {"client_agrees": True},
}


@dataclass
class DemoClient:
    given: str
    family: str
    born: str
    language: str
    days_ago: int  # when the case was opened
    stage: str
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


CLIENTS = [
    DemoClient("Maria", "Lopez", "1987-03-14", "Spanish", 0, "new referral"),
    DemoClient("James", "Carter", "1979-11-02", "English", 6, "in assessment"),
    DemoClient(
        "Aisha",
        "Khan",
        "1995-06-21",
        "English",
        1,
        "positive screen",
        {
            "asq": {"q1": True, "q2": False, "q3": False, "q4": False, "q5": False},
            "referral": {
                **ANSWERS["referral"],
                "urgency": "urgent",
                "reason": "Told her GP she sometimes wishes she would not wake up.",
            },
        },
    ),
    DemoClient("Tom", "Nguyen", "1968-01-30", "Vietnamese", 12, "in planning"),
    DemoClient("Grace", "Okafor", "1990-08-05", "English", 100, "review due"),
    DemoClient(
        "Daniel",
        "Kim",
        "1983-12-19",
        "Korean",
        40,
        "review waiting",
        {
            "phq9": {
                "item1": 2,
                "item2": 2,
                "item3": 2,
                "item4": 2,
                "item5": 1,
                "item6": 1,
                "item7": 1,
                "item8": 0,
                "item9": 0,
            }
        },
    ),
    DemoClient("Rosa", "Diaz", "2001-09-09", "Spanish", 3, "crisis"),
]


def load(cp: Carepath, now: datetime | None = None) -> dict[str, int]:
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
    for demo_client in CLIENTS:
        with cp.db() as session:
            exists = session.scalar(
                select(Client.id).where(
                    Client.given_name == demo_client.given, Client.family_name == demo_client.family
                )
            )
        if exists:
            continue
        start = now - timedelta(days=demo_client.days_ago, hours=2)
        with cp.db.begin() as session:
            client = clients.create_client(
                session,
                actors["intake"],
                {
                    "given_name": demo_client.given,
                    "family_name": demo_client.family,
                    "birth_date": demo_client.born,
                    "preferred_language": demo_client.language,
                    "case_manager": "case_manager",
                    "contacts": [
                        {"name": f"{demo_client.family} family", "relationship": "family", "may_contact": True}
                    ],
                },
                start,
            )
        case_id = cp.start_case(actors["intake"], client["id"], now=start)["id"]
        _Walk(cp, actors, case_id, {**ANSWERS, **demo_client.answers}, start, now).to(demo_client.stage)
        if demo_client.days_ago:  # a first call, so the caseload and the timeline show a contact
            with cp.db.begin() as session:
                if clients.has_open_case(session, client["id"]):
                    contacts.record(
                        session,
                        actors["case_manager"],
                        case_id,
                        {
                            "at": (start + timedelta(hours=1)).isoformat(),
                            "minutes": 20,
                            "modality": "phone",
                            "with_whom": demo_client.given,
                            "note": "Introductory call: explained the service and next steps.",
                        },
                        now,
                    )
        created["clients"] += 1
    return created


class _Walk:
    """Completes a case's oldest open tasks, a few hours apart, as its staff would."""

    def __init__(
        self,
        cp: Carepath,
        actors: dict[str, Actor],
        case_id: int,
        answers: dict[str, dict[str, Any]],
        start: datetime,
        now: datetime,
    ) -> None:
        self.cp, self.actors, self.case_id, self.answers = cp, actors, case_id, answers
        self.at, self.now = start, now

    def to(self, stage: str) -> None:
        started = self.started
        if stage == "new referral":
            return
        if stage == "in assessment":
            self.until(lambda: started("assessment"))
            self.steps(2)  # needs assessment and AUDIT-C done; the screens are next
        elif stage == "positive screen":
            # The ASQ is positive at first contact: safety plan and safety assessment open; intake goes on.
            self.until(lambda: started("assessment"), skip=("safety_planning",))
        elif stage == "in planning":
            self.until(lambda: started("planning"))
        elif stage in ("review due", "review waiting"):
            self.until(lambda: started("periodic_review") and not self.open())
            self.fire_timers("periodic_review")
        elif stage == "crisis":
            self.until(lambda: started("assessment"))
            try:
                self.cp.deliver_message(
                    self.actors["case_manager"],
                    self.case_id,
                    "crisis_reported",
                    {"reason": "Client called saying they cannot keep themselves safe tonight."},
                    now=min(self.at + timedelta(hours=1), self.now),
                )
            except NotFound:
                pass  # an agency library without a crisis pathway: the client simply stays in assessment

    # ---------- walking ----------

    def started(self, pathway: str) -> bool:
        with self.cp.db() as session:
            return pathway in set(
                session.scalars(select(PathwayInstance.process_id).where(PathwayInstance.case_id == self.case_id))
            )

    def open(self, skip: tuple[str, ...] = ()) -> list[HumanTask]:
        with self.cp.db() as session:
            rows = session.scalars(
                select(HumanTask)
                .where(HumanTask.case_id == self.case_id, HumanTask.status == "open")
                .order_by(HumanTask.created_at, HumanTask.id)
            )
            return [t for t in rows if t.process_id not in skip]

    def until(self, goal: Callable[[], bool], skip: tuple[str, ...] = ()) -> None:
        for _ in range(40):
            if goal():
                return
            tasks = self.open(skip)
            if not tasks:
                return
            self.complete(tasks[0])

    def steps(self, count: int) -> None:
        for _ in range(count):
            tasks = self.open()
            if tasks:
                self.complete(tasks[0])

    def complete(self, task: HumanTask) -> None:
        self.at = min(self.at + timedelta(hours=3), self.now)
        actor = self.actors.get(task.role, self.actors["case_manager"])
        answers = self.answers.get(task.form_id or "", {})
        self.cp.complete_task(actor, task.id, lambda schema: valid_sample(schema, answers), now=self.at)

    def fire_timers(self, pathway: str) -> None:
        """Fire the pathway's timers that are due by now (what the worker would have done)."""
        with self.cp.db() as session:
            instance_id = session.scalar(
                select(PathwayInstance.id).where(
                    PathwayInstance.case_id == self.case_id,
                    PathwayInstance.process_id == pathway,
                    PathwayInstance.status == "running",
                )
            )
        if instance_id is not None:
            self.cp.fire_timers(instance_id, self.now)
