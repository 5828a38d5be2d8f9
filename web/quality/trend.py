"""A measure's monthly rate as a small bar chart in SVG, drawn on the server (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, GAP = 180, 40, 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # read by screen readers (<title>) and shown on hover
    empty: bool


def trend_bars(months: list[dict[str, Any]]) -> list[Bar]:
    """One bar per month: its height is the rate; a month with nothing due is a flat grey mark."""
    if not months:
        return []
    width = max(2.0, (WIDTH - GAP * (len(months) - 1)) / len(months))
    bars = []
    for i, month in enumerate(months):
        x = i * (width + GAP)
        if month["denominator"] == 0:
            bars.append(Bar(x, HEIGHT - 2, width, 2, f"{month['month']}: nothing due", True))
            continue
        rate = month["rate"] or 0.0
        height = max(2.0, rate * (HEIGHT - 2))
        bars.append(
            Bar(
                x,
                HEIGHT - height,
                width,
                height,
                f"{month['month']}: {month['numerator']} of {month['denominator']} ({rate:.0%})",
                False,
            )
        )
    return bars
