"""PHQ-9 and GAD-7 totals over time as a plain SVG drawn on the server (no JavaScript, no chart library)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


def score_chart(scores: dict[str, list[dict]]) -> Chart | None:
    """The chart of the case's PHQ-9 and GAD-7 scores (`scores`: instrument -> [{total, severity, at}]),
    or None when there is nothing to draw."""
    rows = {k: [s for s in scores.get(k, []) if s.get("total") is not None] for k in STYLES}
    instants = [_time(s["at"]) for k in rows for s in rows[k]]
    if not instants:
        return None
    start, end = min(instants), max(instants)
    span = (end - start).total_seconds()
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    top_value = 27

    def x_of(at: datetime) -> float:
        if span <= 0:
            return (LEFT + right) / 2
        return LEFT + (right - LEFT) * (at - start).total_seconds() / span

    def y_of(total: float) -> float:
        return bottom - (bottom - TOP) * min(total, top_value) / top_value

    series = []
    for key, (name, colour, marker, maximum) in STYLES.items():
        if not rows[key]:
            continue
        points = [Point(x_of(_time(s["at"])), y_of(s["total"]), s["total"], s.get("severity") or "", s["at"])
                  for s in rows[key]]
        series.append(Series(key, name, colour, marker, maximum, points))
    y_ticks = [(y_of(v), v) for v in (0, *BANDS, top_value)]
    distinct = sorted(set(instants))
    if len(distinct) > 6:
        step = (len(distinct) - 1) / 5
        distinct = [distinct[round(i * step)] for i in range(6)]
    labels = [f"{at.day} {at:%b}" + (f" {at:%Y}" if start.year != end.year else "") for at in distinct]
    if len(set(labels)) < len(labels):  # several screens on one day: tell them apart by the hour
        labels = [f"{at.day} {at:%b} {at:%H:%M}" for at in distinct]
    x_ticks = [(x_of(at), label, _anchor(i, len(distinct))) for i, (at, label) in enumerate(zip(distinct, labels))]
    return Chart(WIDTH, HEIGHT, series, y_ticks, x_ticks, (LEFT, TOP, right, bottom))


def _anchor(index: int, count: int) -> str:
    """Labels at the ends of the axis lean inwards, so they are not cut off at the chart's edge."""
    if count == 1:
        return "middle"
    return "start" if index == 0 else "end" if index == count - 1 else "middle"


def _time(text) -> datetime:
    return text if isinstance(text, datetime) else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
