"""Safety, crisis and hospital follow-up episodes for bench/scale.py, so every quality measure has work to count.

About 8 % of clients get a positive suicide-risk screen and the safety planning it starts, about 4 % a crisis
response with its 24-hour follow-up contact, and about half of those a hospital stay (HEDIS FUH) or an
emergency department visit (FUM) with the 7- and 30-day follow-up visits. Some of each are on time, some
late, some never done (a plan the client refused, a crisis ended by the case's closure, visits missed).

The rows are shaped as the engine writes them (read from a real run of the shipped pathways): the same
pathway instances, human tasks (title, role, form and due time from the published pathway, the assignee the
person who did it) and event-log rows (a user task's `ready` and `completed`, with the person's username on
completion; scripts and throw events `completed` in their lane's role; received messages as `message`),
at the same moments. Gateways are not logged, as in the engine. Every episode is over well before the
agency's "now", so no pending work is needed and all their instances are completed (or cancelled).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from carepath.engine.models import PathwayVersion
from carepath.engine.pathway_files import form_id_of, role_of_lane
from carepath.engine.spiff import iso_duration_after, load_spec, task_properties

SAFETY_SHARE, CRISIS_SHARE = 0.08, 0.04
# Of crisis responses: a hospital stay (FUH) or an emergency department visit not ending in admission (FUM).
HOSPITAL_SHARE, ED_SHARE = 0.34, 0.16
# An episode needs this long before the agency's "now" (or the case's closure) to be over.
EPISODE_SPAN = timedelta(days=50)
# Positive screens: (pathway, screen task, scoring script, the step that asks for a safety plan), with weights.
SCREENS = (
    (("intake", "asq_screen", "score_asq", "throw_safety_plan"), 3),
    (("assessment", "asq_screen", "score_asq", "throw_safety_asq"), 3),
    (("assessment", "phq9_screen", "score_phq9", "throw_safety_phq9"), 2),
    (("periodic_review", "review_phq9", "score_phq9", "throw_safety_plan"), 2),
    (("discharge", "final_phq9", "score_phq9", "throw_safety_plan"), 1),
)


def hours(a: float, b: float, rng: random.Random) -> timedelta:
    return timedelta(hours=rng.uniform(a, b))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass
class Element:
    name: str
    role: str | None
    form_id: str | None
    due_in: str | None  # a quoted ISO duration (`"PT8H"`), or an expression the episode works out itself


def catalogue(cp: Any) -> dict[tuple[str, str], Element]:
    """Every BPMN element of the published library: its name, lane role, form and `dueIn`."""
    found = {}
    with cp.db() as session:
        for version in session.scalars(select(PathwayVersion).where(PathwayVersion.is_current.is_(True))):
            spec, subs = load_spec(version.spec)
            for s in [spec, *subs.values()]:
                for ts in s.task_specs.values():
                    if not ts.bpmn_id:
                        continue
                    props = task_properties(ts)
                    form = props.get("formJsonSchemaFilename")
                    found[(version.process_id, ts.bpmn_id)] = Element(
                        ts.bpmn_name or ts.bpmn_id,
                        role_of_lane(ts.lane),
                        form_id_of(form) if form else None,
                        props.get("dueIn"),
                    )
    return found


@dataclass
class Rows:
    """The generator's row lists and next ids, shared with bench/scale.py."""

    instances: list[tuple]
    tasks: list[tuple]
    submissions: list[tuple]
    events: list[tuple]
    next_instance: int
    next_task: int
    next_event: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Client:
    case_id: int
    client_id: int
    case_manager: int
    opened: datetime
    closed_at: datetime | None
    instances: dict[str, int]  # the case's own pathway instances by pathway


