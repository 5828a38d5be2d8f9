"""PHQ-9 and GAD-7 totals over time as a plain SVG drawn on the server (no JavaScript, no chart library)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40
# Each series has a colour and a marker shape, so the lines differ without relying on colour alone.
STYLES = {"phq9": ("PHQ-9", "#0b5cad", "circle", 27), "gad7": ("GAD-7", "#a04400", "square", 21)}
BANDS = (5, 10, 15, 20)  # where the published severity bands begin (minimal / mild / moderate / …)


@dataclass
class Point:
    x: float
    y: float
    total: int
    severity: str
    at: str


@dataclass
class Series:
    instrument: str
    name: str
    colour: str
    marker: str
    maximum: int
    points: list[Point] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points))


@dataclass
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str, str]]  # x, label, text-anchor
    plot: tuple[float, float, float, float]  # left, top, right, bottom


def score_chart(scores: dict[str, list[dict]], zone: tzinfo = UTC) -> Chart | None:
    """The chart of the case's PHQ-9 and GAD-7 scores (`scores`: instrument -> [{total, severity, at}]),
    or None when there is nothing to draw.

    The x-axis is the calendar (days in the agency's zone), the same for both series: a PHQ-9 and a GAD-7
    given on the same day stand one above the other, and screens weeks apart stand weeks apart."""
    rows = {k: [s for s in scores.get(k, []) if s.get("total") is not None] for k in STYLES}
    days = sorted({_day(s["at"], zone) for k in rows for s in rows[k]})
    if not days:
        return None
    start, end = days[0], days[-1]
    span = (end - start).days
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    top_value = 27
    inset = 24  # the first and last days sit a little inside the axis, so their markers are whole

    def x_of(day: date) -> float:
        if span <= 0:
            return (LEFT + right) / 2
        return LEFT + inset + (right - LEFT - 2 * inset) * (day - start).days / span

    def y_of(total: float) -> float:
        return bottom - (bottom - TOP) * min(total, top_value) / top_value

    series = []
    for key, (name, colour, marker, maximum) in STYLES.items():
        if not rows[key]:
            continue
        points = [
            Point(x_of(_day(s["at"], zone)), y_of(s["total"]), s["total"], s.get("severity") or "", s["at"])
            for s in rows[key]
        ]
        series.append(Series(key, name, colour, marker, maximum, points))
    y_ticks = [(y_of(v), v) for v in (0, *BANDS, top_value)]
    shown = days
    if len(shown) > 6:
        step = (len(shown) - 1) / 5
        shown = [shown[round(i * step)] for i in range(6)]
    labels = [f"{d.day} {d:%b}" + (f" {d:%Y}" if start.year != end.year else "") for d in shown]
    x_ticks = [(x_of(d), label, _anchor(i, len(shown))) for i, (d, label) in enumerate(zip(shown, labels, strict=True))]
    return Chart(WIDTH, HEIGHT, series, y_ticks, x_ticks, (LEFT, TOP, right, bottom))


def _day(text, zone: tzinfo) -> date:
    return _time(text).astimezone(zone).date()


def _anchor(index: int, count: int) -> str:
    """Labels at the ends of the axis lean inwards, so they are not cut off at the chart's edge."""
    if count == 1:
        return "middle"
    return "start" if index == 0 else "end" if index == count - 1 else "middle"


def _time(text) -> datetime:
    return text if isinstance(text, datetime) else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
