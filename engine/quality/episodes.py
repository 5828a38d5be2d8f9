"""Each measure's episodes as one SQL select: a row per index event, with when it started, when the promise
fell due, and when it was kept (NULL if not yet).

Every select has the same columns, so compute.py counts and lists them all the same way:
`ref` (what the row is about: `task:<id>`, `instance:<id>`, `event:<id>`, `score:<id>`), `case_id`,
`client_id`, `pathway`, `start`, `due`, `done`. Whether a promise was met is `done <= due`; a row whose
deadline has not passed and is not done is pending and left out of the denominator (compute.py). Exclusions
that depend on the episode itself (work cancelled before its deadline) are applied here.

Sources are the event log (`events`) and the case state the engine projects from it (`human_tasks`,
`pathway_instances`, `scores`), never form contents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, and_, cast, exists, func, literal, null, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased

from ..models import Case, Event, HumanTask, PathwayInstance, PathwayVersion, Score
from ..paging import AnySelect
from ..states import InstanceStatus, Lifecycle, TaskStatus
from .sqltime import plus_seconds

HOUR = 3600
DAY = 24 * HOUR

# The events that record a positive suicide-risk screen: the pathway step that asks for a safety plan right
# after scoring an ASQ (positive) or a PHQ-9 (item 9 above 0). Crisis and hospital requests are not screens.
POSITIVE_SCREEN_EVENTS: tuple[tuple[str, str], ...] = (
    ("intake", "throw_safety_plan"),
    ("assessment", "throw_safety_asq"),
    ("assessment", "throw_safety_phq9"),
    ("periodic_review", "throw_safety_plan"),
    ("discharge", "throw_safety_plan"),
)
# The assessment's screens (instruments); the first one completed is the initial evaluation.
ASSESSMENT_SCREENS = ("audit_c_screen", "asq_screen", "phq9_screen", "gad7_screen")
# Until intake hands over (and so has not set the access-standard date), the deadline is taken as 14
# calendar days: 10 business days is never less, so a stalled intake still shows up as missed.
STALLED_INTAKE_DEADLINE = 14 * DAY
# The hospital follow-up's event for a visit that counts under HEDIS FUH/FUM (attended, in the window, not on
# the day of discharge after a hospital stay): only the pathway's "visit counts" branch reaches it.
QUALIFYING_VISIT = "visit_qualified"
# HEDIS: the 30-day deadline is 23 days after the 7-day one (both counted from the discharge date).
DAYS_7_TO_30 = 23 * DAY
# CMS159: remission is a PHQ-9 under 5 twelve months (± 60 days) after an index PHQ-9 above 9.
REMISSION_FROM, REMISSION_UNTIL = 305 * DAY, 425 * DAY


def _ref(prefix: str, column: Any) -> Any:
    return (literal(prefix + ":") + cast(column, String)).label("ref")


def _instance_rows(pi: Any, case: Any, due: Any, done: Any) -> AnySelect:
    """The row shape of an episode that is one pathway instance: started when it started, due and done as given."""
    return select(
        _ref("instance", pi.id),
        pi.case_id,
        case.client_id,
        pi.process_id.label("pathway"),
        pi.started_at.label("start"),
        due.label("due"),
        done.label("done"),
    ).join(case, case.id == pi.case_id)


def tasks(pathway: str | None = None) -> AnySelect:
    """`tasks_on_time` (every pathway) and `reviews_on_time` (`periodic_review`)."""
    ht = HumanTask
    stmt = select(
        _ref("task", ht.id),
        ht.case_id,
        ht.client_id,
        ht.process_id.label("pathway"),
        ht.created_at.label("start"),
        ht.due_at.label("due"),
        sql_case((ht.status == TaskStatus.COMPLETED, ht.completed_at), else_=null()).label("done"),
    ).where(ht.due_at.is_not(None), or_(ht.status != TaskStatus.CANCELLED, ht.completed_at >= ht.due_at))
    if pathway is not None:
        stmt = stmt.where(ht.process_id == pathway)
    return stmt


def safety_plan_24h() -> AnySelect:
    """A positive screen, due 24 h later, kept by the first safety plan (form `safety_plan`) completed in the
    case at or after the screen. A plan the client declined counts too: its form documents the safety planning
    done, and the pathway revisits it (the plans agreed to are in the log as `safety_plan_agreed`)."""
    e, plan = Event, aliased(HumanTask)
    first_plan = (
        select(func.min(plan.completed_at))
        .where(
            plan.case_id == e.case_id,
            plan.form_id == "safety_plan",
            plan.status == TaskStatus.COMPLETED,
            plan.completed_at >= e.at,
        )
        .scalar_subquery()
    )
    screens = or_(*[and_(e.process_id == p, e.activity == a) for p, a in POSITIVE_SCREEN_EVENTS])
    return select(
        _ref("event", e.id),
        e.case_id,
        e.client_id,
        e.process_id.label("pathway"),
        e.at.label("start"),
        plus_seconds(e.at, DAY).label("due"),
        first_plan.label("done"),
    ).where(e.lifecycle == Lifecycle.COMPLETED, screens)


def crisis_follow_up_24h() -> AnySelect:
    """Each crisis response started, due 24 h later, kept by its follow-up contact task (`follow_up_24h`).
    A crisis response ended by the case's closure before its deadline, without the contact, is excluded."""
    pi, ht, case = PathwayInstance, aliased(HumanTask), aliased(Case)
    contact = (
        select(func.min(ht.completed_at))
        .where(ht.instance_id == pi.id, ht.bpmn_id == "follow_up_24h", ht.status == TaskStatus.COMPLETED)
        .scalar_subquery()
    )
    due = plus_seconds(pi.started_at, DAY)
    return _instance_rows(pi, case, due, contact).where(
        pi.process_id == "crisis_response",
        or_(pi.status != InstanceStatus.CANCELLED, pi.ended_at >= due, contact.is_not(None)),
    )


