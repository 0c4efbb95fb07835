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


def tick_parts(top_value: int) -> int:
    """How many intervals split the axis into whole numbers (10 -> 0, 2, 4 … 10; 20 -> 0, 5,
    10 …; 2 -> 0, 1, 2)."""
    for parts in (5, 4, 2):
        if top_value % parts == 0:
            return parts
    return 1


def _ticks(top_value: int, baseline: float, plot_h: float) -> list[Tick]:
    parts = tick_parts(top_value)
    return [
        Tick(value=top_value * n // parts, y=round(baseline - plot_h * n / parts, 1))
        for n in range(parts + 1)
    ]


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
    ticks = _ticks(top_value, baseline, plot_h)
    return BarChart(
        width=width,
        height=height,
        left=left,
        baseline=baseline,
        right=width - right,
        bars=bars,
        ticks=ticks,
    )


# --- Line chart ----------------------------------------------------------------------------------


@dataclass
class Point:
    label: str
    text: str
    hidden: bool
    x: float
    y: float
    value: str


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    baseline: float
    right: int
    points: list[Point]
    #: ``points`` attributes of the polylines: a masked month breaks the line (no
    #: interpolation across a figure that is not shown).
    segments: list[str]
    ticks: list[Tick]
    unit: str


def line_chart(
    points: list[tuple[str, str, float | None]],
    *,
    width: int = 720,
    height: int = 260,
    top_value: float | None = None,
    unit: str = "",
) -> LineChart:
    """``points`` are (short label, full text, value or None when suppressed); the axis runs
    from 0 to ``top_value`` (default: a round value above the largest)."""
    left, right, top, bottom = 48, 16, 16, 32
    plot_w = width - left - right
    plot_h = height - top - bottom
    baseline = top + plot_h
    values = [v for _l, _t, v in points if v is not None]
    top_value = top_value or nice_max(math.ceil(max(values or [0])))
    slot = plot_w / max(len(points), 1)
    result, segments, current = [], [], []
    for i, (label, text, value) in enumerate(points):
        x = round(left + i * slot + slot / 2, 1)
        y = baseline if value is None else round(baseline - plot_h * value / top_value, 1)
        result.append(
            Point(
                label=label,
                text=text,
                hidden=value is None,
                x=x,
                y=y,
                value="" if value is None else _fr(value) + unit,
            )
        )
        if value is None:
            if current:
                segments.append(" ".join(current))
            current = []
        else:
            current.append(f"{x},{y}")
    if current:
        segments.append(" ".join(current))
    ticks = [
        Tick(value=round(top_value * n / 4), y=round(baseline - plot_h * n / 4, 1))
        for n in range(5)
    ]
    return LineChart(
        width=width,
        height=height,
        left=left,
        baseline=baseline,
        right=width - right,
        points=result,
        segments=segments,
        ticks=ticks,
        unit=unit,
    )


def _fr(value: float) -> str:
    """A number as written in French (decimal comma, no useless ",0")."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


# --- Stacked bar chart ---------------------------------------------------------------------------


@dataclass
class Segment:
    series: str
    y: float
    height: float
    value: str
    pattern: str  # "" or the id of an SVG pattern: series differ by more than colour


@dataclass
class Stack:
    label: str
    text: str
    hidden: bool
    x: float
    width: float
    label_x: float
    segments: list[Segment]


@dataclass
class StackedBarChart:
    width: int
    height: int
    left: int
    baseline: float
    right: int
    stacks: list[Stack]
    ticks: list[Tick]
    series: list[tuple[str, str]]  # (label, pattern)


def stacked_bar_chart(
    categories: list[tuple[str, str, list[int | None]]],
    series: list[tuple[str, str]],
    *,
    width: int = 720,
    height: int = 280,
) -> StackedBarChart:
    """``categories`` are (short label, full text, one value per series or None when a value
    is suppressed: the whole stack is then drawn as masked, since its height would give the
    masked part away). ``series`` are (label, pattern id)."""
    left, right, top, bottom = 56, 12, 16, 32
    plot_w = width - left - right
    plot_h = height - top - bottom
    baseline = top + plot_h
    totals = [sum(v for v in values if v is not None) for _l, _t, values in categories]
    top_value = nice_max(max(totals or [0]))
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.6
    stacks = []
    for i, (label, text, values) in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        hidden = any(v is None for v in values)
        segments = []
        y = baseline
        if not hidden:
            for (name, pattern), value in zip(series, values, strict=True):
                h = plot_h * (value or 0) / top_value
                y -= h
                segments.append(
                    Segment(
                        series=name,
                        y=round(y, 1),
                        height=round(h, 1),
                        value=str(value),
                        pattern=pattern,
                    )
                )
        stacks.append(
            Stack(
                label=label,
                text=text,
                hidden=hidden,
                x=round(x, 1),
                width=round(bar_w, 1),
                label_x=round(x + bar_w / 2, 1),
                segments=segments,
            )
        )
    ticks = _ticks(top_value, baseline, plot_h)
    return StackedBarChart(
        width=width,
        height=height,
        left=left,
        baseline=baseline,
        right=width - right,
        stacks=stacks,
        ticks=ticks,
        series=series,
    )
