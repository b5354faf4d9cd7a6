"""Bar charts drawn on the server as SVG geometry: no chart library, no CDN, no script.

``bar_chart`` turns a day-by-day series into rectangles, axis ticks and an optional limit line
in a fixed coordinate space; the template ``connections/_chart.html`` draws them inside an SVG
``viewBox`` so the chart scales with the page (a phone included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 22, 14, 28  # room for the value axis and the date labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    value: int
    over: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw one chart."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[tuple[float, str]]
    limit_y: float | None
    limit_label: str
    baseline: float
    left: int
    right: float
    total: int
    peak: int


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


def short_number(value: int) -> str:
    """12,500 as "12.5k", 3,000,000 as "3M"."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(value)


def bar_chart(series: dict[date, int], *, limit: int | None = None) -> Chart:
    """Bars for ``series`` (oldest day first), scaled so the tallest bar or ``limit`` fits."""
    values = list(series.values())
    top = nice_ceiling(max([*values, limit or 0, 1]))
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(series), 1)
    baseline = TOP + plot_h

    def y_of(value: float) -> float:
        return baseline - value / top * plot_h

    bars = [
        Bar(
            x=round(LEFT + i * slot + slot * 0.15, 2),
            y=round(y_of(value), 2),
            width=round(slot * 0.7, 2),
            height=round(value / top * plot_h, 2),
            day=day,
            value=value,
            over=limit is not None and value > limit,
        )
        for i, (day, value) in enumerate(series.items())
    ]
    ticks = [Tick(round(y_of(top * f), 2), short_number(round(top * f))) for f in (0, 0.5, 1)]
    every = max(len(series) // 6, 1)
    labels = [
        (round(LEFT + i * slot + slot / 2, 2), f"{day:%b} {day.day}")
        for i, day in enumerate(series)
        if (len(series) - 1 - i) % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        labels=labels,
        limit_y=round(y_of(limit), 2) if limit else None,
        limit_label=f"budget {short_number(limit)}/day" if limit else "",
        baseline=baseline,
        left=LEFT,
        right=WIDTH - RIGHT,
        total=sum(values),
        peak=max(values, default=0),
    )