def initial_evaluation_timely() -> AnySelect:
    """A referral recorded at intake; due by the CCBHC access-standard date intake sets (1 or 10 business
    days from the referral, US federal holidays excluded: engine/holidays.py), which the assessment's tasks
    carry as their due time; kept by the assessment's first screen. A client found ineligible or declining
    services (the case closed at intake, no assessment) is excluded."""
    ref, assess, screen, case = HumanTask, aliased(HumanTask), aliased(HumanTask), aliased(Case)
    access_due = (
        select(func.min(assess.due_at))
        .where(assess.case_id == ref.case_id, assess.process_id == "assessment", assess.due_at.is_not(None))
        .scalar_subquery()
    )
    first_screen = (
        select(func.min(screen.completed_at))
        .where(
            screen.case_id == ref.case_id,
            screen.process_id == "assessment",
            screen.bpmn_id.in_(ASSESSMENT_SCREENS),
            screen.status == TaskStatus.COMPLETED,
        )
        .scalar_subquery()
    )
    return (
        select(
            _ref("task", ref.id),
            ref.case_id,
            ref.client_id,
            ref.process_id.label("pathway"),
            ref.completed_at.label("start"),
            func.coalesce(access_due, plus_seconds(ref.completed_at, STALLED_INTAKE_DEADLINE)).label("due"),
            first_screen.label("done"),
        )
        .join(case, case.id == ref.case_id)
        .where(
            ref.process_id == "intake",
            ref.bpmn_id == "record_referral",
            ref.status == TaskStatus.COMPLETED,
            # An assessment opens its tasks with the access-standard date: a case closed without one
            # never reached assessment (ineligible, declined).
            or_(case.status == "open", access_due.is_not(None)),
        )
    )


