"""The clinical safety invariants, as data: an id, the promise in plain words, and a check over an episode.

Each check reads a case's event log and state (engine/safety/episode.py) and returns the ways the promise
was broken, in words a clinician can follow. They hold whatever an agency draws: the checker runs them
over many random episodes of a pathway library before it is published (engine/safety/checker.py).

Checks speak of forms and messages, not of pathway or task names, so a library that renames its steps is
still checked. An episode that has not ended (the case still open) only fails the promises that cannot
be put right later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from ..models import Event
from .case_work import RISK_EVENT, RISK_ORDER, parse_risk_event
from .episode import Answer, Episode, Task

# Safety work: the safety plan, the brief suicide safety assessment, crisis triage and follow-up contacts, and
# the follow-up after hospital or emergency care (HEDIS FUH/FUM).
SAFETY_FORMS = frozenset(
    {
        "safety_plan",
        "suicide_safety_assessment",
        "crisis_triage",
        "crisis_follow_up",
        "safety_follow_up",
        "welfare_check",
        "hospital_discharge",
        "fuh_follow_up",
        "visit_rebooking",
    }
)
ATTEMPT_FORMS = frozenset({"crisis_follow_up", "safety_follow_up", "welfare_check", "unreached_escalation"})
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Invariant:
    id: str
    statement: str
    check: Callable[[Episode], list[str]]


def _positive_screens(ep: Episode) -> list[tuple[Answer, str]]:
    out = []
    for a in ep.answers_of("asq", "phq9"):
        d = a.data
        if a.form_id == "asq":
            declined = bool(d.get("declined_to_answer"))
            if d.get("q5") or (declined and d.get("q5") is None):
                out.append((a, "acute positive ASQ"))
            elif any(d.get(q) for q in ("q1", "q2", "q3", "q4")) or declined:
                out.append((a, "positive ASQ"))
        elif (d.get("item9") or 0) > 0:
            out.append((a, "PHQ-9 item 9 above 0"))
    return out


def _covered(ep: Episode, screen: Answer, forms: tuple[str, ...]) -> bool:
    """Done at or after the screen, or in an instance that was open when the screen came (it joined it)."""
    for a in ep.answers_of(*forms):
        if a.at >= screen.at:
            return True
        inst = ep.instances.get(a.instance_id)
        if inst is not None and inst.running_at_event(screen.event_id, screen.at):
            return True
    return False


def screen_gets_plan(ep: Episode) -> list[str]:
    if ep.status != "closed":
        return []
    return [
        f"{what} at {a.at:%Y-%m-%d %H:%M}, but the case closed with no completed safety plan and no supervisor's "
        f"decision"
        for a, what in _positive_screens(ep)
        if not _covered(ep, a, ("safety_plan",)) and not ep.supervisor_decided(after=a.at)
    ]


def screen_gets_assessment(ep: Episode) -> list[str]:
    if ep.status != "closed":
        return []
    return [
        f"{what} at {a.at:%Y-%m-%d %H:%M}, but the case closed with no suicide safety assessment or crisis "
        f"evaluation and no supervisor's decision"
        for a, what in _positive_screens(ep)
        if not _covered(ep, a, ("suicide_safety_assessment", "crisis_triage")) and not ep.supervisor_decided(after=a.at)
    ]


def _notice_for(ep: Episode, task: Task) -> bool:
    return any(
        t.form_id == "work_ended_notice"
        and t.created_at == task.completed_at
        and (t.role == task.role or (task.assignee and t.assignee == task.assignee))
        for t in ep.tasks
    )


def no_silent_cancellation(ep: Episode) -> list[str]:
    out = []
    for t in ep.tasks:
        if t.status != "cancelled" or t.form_id not in SAFETY_FORMS:
            continue
        if not ep.supervisor_decided(before=t.completed_at):
            out.append(
                f"{t.pathway}/{t.bpmn_id} was cancelled at {t.completed_at:%Y-%m-%d %H:%M} with no supervisor's "
                "decision"
            )
        elif not _notice_for(ep, t):
            out.append(f"{t.pathway}/{t.bpmn_id} was cancelled and its holder ({t.assignee or t.role}) was not told")
    return out


def no_close_over_safety_work(ep: Episode) -> list[str]:
    if ep.status != "closed":
        return []
    safety_instances = {t.instance_id for t in ep.tasks if t.form_id in SAFETY_FORMS}
    out = []
    for inst in ep.instances.values():
        if (
            inst.id in safety_instances
            and inst.status == "cancelled"
            and not ep.supervisor_decided(before=ep.closed_at)
        ):
            out.append(
                f"the case closed while {inst.pathway} was still open (ended by the closure, no supervisor's decision)"
            )
    return out


def unreached_retried(ep: Episode) -> list[str]:
    out = []
    for a in ep.answers_of("crisis_follow_up", "safety_follow_up"):
        if a.data.get("client_reached", True):
            continue
        if ep.status == "closed" and ep.closed_at == a.at:
            continue
        again = [
            t
            for t in ep.tasks_opened_at(a.at)
            if t.form_id in ATTEMPT_FORMS and t.due_at is not None and t.due_at <= a.at + DAY
        ]
        if not again:
            out.append(
                f"client not reached at a follow-up contact ({a.at:%Y-%m-%d %H:%M}) and no new attempt was due "
                "within 24 hours"
            )
    return out


def _risk_drops(ep: Episode) -> Iterator[tuple[Event, str, str]]:
    for e in ep.events:
        if e.activity == RISK_EVENT and e.lifecycle == "completed":
            old, new = parse_risk_event(e.activity_name)
            if old is not None and RISK_ORDER.get(new, 0) < RISK_ORDER.get(old, 0):
                yield e, old, new


def risk_not_lowered_during_crisis(ep: Episode) -> list[str]:
    crisis = {t.instance_id for t in ep.tasks if t.form_id == "crisis_triage"}
    plans = {i.id for i in ep.instances.values() if i.started_by == "safety_plan_needed"}
    out = []
    for e, old, new in _risk_drops(ep):
        open_now = [
            ep.instances[i].pathway
            for i in crisis | plans
            if i in ep.instances and ep.instances[i].running_at_event(e.id, e.at) and i != e.instance_id
        ]
        if open_now:
            out.append(
                f"risk lowered {old} -> {new} at {e.at:%Y-%m-%d %H:%M} while {', '.join(sorted(set(open_now)))} "
                "was open"
            )
    return out


def risk_lowered_by_clinician(ep: Episode) -> list[str]:
    return [
        f"risk lowered {old} -> {new} at {e.at:%Y-%m-%d %H:%M} by {e.role or 'no one'} ({e.process_id}), not "
        "by a clinician's decision"
        for e, old, new in _risk_drops(ep)
        if e.role != "clinician"
    ]


def one_safety_plan_at_a_time(ep: Episode) -> list[str]:
    plans = sorted(
        (i for i in ep.instances.values() if i.started_by == "safety_plan_needed"), key=lambda i: i.first_event
    )
    out = []
    for i, first in enumerate(plans):
        for second in plans[i + 1 :]:
            if first.running_at_event(second.first_event, second.started_at):
                out.append(
                    f"two safety-planning instances open at once (from {first.started_at:%Y-%m-%d %H:%M} and "
                    f"{second.started_at:%Y-%m-%d %H:%M})"
                )
    return out


def assessment_outcome_followed(ep: Episode) -> list[str]:
    out = []
    for a in ep.answers_of("suicide_safety_assessment"):
        disposition = a.data.get("disposition")
        if disposition == "emergency_evaluation" or (ep.status == "closed" and ep.closed_at == a.at):
            continue
        opened = [
            t
            for t in ep.tasks_opened_at(a.at)
            if t.due_at is not None
            and t.due_at <= a.at + 3 * DAY
            and t.form_id not in ("work_ended_notice", "overdue_review")
        ]
        if not opened:
            out.append(
                f"safety assessment decided {disposition!r} ({a.at:%Y-%m-%d %H:%M}) but no follow-up was "
                "opened within 72 hours"
            )
    return out


def plan_agreed_or_revisited(ep: Episode) -> list[str]:
    out = []
    for a in ep.answers_of("safety_plan"):
        if a.data.get("client_agrees", True) or (ep.status == "closed" and ep.closed_at == a.at):
            continue
        if not [t for t in ep.tasks_opened_at(a.at) if t.form_id in ("safety_plan", "safety_plan_not_agreed")]:
            out.append(f"a safety plan the client did not agree to was accepted as done ({a.at:%Y-%m-%d %H:%M})")
    return out


def hospital_follow_up(ep: Episode) -> list[str]:
    out = []
    for a in ep.answers_of("hospital_discharge"):
        if ep.status == "closed" and ep.closed_at == a.at:
            continue
        if not any(t.form_id == "fuh_follow_up" and t.created_at == a.at for t in ep.tasks):
            out.append(f"hospital discharge recorded ({a.at:%Y-%m-%d %H:%M}) without a follow-up visit booked")
    for a in ep.answers_of("fuh_follow_up"):
        if a.data.get("attended", True) or (ep.status == "closed" and ep.closed_at == a.at):
            continue
        if not [
            t
            for t in ep.tasks_opened_at(a.at)
            if t.form_id in ("fuh_follow_up", "visit_rebooking", "unreached_escalation")
        ]:
            out.append(f"a missed follow-up visit after hospital care was not rebooked ({a.at:%Y-%m-%d %H:%M})")
    for a in ep.answers_of("crisis_triage"):
        if a.data.get("disposition") != "emergency_department":
            continue
        inst = ep.instances.get(a.instance_id)
        if inst is None or inst.status != "completed":
            continue
        if not any(t.form_id in ("fuh_follow_up", "hospital_discharge") and t.created_at >= a.at for t in ep.tasks):
            out.append(f"an emergency department visit ({a.at:%Y-%m-%d %H:%M}) got no follow-up visit (HEDIS FUM)")
    return out


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "screen_gets_safety_plan",
        "Every positive suicide-risk screen (ASQ, or PHQ-9 item 9 above 0) leads to "
        "a completed safety plan, or a supervisor's recorded decision, before the case closes.",
        screen_gets_plan,
    ),
    Invariant(
        "screen_gets_assessment",
        "Every positive suicide-risk screen leads to a brief suicide safety "
        "assessment or a crisis evaluation, or a supervisor's recorded decision, before the case closes.",
        screen_gets_assessment,
    ),
    Invariant(
        "no_silent_cancellation",
        "Safety work (safety plan, safety assessment, crisis triage and follow-up, "
        "hospital follow-up) is never cancelled without a supervisor's recorded decision, and whoever held it "
        "is told in their inbox.",
        no_silent_cancellation,
    ),
    Invariant(
        "no_close_over_safety_work",
        "No case closes while a safety plan, a crisis response or a hospital "
        "follow-up is still open, unless a supervisor decided so.",
        no_close_over_safety_work,
    ),
    Invariant(
        "unreached_client_retried",
        "A client not reached at a follow-up contact after a crisis or a positive "
        "screen gets another attempt (or a welfare check, or the supervisor) due within 24 hours.",
        unreached_retried,
    ),
    Invariant(
        "risk_not_lowered_during_crisis",
        "The case's risk level never goes down while a crisis response or a safety plan is open.",
        risk_not_lowered_during_crisis,
    ),
    Invariant(
        "risk_lowered_by_clinician",
        "The case's risk level goes down only by a clinician's decision.",
        risk_lowered_by_clinician,
    ),
    Invariant(
        "one_safety_plan_at_a_time",
        "A case has at most one safety-planning instance open at a time; a new request joins the open one.",
        one_safety_plan_at_a_time,
    ),
    Invariant(
        "assessment_outcome_followed",
        "A brief suicide safety assessment that sends the client home opens "
        "their follow-up (an urgent appointment or a contact) due within 72 hours.",
        assessment_outcome_followed,
    ),
    Invariant(
        "plan_agreed_or_revisited",
        "A safety plan the client does not agree to is revisited (or goes to a supervisor), never filed as done.",
        plan_agreed_or_revisited,
    ),
    Invariant(
        "hospital_follow_up",
        "A discharge from hospital books a follow-up visit; a missed visit is rebooked; an "
        "emergency department visit gets a follow-up visit (HEDIS FUH, FUM).",
        hospital_follow_up,
    ),
)
# Not an invariant of the pathways' content, but of their running: a step that fails is refused by the engine,
# which a clinician experiences as work that cannot be done. The checker reports those under this id.
STEP_FAILED = Invariant(
    "every_step_runs",
    "Every step of every pathway runs: no script error, no gateway without a way out, no timer that cannot fire.",
    lambda ep: [],
)


def check_episode(ep: Episode) -> dict[str, list[str]]:
    """Every invariant's violations for one episode ({} when all hold)."""
    found = {}
    for inv in INVARIANTS:
        problems = inv.check(ep)
        if problems:
            found[inv.id] = problems
    return found
