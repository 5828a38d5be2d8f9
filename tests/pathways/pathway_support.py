"""Helpers for the pathway scenario tests: `Care` walks cases through the shipped library with the answers
staff would give on the ordinary path, completes one named step with chosen answers, and moves time with the
worker; plus instrument answers that add up to a chosen total."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from carepath.engine.models import HumanTask, PathwayInstance
from carepath.engine.timers import Worker

# The ordinary path: attestations and approvals given, nothing positive. Laid over each form's routine
# sample (required fields, first options, zeros), so only what must differ from that is named here.
ROUTINE = {
    "eligibility": {"eligible": True},
    "consent": {"consent_to_services": True},
    "asq": {"q1": False, "q2": False, "q3": False, "q4": False},
    "phq9": {f"item{i}": 0 for i in range(1, 10)},
    "gad7": {f"item{i}": 0 for i in range(1, 8)},
    "audit_c": {"item1": 0},
    "brief_intervention": {"feedback_reviewed": True},
    "clinical_review": {"risk_level_reviewed": True},
    "assessment_signoff": {"approved": True},
    "plan_approval": {"approved": True},
    "community_referrals": {"client_consented": True},
    "medication_plan": {"side_effects_understood": True},
    "safety_plan": {"client_agrees": True},
    "crisis_follow_up": {"client_reached": True},
    "fuh_follow_up": {"attended": True},
    "safety_follow_up": {"client_reached": True},
    "visit_rebooking": {"client_reached": True},
    "aftercare_plan": {"safety_plan_reviewed": True},
    "client_informed": {"client_informed": True},
    "discharge_approval": {"approved": True},
}


def phq9_items(total: int, item9: int = 0) -> dict:
    """PHQ-9 answers adding up to `total`, with item 9 as given (the rest filled 3, 3, … from item 1)."""
    rest = total - item9
    assert 0 <= rest <= 24 and 0 <= item9 <= 3
    items = {}
    for i in range(1, 9):
        items[f"item{i}"] = min(3, rest)
        rest -= items[f"item{i}"]
    items["item9"] = item9
    return items


def gad7_items(total: int) -> dict:
    assert 0 <= total <= 21
    items = {}
    for i in range(1, 8):
        items[f"item{i}"] = min(3, total)
        total -= items[f"item{i}"]
    return items


class Care:
    """Staff working the case, and time passing."""

    def __init__(self, driver, cp, clock, actors):
        self.driver, self.cp, self.clock, self.actors = driver, cp, clock, actors

    # ---------- cases and tasks ----------

    def new_case(self, **kw) -> int:
        return self.driver.new_case(**kw)

    def open(self, case_id: int, pathway: str | None = None) -> list[str]:
        """BPMN ids of the case's open tasks, oldest first (optionally of one pathway)."""
        return [t.bpmn_id for t in self.driver.open_tasks(case_id) if pathway in (None, t.process_id)]

    def tasks(self, case_id: int) -> list[HumanTask]:
        return self.driver.open_tasks(case_id)

    def task(self, case_id: int, bpmn_id: str) -> HumanTask:
        return self.driver.task(case_id, bpmn_id)

    def do(self, case_id: int, bpmn_id: str, answers: dict | None = None) -> list[int]:
        """Complete the open task `bpmn_id` with routine answers and `answers` laid over them."""
        task = self.driver.task(case_id, bpmn_id)
        return self.driver.complete(task, {**ROUTINE.get(task.form_id, {}), **(answers or {})})

    def walk(self, case_id: int, until, answers: dict | None = None, skip: tuple[str, ...] = ()) -> list[str]:
        """Complete the oldest open task (routine answers, `answers` by form id over them) until `until()`."""
        merged = {
            form: {**ROUTINE.get(form, {}), **(answers or {}).get(form, {})}
            for form in set(ROUTINE) | set(answers or {})
        }
        return self.driver.walk(case_id, until, answers=merged, skip=skip)

    def walk_to(
        self, case_id: int, pathway: str, answers: dict | None = None, idle: bool = False, skip: tuple[str, ...] = ()
    ) -> list[str]:
        """Walk until `pathway` has started (and, with `idle`, until no task is open)."""
        return self.walk(
            case_id, lambda: pathway in self.pathways(case_id) and (not idle or not self.open(case_id)), answers, skip
        )

    # ---------- the case ----------

    def pathways(self, case_id: int) -> list[str]:
        return self.driver.pathways(case_id)

    def statuses(self, case_id: int, *pathways: str) -> list[tuple[str, str]]:
        """(pathway, status) of the case's instances in start order, optionally only of `pathways`."""
        return [
            (p["pathway"], p["status"])
            for p in self.driver.case(case_id)["pathways"]
            if not pathways or p["pathway"] in pathways
        ]

    def case(self, case_id: int) -> dict:
        return self.driver.case(case_id)

    def scores(self, case_id: int, instrument: str | None = None) -> list[tuple[str, int, str]]:
        return [
            (s["instrument"], s["total"], s["severity"])
            for s in self.case(case_id)["scores"]
            if instrument in (None, s["instrument"])
        ]

    def data(self, case_id: int, pathway: str) -> dict:
        """The live data of the case's latest instance of `pathway` (for checking hand-overs)."""
        from carepath.engine.spiff import load_instance

        with self.cp.db() as session:
            row = session.scalars(
                select(PathwayInstance)
                .where(PathwayInstance.case_id == case_id, PathwayInstance.process_id == pathway)
                .order_by(PathwayInstance.id.desc())
                .limit(1)
            ).one()
            loaded = self.cp.specs.get(row.pathway_version)
            wf = load_instance(row.state, loaded.spec, loaded.subprocess_specs)
        ready = [t for t in wf.get_tasks() if t.task_spec.bpmn_id and t.data]
        return ready[-1].data if ready else dict(wf.data)

    # ---------- messages and time ----------

    def send(self, case_id: int, name: str, payload: dict | None = None, by: str = "case_manager") -> dict:
        return self.cp.deliver_message(self.actors[by], case_id, name, payload or {})

    def sweep(self, **delta):
        """Move the clock on by `delta` (days=, hours=) and let the worker fire what is due."""
        if delta:
            self.clock.advance(**delta)
        return Worker(self.cp).sweep()

    def now(self) -> datetime:
        return self.clock.now()


def utc(value: datetime) -> datetime:
    """Timezone-aware UTC (SQLite hands datetimes back naive)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def due(task: HumanTask) -> datetime:
    return utc(task.due_at)