def hospital_follow_up(kind: str, days: int) -> AnySelect:
    """HEDIS FUH (`kind` = `throw_fuh`, after a psychiatric hospital stay) and FUM (`throw_fum`, after an
    emergency department visit): the follow-up pathway started by that hand-over; due 7 (or 30) days after
    the discharge date, as the pathway's 7-day visit carries it; kept by the first qualifying visit the
    pathway recorded (its `visit_qualified` event, reached only when the visit counts under HEDIS). A visit
    recorded by the 7-day deadline also meets the 30-day one: the first qualifying event is compared with
    either deadline. The event is looked up through the case's log from the start (the events index by case
    and time), as the event log has no index by instance."""
    pi, case, handover, v7, qualified = (
        PathwayInstance,
        aliased(Case),
        aliased(Event),
        aliased(HumanTask),
        aliased(Event),
    )
    due_7 = select(func.min(v7.due_at)).where(v7.instance_id == pi.id, v7.bpmn_id == "visit_7").scalar_subquery()
    first_qualifying = (
        select(func.min(qualified.at))
        .where(
            qualified.case_id == pi.case_id,
            qualified.at >= pi.started_at,
            qualified.instance_id == pi.id,
            qualified.activity == QUALIFYING_VISIT,
            qualified.lifecycle == Lifecycle.COMPLETED,
        )
        .scalar_subquery()
    )
    due = due_7 if days == 7 else plus_seconds(due_7, DAYS_7_TO_30)
    started_by = exists().where(
        handover.case_id == pi.case_id,
        handover.at == pi.started_at,
        handover.activity == kind,
        handover.lifecycle == Lifecycle.COMPLETED,
    )
    done = sql_case(
        (pi.pathway_version_id.in_(_versions_without_qualifying_visits()), _accepted_visit(pi, days)),
        else_=first_qualifying,
    )
    return _instance_rows(pi, case, due, done).where(pi.process_id == "hospital_follow_up", started_by)


def _versions_without_qualifying_visits() -> AnySelect:
    """Hospital follow-up versions published before the pathway recorded qualifying visits (an agency's history,
    or its own older version): their episodes never pass `visit_qualified`, so they are counted as they were
    then. A handful of rows, read once per statement."""
    pv = PathwayVersion
    return select(pv.id).where(
        pv.process_id == "hospital_follow_up", ~cast(pv.sources, Text).contains(QUALIFYING_VISIT)
    )


def _accepted_visit(pi: Any, days: int) -> Any:
    """The rule for those older versions: the first visit completed that opened no rebooking (for 30 days, a
    7-day visit too). It reads a third missed visit in a window as accepted, which is why the pathway now says
    which visits qualify."""
    visit, rebook = aliased(HumanTask), aliased(HumanTask)
    return (
        select(func.min(visit.completed_at))
        .where(
            visit.instance_id == pi.id,
            visit.bpmn_id.in_(("visit_7",) if days == 7 else ("visit_7", "visit_30")),
            visit.status == TaskStatus.COMPLETED,
            ~exists().where(
                rebook.instance_id == visit.instance_id,
                rebook.bpmn_id == "rebook",
                rebook.created_at == visit.completed_at,
            ),
        )
        .scalar_subquery()
    )


def depression_remission_12m() -> AnySelect:
    """CMS159: the case's first PHQ-9 above 9; kept by a PHQ-9 under 5 between 10 and 14 months later
    (12 months ± 60 days); due at the end of that window. Counted under assessment, where depression is
    first screened. Two passes over the scores (grouped, then joined), not a subquery per case."""
    first = (
        select(Score.case_id, func.min(Score.at).label("at"))
        .where(Score.instrument == "phq9", Score.total > 9)
        .group_by(Score.case_id)
        .subquery()
    )
    later, case = aliased(Score), aliased(Case)
    remission = and_(
        later.case_id == first.c.case_id,
        later.instrument == "phq9",
        later.total < 5,
        later.at >= plus_seconds(first.c.at, REMISSION_FROM),
        later.at <= plus_seconds(first.c.at, REMISSION_UNTIL),
    )
    return (
        select(
            _ref("case", first.c.case_id),
            first.c.case_id,
            case.client_id,
            literal("assessment").label("pathway"),
            first.c.at.label("start"),
            plus_seconds(first.c.at, REMISSION_UNTIL).label("due"),
            func.min(later.at).label("done"),
        )
        .select_from(first)
        .join(case, case.id == first.c.case_id)
        .outerjoin(later, remission)
        .group_by(first.c.case_id, case.client_id, first.c.at)
    )
