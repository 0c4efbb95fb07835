"""Geometry of the SVG bar chart: templates only place numbers (no script, no style
attribute; presentation attributes only, which the CSP allows)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    text: str  # what a screen reader or a tooltip says
    hidden: bool
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float
    value: str


@dataclass
class Tick:
    value: int
    y: float


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    baseline: float
    right: int
    bars: list[Bar]
    ticks: list[Tick]


def nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 10
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def bar_chart(
    points: list[tuple[str, str, int | None]], *, width: int = 720, height: int = 280
) -> BarChart:
    """``points`` are (short label, full text, value or None when suppressed)."""
    left, right, top, bottom = 48, 12, 16, 32
    plot_w = width - left - right
    plot_h = height - top - bottom
    baseline = top + plot_h
    top_value = nice_max(max([v for _l, _t, v in points if v is not None] or [0]))
    slot = plot_w / max(len(points), 1)
    bar_w = slot * 0.6
    bars = []
    for i, (label, text, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        h = 0.0 if value is None else plot_h * value / top_value
        bars.append(
            Bar(
                label=label,
                text=text,
                hidden=value is None,
                x=round(x, 1),
                y=round(baseline - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label_x=round(x + bar_w / 2, 1),
                value_y=round(baseline - h - 4, 1),
                value="" if value is None else str(value),
            )
        )
    ticks = [
        Tick(value=top_value * n // 4, y=round(baseline - plot_h * n / 4, 1)) for n in range(5)
    ]
    return BarChart(
        width=width,
        height=height,
        left=left,
        baseline=baseline,
        right=width - right,
        bars=bars,
        ticks=ticks,
    )
