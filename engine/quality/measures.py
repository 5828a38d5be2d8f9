"""The quality measures, as data: what each promises, where the promise comes from, what starts it, when it
falls due and what is left out. docs/quality.md explains each one in plain words; the SQL is episodes.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import NotFound
from ..paging import AnySelect
from . import episodes


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    definition: str  # plain words: who is counted and what counts as met
    source: str  # the clinical or regulatory standard it follows
    index_event: str  # what puts a case in the denominator (its time is the row's start)
    deadline: str  # when the promise falls due
    exclusions: str  # what is left out, besides pending rows (deadline not passed, not done)
    episodes: Callable[[], AnySelect]
    # A case has rows only if it has an instance of this pathway (the rows start from that instance or its
    # tasks), so the case file need not ask for a case that never ran it. None: any case may have rows.
    only_with: str | None = None


MEASURES: tuple[Measure, ...] = (
    Measure(
        "safety_plan_24h",
        "Safety plan within 24 hours of a positive suicide-risk screen",
        "Each positive suicide-risk screen (ASQ positive, or PHQ-9 item 9 above 0) counts once; it is met when a "
        "safety plan (form safety_plan) is completed in the same case within 24 hours of the screen. A plan the "
        "client declined counts: its form documents the safety planning done, and the pathway revisits it.",
        "Joint Commission NPSG 15.01.01 (EP 5: safety planning after a positive screen); Stanley-Brown Safety "
        "Planning Intervention; NIMH ASQ toolkit",
        "the pathway step that asks for a safety plan right after scoring a positive screen (intake, "
        "assessment, periodic review, discharge)",
        "24 hours after the screen",
        "none",
        episodes.safety_plan_24h,
    ),
    Measure(
        "crisis_follow_up_24h",
        "Crisis follow-up contact within 24 hours",
        "Each crisis response started (reported by staff, an emergent referral, an acute positive screen or a "
        "safety assessment) counts once; it is met when its follow-up contact task (follow_up_24h) is "
        "completed within 24 hours of the start.",
        "988 / SAMHSA National Guidelines for Behavioral Health Crisis Care (follow-up within 24 hours); "
        "CCBHC crisis services criteria",
        "crisis_response started",
        "24 hours after the start",
        "a crisis response ended by the case's closure before its deadline, without the contact",
        episodes.crisis_follow_up_24h,
        only_with="crisis_response",
    ),
    Measure(
        "initial_evaluation_timely",
        "Initial evaluation within the access standard",
        "Each referral recorded at intake counts once; it is met when the assessment's first screen (AUDIT-C, "
        "ASQ, PHQ-9 or GAD-7) is completed by the access-standard date: 10 business days after the referral, "
        "1 business day when the need is urgent or the intake screen was positive (weekends and US federal "
        "holidays are not business days).",
        "CCBHC certification criteria 2.b (initial evaluation within 10 business days; 1 for urgent needs)",
        "the referral recorded (intake's record_referral completed)",
        "the access-standard date intake sets, carried by the assessment's tasks (14 days after the referral "
        "while intake has not handed over)",
        "clients found ineligible or declining services at intake (the case closed with no assessment)",
        episodes.initial_evaluation_timely,
        only_with="intake",
    ),
    Measure(
        "reviews_on_time",
        "Periodic reviews on time",
        "Each task of a periodic review cycle that carries a due time counts once; it is met when completed by "
        "its due time.",
        "CCBHC criteria 3.a (treatment plan review at least every 6 months, sooner when clinically indicated); "
        "the agency's review interval table",
        "a periodic review task opened",
        "the task's due time",
        "tasks cancelled before they fell due (the cycle ended for a discharge)",
        lambda: episodes.tasks("periodic_review"),
    ),
    Measure(
        "fuh_7day",
        "Follow-up within 7 days after psychiatric hospitalization (FUH)",
        "Each discharge from psychiatric hospitalization recorded counts once; it is met when a qualifying follow-up "
        "visit (the pathway's visit_qualified event: attended, after the day of discharge, within the window) "
        "is recorded by the 7-day deadline.",
        "HEDIS FUH (NCQA), 7-day rate",
        "the hospital follow-up started after a hospital stay",
        "7 days after the discharge date (00:00 UTC, as the pathway sets it)",
        "none",
        lambda: episodes.hospital_follow_up("throw_fuh", 7),
        only_with="hospital_follow_up",
    ),
    Measure(
        "fuh_30day",
        "Follow-up within 30 days after psychiatric hospitalization (FUH)",
        "As fuh_7day, with a 30-day deadline: a visit that met the 7-day deadline also meets this one, and so "
        "does a qualifying visit on days 8 to 30.",
        "HEDIS FUH (NCQA), 30-day rate",
        "the hospital follow-up started after a hospital stay",
        "30 days after the discharge date",
        "none",
        lambda: episodes.hospital_follow_up("throw_fuh", 30),
        only_with="hospital_follow_up",
    ),
    Measure(
        "fum_7day",
        "Follow-up within 7 days after an emergency visit for mental illness (FUM)",
        "Each emergency department visit that did not end in admission counts once; it is met when a qualifying "
        "follow-up visit (the pathway's visit_qualified event: attended, from the day of the emergency visit, "
        "within the window) is recorded by the 7-day deadline.",
        "HEDIS FUM (NCQA), 7-day rate",
        "the follow-up started after an emergency department visit",
        "7 days after the visit date",
        "none",
        lambda: episodes.hospital_follow_up("throw_fum", 7),
        only_with="hospital_follow_up",
    ),
    Measure(
        "fum_30day",
        "Follow-up within 30 days after an emergency visit for mental illness (FUM)",
        "As fum_7day, with a 30-day deadline: a visit that met the 7-day deadline also meets this one, and so "
        "does a qualifying visit on days 8 to 30.",
        "HEDIS FUM (NCQA), 30-day rate",
        "the follow-up started after an emergency department visit",
        "30 days after the visit date",
        "none",
        lambda: episodes.hospital_follow_up("throw_fum", 30),
        only_with="hospital_follow_up",
    ),
    Measure(
        "tasks_on_time",
        "Tasks completed on time",
        "Every human task that carries a due time counts once; it is met when completed by its due time.",
        "the agency's pathways (each task's dueIn)",
        "a task opened",
        "the task's due time",
        "tasks cancelled before they fell due (their pathway or case ended)",
        lambda: episodes.tasks(None),
    ),
    Measure(
        "depression_remission_12m",
        "Depression remission at 12 months",
        "Each case's first PHQ-9 above 9 counts once; it is met when a PHQ-9 under 5 is recorded 12 months "
        "(± 60 days) later.",
        "CMS159 (Depression Remission at Twelve Months), NQF 0710",
        "the case's first PHQ-9 above 9",
        "14 months after the index PHQ-9 (the end of the 12 months ± 60 days window)",
        "none yet (CMS159's exclusions of death, hospice and bipolar or personality disorder are not recorded "
        "as data in Carepath)",
        episodes.depression_remission_12m,
    ),
)

BY_ID = {m.id: m for m in MEASURES}


def measure(measure_id: str) -> Measure:
    """The measure named `measure_id`. Raises NotFound."""
    found = BY_ID.get(measure_id)
    if found is None:
        raise NotFound(f"There is no quality measure '{measure_id}'.")
    return found
