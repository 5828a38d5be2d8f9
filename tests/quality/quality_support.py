"""Helpers for the quality tests: measures and their rows as a person reading the report would see them."""

from __future__ import annotations

from datetime import datetime

from carepath.engine.quality import compute


def counts(
    cp, measure_id: str, first: str = "2026-01-01", last: str = "2027-12-31", now: datetime | None = None, **filters
) -> tuple[int, int]:
    with cp.db() as session:
        period = compute.Period.parse(first, last, cp.clock.now().date())
        found = {
            m["id"]: m for m in compute.summary(session, now or cp.clock.now(), period, compute.Filters(**filters))
        }
    return found[measure_id]["numerator"], found[measure_id]["denominator"]


def rows(
    cp,
    measure_id: str,
    first: str = "2026-01-01",
    last: str = "2027-12-31",
    now: datetime | None = None,
    case_id: int | None = None,
    pending: bool = False,
) -> dict[int, list[tuple]]:
    """case id -> [(met, start, due, done)] of the measure's rows."""
    out: dict[int, list[tuple]] = {}
    with cp.db() as session:
        period = compute.Period.parse(first, last, cp.clock.now().date())
        for r in session.execute(
            compute.rows(session, now or cp.clock.now(), measure_id, period, case_id=case_id, pending=pending)
        ):
            out.setdefault(r.case_id, []).append((bool(r.met), r.start, r.due, r.done))
    return out
