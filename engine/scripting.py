"""What pathway scripts may call besides plain Python: dates on the engine's clock, and case effects.

Effects (`record_score`, `set_risk_level`, `close_case`) are collected for the step being run and
written by the runtime in the step's own transaction, so a failed step leaves no trace of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .clock import current_step_time
from .holidays import is_business_day

RISK_LEVELS = ("low", "moderate", "high", "imminent")


@dataclass
class StepEffects:
    scores: list[tuple[str, int | None, str]] = field(default_factory=list)
    risk_level: str | None = None
    close_reason: str | None = None
    case_status: Callable[[], dict[str, Any]] | None = None  # set by the runtime for the step being run


_effects: ContextVar[StepEffects | None] = ContextVar("carepath_step_effects", default=None)


def begin_effects() -> tuple[StepEffects, Token[StepEffects | None]]:
    effects = StepEffects()
    return effects, _effects.set(effects)


def end_effects(token: Token[StepEffects | None]) -> None:
    _effects.reset(token)


def current_effects() -> StepEffects | None:
    """The effects of the step being run; None outside a step (the sandbox then allows no effects)."""
    return _effects.get()


def _current() -> StepEffects:
    effects = _effects.get()
    if effects is None:
        raise RuntimeError("case effects are only available while a pathway step runs")
    return effects


# ---------- effects ----------

# The helpers take what pathway scripts hand them (any value: they check it), hence the `Any` parameters.


def record_score(instrument: str, total: Any, severity: str) -> None:
    """Record an instrument's score for the case (shown in the case file and the API's `scores`)."""
    if not isinstance(instrument, str) or not isinstance(severity, str):
        raise ValueError("record_score(instrument, total, severity): instrument and severity are text")
    if total is not None and not isinstance(total, int):
        raise ValueError("record_score: total must be a whole number or None")
    _current().scores.append((instrument, total, severity))


def set_risk_level(level: str) -> None:
    """Set the case's current risk level (low, moderate, high, imminent)."""
    if level not in RISK_LEVELS:
        raise ValueError(f"risk level must be one of {', '.join(RISK_LEVELS)}")
    _current().risk_level = level


def close_case(reason: str) -> None:
    """Close the case at the end of this step and end its other open pathway instances."""
    _current().close_reason = str(reason)[:200] or "closed"


def case_status() -> dict[str, Any]:
    """The case as it stands in this step: `risk_level`, `crisis_open`, `safety_plan_open`, `follow_up_open`,
    `has_safety_plan` (the client has a written safety plan) and `open_safety_work` (each running safety
    pathway with its open tasks), for gateways and for listing to a supervisor."""
    reader = _current().case_status
    if reader is None:
        raise RuntimeError("case_status() is only available while a pathway step runs")
    return reader()


# ---------- dates (ISO 8601 text in and out: task data must stay JSON) ----------


def _step_now() -> datetime:
    return current_step_time() or datetime.now(UTC)


def _parse(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        text = str(value)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now() -> str:
    """The step's instant, ISO 8601 UTC."""
    return _step_now().isoformat()


def today() -> str:
    return _step_now().date().isoformat()


def add_days(moment: Any, days: int) -> str:
    return (_parse(moment) + timedelta(days=days)).isoformat()


def add_hours(moment: Any, hours: int) -> str:
    return (_parse(moment) + timedelta(hours=hours)).isoformat()


def add_business_days(moment: Any, days: int, holidays: Iterable[Any] | None = None) -> str:
    """`days` working days after `moment`, at the same time of day. Working days are Monday to Friday less
    public holidays: the US federal holidays as observed, or the dates (ISO text) given in `holidays`."""
    current = _parse(moment)
    own = frozenset(date.fromisoformat(str(d)[:10]) for d in holidays) if holidays is not None else None
    remaining = int(days)
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current.date(), own):
            remaining -= 1
    return current.isoformat()


def days_between(start: Any, end: Any) -> int:
    return (_parse(end).date() - _parse(start).date()).days


def duration_until(moment: Any) -> str:
    """An ISO 8601 duration from the step's instant to `moment` ("PT0S" once it has passed).

    Lets a timer fire at a date computed earlier (e.g. 30 days after referrals were sent) while being
    written as a duration timer: `duration_until(referral_loop_deadline)`."""
    seconds = int((_parse(moment) - _step_now()).total_seconds())
    return f"PT{max(seconds, 0)}S"


SCRIPT_HELPERS = {
    "record_score": record_score,
    "set_risk_level": set_risk_level,
    "close_case": close_case,
    "case_status": case_status,
    "now": now,
    "today": today,
    "add_days": add_days,
    "add_hours": add_hours,
    "add_business_days": add_business_days,
    "days_between": days_between,
    "duration_until": duration_until,
}
