"""The engine's clock: real UTC time in production, a clock that tests and the worker's `--now` can move,
and the instant of the step being run (read by SpiffWorkflow's timers through spiff.py, and by scripts'
`now()`), set per step in a context variable so other threads keep their own time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_step_now: ContextVar[datetime | None] = ContextVar("carepath_step_now", default=None)


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
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait (the sign-in throttle's account delay)."""
        time.sleep(seconds)


class FixedClock(Clock):
    """A clock that stands still until moved."""

    def __init__(self, instant: datetime):
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> datetime:
        self.instant = self.instant + timedelta(**delta)
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant

    def sleep(self, seconds: float) -> None:
        """Time passes for the waiter without anyone waiting: tests see the effect, never a real pause."""
        self.advance(seconds=seconds)
        self.slept = getattr(self, "slept", 0.0) + seconds
