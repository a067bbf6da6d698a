"""The live view's chart: dials, connects and abandons per minute as inline-SVG geometry.

Pure: buckets in, coordinates out (the template draws them). Drawn with SVG presentation
attributes and CSS classes only, so the page's Content-Security-Policy (no inline styles)
holds and no chart library is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dialer.stats.timeline import Bucket

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 38, 10, 12, 26


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str  # tooltip: the minute and its figures


@dataclass(frozen=True)
class Tick:
    at: float  # x or y coordinate
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    plot_left: float
    plot_right: float
    dials: list[Bar]
    connects: str  # polyline points
    abandons: list[tuple[float, float]]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    totals: dict[str, int]
    summary: str  # what the chart shows, in words (its accessible name)


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (at least 4)."""
    top = max(value, 4)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return step * 4
    return -(-top // 10000) * 10000


def _hour_minute(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def draw(
    buckets: Sequence[Bucket], *, label_time: Callable[[datetime], str] = _hour_minute
) -> Chart:
    """Geometry for ``buckets`` (oldest first); ``label_time`` writes a bucket's start."""
    fmt = label_time
    n = max(len(buckets), 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = _nice_max(max((b.dials for b in buckets), default=0))
    slot = plot_w / n
    bar_w = max(slot * 0.72, 1.0)

    def y(value: float) -> float:
        return round(TOP + plot_h - plot_h * value / top, 2)

    bars, points, dots = [], [], []
    for i, b in enumerate(buckets):
        x = LEFT + i * slot
        tip = f"{fmt(b.start)}: {b.dials} dials, {b.connects} connects, {b.abandons} abandons"
        bars.append(
            Bar(
                round(x + (slot - bar_w) / 2, 2),
                y(b.dials),
                round(bar_w, 2),
                round(TOP + plot_h - y(b.dials), 2),
                tip,
            )
        )
        cx = round(x + slot / 2, 2)
        points.append(f"{cx},{y(b.connects)}")
        if b.abandons:
            dots.append((cx, y(b.abandons)))
    y_ticks = [Tick(y(top * k / 4), str(top * k // 4)) for k in range(5)]
    x_ticks = []
    step = max(n // 4, 1)
    for i in range(0, n, step):
        x_ticks.append(Tick(round(LEFT + i * slot, 2), fmt(buckets[i].start)))
    totals = {
        "dials": sum(b.dials for b in buckets),
        "connects": sum(b.connects for b in buckets),
        "abandons": sum(b.abandons for b in buckets),
    }
    summary = (
        f"Dials, connects and abandons per minute: {totals['dials']} dials, "
        f"{totals['connects']} connects and {totals['abandons']} abandons in the period shown"
    )
    return Chart(
        WIDTH,
        HEIGHT,
        TOP,
        TOP + plot_h,
        LEFT,
        WIDTH - RIGHT,
        bars,
        " ".join(points),
        dots,
        y_ticks,
        x_ticks,
        totals,
        summary,
    )