class Episodes:
    def __init__(self, cp: Any, rng: random.Random, versions: dict, names: dict, team: dict, now: datetime):
        self.elements = catalogue(cp)
        self.rng, self.versions, self.names, self.team, self.now = rng, versions, names, team, now

    # ---------- rows as the engine writes them ----------

    def _who(self, c: Client, role: str) -> int:
        return c.case_manager if role == "case_manager" else self.rng.choice(self.team[role])

    def instance(self, r: Rows, c: Client, pathway: str, started: datetime, ended: datetime, status: str) -> int:
        iid = r.next_instance
        r.next_instance += 1
        r.instances.append((iid, c.case_id, self.versions[pathway][0], pathway, status, {}, 1, started, ended))
        return iid

    def event(self, r: Rows, c: Client, at: datetime, iid: int, pathway: str, activity: str, lifecycle: str, **kw):
        element = self.elements.get((pathway, activity))
        name = kw.get("name") or (element.name if element else activity)
        role = kw["role"] if "role" in kw else (element.role if element else None)
        r.events.append(
            (
                r.next_event,
                at,
                c.case_id,
                c.client_id,
                iid,
                pathway,
                self.versions[pathway][1],
                activity,
                name,
                lifecycle,
                role,
                kw.get("username"),
                None,
            )
        )
        r.next_event += 1

    def steps(self, r: Rows, c: Client, at: datetime, iid: int, pathway: str, *activities: str) -> None:
        for activity in activities:
            self.event(r, c, at, iid, pathway, activity, "completed")

    def message(self, r: Rows, c: Client, at: datetime, iid: int, pathway: str, name: str, sender: int) -> None:
        self.event(
            r, c, at, iid, pathway, name, "message", name=f"Message {name}", role=None, username=self.names[sender]
        )

    def task(
        self,
        r: Rows,
        c: Client,
        iid: int,
        pathway: str,
        bpmn_id: str,
        created: datetime,
        done: datetime,
        due: datetime | None = None,
        status: str = "completed",
    ) -> int:
        """A user task opened at `created` and completed (or cancelled) at `done`; returns who did it."""
        element = self.elements[(pathway, bpmn_id)]
        role = element.role or "case_manager"
        who = self._who(c, role)
        if due is None and element.due_in and element.due_in.startswith('"'):
            due = iso_duration_after(element.due_in.strip('"'), created)
        completed = status == "completed"
        r.tasks.append(
            (
                r.next_task,
                iid,
                c.case_id,
                c.client_id,
                pathway,
                f"00000000-0000-4000-9000-{r.next_task:012d}",
                bpmn_id,
                element.name[:200],
                role,
                who if completed or role == "case_manager" else None,
                element.form_id,
                None,
                status,
                created,
                due,
                done,
                who if completed else None,
            )
        )
        if completed and element.form_id:
            r.submissions.append((r.next_task, c.case_id, element.form_id, {"note": "Seen."}, who, done))
        r.next_task += 1
        self.event(r, c, created, iid, pathway, bpmn_id, "ready")
        if completed:
            self.event(r, c, done, iid, pathway, bpmn_id, "completed", username=self.names[who])
        else:
            self.event(r, c, done, iid, pathway, bpmn_id, "cancelled")
        return who

    # ---------- the episodes ----------

    def write(self, r: Rows, c: Client) -> None:
        """Maybe give this client a positive screen, a crisis, or both."""
        latest = min(self.now, c.closed_at or self.now) - EPISODE_SPAN
        roll = self.rng.random()
        if roll < CRISIS_SHARE:
            closing = c.closed_at is not None and c.closed_at - timedelta(days=3) > c.opened and roll < 0.004
            if closing:  # ended by the case's closure a day or two after its deadline, without the contact
                self.crisis(r, c, c.closed_at - hours(26, 60, self.rng), ended_by_closure=c.closed_at)
            elif latest > c.opened:
                self.crisis(r, c, c.opened + (latest - c.opened) * self.rng.random())
        if self.rng.random() < SAFETY_SHARE and latest > c.opened:
            self.safety_plan(r, c, c.opened + (latest - c.opened) * self.rng.random())

    def safety_plan(self, r: Rows, c: Client, at: datetime) -> None:
        rng = self.rng
        (pathway, screen, score, throw), *_ = rng.choices([s for s, _ in SCREENS], [w for _, w in SCREENS])
        source = c.instances.get(pathway) or self.instance(r, c, pathway, at - timedelta(days=1), at, "completed")
        screener = self.task(r, c, source, pathway, screen, at - hours(0.1, 2, rng), at)
        self.steps(r, c, at, source, pathway, score, throw)
        r.counts["positive screens"] = r.counts.get("positive screens", 0) + 1
        sp, plan_times = "safety_planning", []
        outcome = rng.random()
        # On time (70 %), late (12 %), refused then agreed on a revisit (8 %), refused twice and documented (10 %).
        first = at + (
            hours(0.3, 23, rng) if outcome < 0.70 else hours(25, 96, rng) if outcome < 0.82 else hours(1, 6, rng)
        )
        plan_times.append(first)
        if outcome >= 0.82:
            plan_times.append(first + hours(2, 40, rng))
        agreed = outcome < 0.90
        ends = [plan_times[-1]]
        iid = r.next_instance
        r.next_instance += 1
        self.steps(r, c, at, iid, sp, "start", "open_request")
        self.message(r, c, at, iid, sp, "safety_plan_needed", screener)
        for n, done in enumerate(plan_times):
            self.task(
                r, c, iid, sp, "write_safety_plan" if n == 0 else "revisit_plan", at if n == 0 else plan_times[0], done
            )
            self.steps(r, c, done, iid, sp, "count_plan")
        if agreed:
            self.steps(r, c, plan_times[-1], iid, sp, "safety_plan_agreed")
        else:
            decided = plan_times[-1] + hours(1, 20, rng)
            self.task(r, c, iid, sp, "plan_not_agreed", plan_times[-1], decided)
            ends.append(decided)
        assessed = at + hours(1, 10, rng)
        self.task(r, c, iid, sp, "safety_assessment", at, assessed)
        called = assessed + hours(12, 70, rng)
        self.task(r, c, iid, sp, "follow_up_call", assessed, called)
        self.steps(r, c, called, iid, sp, "count_contact")
        end = max(*ends, called)
        self.steps(r, c, end, iid, sp, "end")
        r.instances.append((iid, c.case_id, self.versions[sp][0], sp, "completed", {}, 1, at, end))

    def crisis(self, r: Rows, c: Client, at: datetime, ended_by_closure: datetime | None = None) -> None:
        rng, cr = self.rng, "crisis_response"
        r.counts["crisis responses"] = r.counts.get("crisis responses", 0) + 1
        iid = r.next_instance
        r.next_instance += 1
        self.steps(r, c, at, iid, cr, "start", "open_crisis", "throw_safety_plan")
        crisis_worker = rng.choice(self.team["crisis"])
        self.message(r, c, at, iid, cr, "crisis_reported", crisis_worker)
        # The crisis team's safety plan, written during the crisis contact.
        sp = self.instance(r, c, "safety_planning", at, at + hours(0.5, 6, rng), "completed")
        plan_done = r.instances[-1][-1]
        self.steps(r, c, at, sp, "safety_planning", "start", "open_request")
        self.message(r, c, at, sp, "safety_planning", "safety_plan_needed", crisis_worker)
        self.task(r, c, sp, "safety_planning", "crisis_safety_plan", at, plan_done)
        self.steps(r, c, plan_done, sp, "safety_planning", "count_plan", "safety_plan_agreed", "end")
        for notice in ("notify_case_manager", "notify_supervisor"):
            self.task(r, c, iid, cr, notice, at, at + hours(0.5, 6, rng))
        triaged = at + hours(0.15, 0.9, rng)
        self.task(r, c, iid, cr, "crisis_triage", at, triaged)
        self.steps(r, c, triaged, iid, cr, "record_triage")
        due_24 = at + timedelta(hours=24)
        if ended_by_closure is not None:
            self.task(r, c, iid, cr, "follow_up_24h", triaged, ended_by_closure, due_24, status="cancelled")
            r.instances.append((iid, c.case_id, self.versions[cr][0], cr, "cancelled", {}, 1, at, ended_by_closure))
            return
        contact = triaged + hours(1, 22, rng) if rng.random() < 0.85 else at + hours(25, 50, rng)
        self.task(r, c, iid, cr, "follow_up_24h", triaged, contact, due_24)
        self.steps(r, c, contact, iid, cr, "note_24h")
        contact_72 = contact + hours(10, 40, rng)
        self.task(r, c, iid, cr, "follow_up_72h", contact, contact_72, at + timedelta(hours=72))
        self.steps(r, c, contact_72, iid, cr, "note_72h", "where_now")
        kind = rng.random()
        handed_over = contact_72
        if kind < HOSPITAL_SHARE:
            handed_over = contact_72 + hours(48, 288, rng)
            self.task(r, c, iid, cr, "hospital_discharge", contact_72, handed_over)
            self.steps(r, c, handed_over, iid, cr, "plan_fuh", "throw_fuh", "throw_safety_plan_hospital")
            discharged = (handed_over - hours(0, 48, rng)).date()
            self.follow_up(r, c, handed_over, discharged, first_day=1, sender=c.case_manager)
        elif kind < HOSPITAL_SHARE + ED_SHARE:
            self.steps(r, c, contact_72, iid, cr, "plan_fum", "throw_fum")
            self.follow_up(r, c, contact_72, triaged.date(), first_day=0, sender=c.case_manager)
        reviewed = handed_over + hours(24, 144, rng)
        self.task(r, c, iid, cr, "post_crisis_review", handed_over, reviewed)
        self.steps(r, c, reviewed, iid, cr, "record_post_crisis", "end")
        r.instances.append((iid, c.case_id, self.versions[cr][0], cr, "completed", {}, 1, at, reviewed))

    def follow_up(self, r: Rows, c: Client, at: datetime, index: date, first_day: int, sender: int) -> None:
        """The hospital follow-up from `at`, counted from `index` (discharge or emergency visit date): on time
        (55 %), after a missed visit and a rebooking (15 %), late (15 %: days 8 to 17, which still counts for
        30 days), or three visits missed (15 %); then the 30-day visit (qualifying, or missed three times and
        the supervisor told)."""
        rng, hf = self.rng, "hospital_follow_up"
        r.counts["hospital follow-ups"] = r.counts.get("hospital follow-ups", 0) + 1
        iid = r.next_instance
        r.next_instance += 1
        due_7, due_30 = midnight(index + timedelta(days=7)), midnight(index + timedelta(days=30))
        earliest = max(at, midnight(index + timedelta(days=first_day))) + timedelta(hours=1)
        self.steps(r, c, at, iid, hf, "start", "plan_dates")
        self.message(r, c, at, iid, hf, "hospital_follow_up_needed", sender)

        def visit(stage: str, opened: datetime, done: datetime, qualifies: bool) -> None:
            due = due_7 if stage == "visit_7" else due_30
            self.task(r, c, iid, hf, stage, opened, done, due)
            self.steps(r, c, done, iid, hf, "check_visit", *(["visit_qualified"] if qualifies else []))

        def missed_three(stage: str, opened: datetime, until: datetime) -> datetime:
            for attempt in range(3):
                done = opened + (max(until, opened + timedelta(hours=3)) - opened) * rng.uniform(0.2, 0.5)
                visit(stage, opened, done, False)
                if attempt < 2:
                    opened = done + hours(1, 12, rng)
                    self.task(r, c, iid, hf, "rebook", done, opened)
            return done

        outcome = rng.random()
        window_7 = due_7 - timedelta(hours=1) > earliest
        if outcome < 0.55 and window_7:
            seen = earliest + (due_7 - timedelta(hours=1) - earliest) * rng.random()
            visit("visit_7", at, seen, True)
        elif outcome < 0.70 and window_7:
            missed = earliest + (due_7 - earliest) * rng.uniform(0, 0.3)
            visit("visit_7", at, missed, False)
            rebooked = missed + hours(1, 12, rng)
            self.task(r, c, iid, hf, "rebook", missed, rebooked)
            seen = rebooked + hours(12, 96, rng)
            visit("visit_7", rebooked, seen, True)  # by day 12 at the latest: within 7 days, or for 30
        elif outcome < 0.85:
            seen = due_7 + hours(24, 240, rng)
            visit("visit_7", at, seen, True)
        else:
            seen = missed_three("visit_7", at, due_7)
        self.steps(r, c, seen, iid, hf, "next_stage")
        # A client missed three times in the first week is often missed again (40 %; otherwise 5 %).
        if rng.random() >= (0.40 if outcome >= 0.85 else 0.05):
            second = max(seen, midnight(index + timedelta(days=12))) + hours(1, 24 * 14, rng)
            visit("visit_30", seen, min(second, due_30 - timedelta(hours=1)), True)
            end = min(second, due_30 - timedelta(hours=1))
        else:
            last = missed_three("visit_30", seen, due_30)
            end = last + hours(1, 40, rng)
            self.task(r, c, iid, hf, "not_achieved", last, end)
        self.steps(r, c, end, iid, hf, "end")
        r.instances.append((iid, c.case_id, self.versions[hf][0], hf, "completed", {}, 1, at, end))
