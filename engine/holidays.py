"""Public holidays for business-day deadlines (the CCBHC access standard counts business days).

The default calendar is the United States' federal holidays, as observed (a Saturday holiday is kept on
the Friday before, a Sunday one on the Monday after). An agency with another calendar passes its own
dates to `add_business_days(moment, days, holidays=[...])` in the pathway script.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def us_federal_holidays(year: int) -> frozenset[date]:
    """The eleven US federal holidays of `year` (5 U.S.C. 6103), on the days they are observed."""
    mon, thu = 0, 3
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    floating = [
        _nth_weekday(year, 1, mon, 3),
        _nth_weekday(year, 2, mon, 3),
        _last_weekday(year, 5, mon),
        _nth_weekday(year, 9, mon, 1),
        _nth_weekday(year, 10, mon, 2),
        _nth_weekday(year, 11, thu, 4),
    ]
    days = {_observed(d) for d in fixed} | set(floating)
    # New Year's Day on a Saturday is observed on 31 December of the year before.
    nxt = date(year + 1, 1, 1)
    if nxt.weekday() == 5:
        days.add(nxt - timedelta(days=1))
    return frozenset(days)


def is_business_day(day: date, holidays: frozenset[date] | None = None) -> bool:
    if day.weekday() >= 5:
        return False
    return day not in (holidays if holidays is not None else us_federal_holidays(day.year))
