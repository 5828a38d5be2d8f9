"""The engine's clock, and the one place SpiffWorkflow's timers are made to read it.

SpiffWorkflow computes and checks timer due times with `datetime.now(timezone.utc)` inside its timer
module and offers no hook. We give that module a `datetime` whose `now()` reads a context variable:
unset, it is real time; the runtime sets it around each step to the step's instant. So tests, the
pathway simulator and `carepath worker --now T` move time for one step without touching other threads.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_step_now: ContextVar[datetime | None] = ContextVar("carepath_step_now", default=None)


class _StepDatetime(datetime):
    """`datetime` as SpiffWorkflow's timer module sees it: `now()` answers the step's instant."""

    @classmethod
    def now(cls, tz=None):
        instant = _step_now.get()
        if instant is None:
            return datetime.now(tz)
        return instant.astimezone(tz) if tz else instant.astimezone(timezone.utc).replace(tzinfo=None)


_spiff_timer.datetime = _StepDatetime


@contextlib.contextmanager
def step_time(instant: datetime) -> Iterator[None]:
    """Run the enclosed SpiffWorkflow calls as if it were `instant` (an aware datetime)."""
    token = _step_now.set(instant)
    try:
        yield
    finally:
        _step_now.reset(token)


def current_step_time() -> datetime | None:
    """The instant of the step being run, if any (scripts' `now()` reads it)."""
    return _step_now.get()


class Clock:
    """Real UTC time; tests and the worker's `--now` use `FixedClock` instead."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock(Clock):
    """A clock that stands still until moved."""

    def __init__(self, instant: datetime):
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta) -> datetime:
        self.instant = self.instant + timedelta(**delta)
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant


NowSource = Callable[[], datetime]
