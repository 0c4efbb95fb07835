"""Geometry of the SVG charts, computed here so that templates only place numbers.

The charts are inline SVG (no script, no style attribute: presentation attributes only, which
the CSP allows). Each chart has a text alternative and the same data as a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from selfdiag.scoring import SCALE_MAX, SCALE_MIN


@dataclass
class RadarAxis:
    label: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str


@dataclass
class RadarSeries:
    name: str
    points: str
    dots: list[tuple[float, float, float, float]]  # x, y and the corner of a square marker
    css: str


@dataclass
class Radar:
    width: int
    height: int
    centre_x: float
    centre_y: float
    rings: list[tuple[int, str, float]]  # (value, polygon points, label y)
    axes: list[RadarAxis]
    series: list[RadarSeries] = field(default_factory=list)


def _fmt(value: float) -> float:
    return round(value, 1)


def radar(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    width: int = 560,
    height: int = 420,
    radius: int = 150,
) -> Radar:
    """A radar of ``labels`` (one axis each, clockwise from the top) for each
    ``(name, values on the 1–5 scale, css class)``; a missing value sits at the centre."""
    n = len(labels)
    cx, cy = width / 2, height / 2

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * value / SCALE_MAX
        return _fmt(cx + r * math.cos(angle)), _fmt(cy + r * math.sin(angle))

    def polygon(values: Sequence[float]) -> str:
        return " ".join(f"{x},{y}" for x, y in (point(i, v) for i, v in enumerate(values)))

    rings = [
        (value, polygon([value] * n), _fmt(cy - radius * value / SCALE_MAX))
        for value in range(SCALE_MIN, SCALE_MAX + 1)
    ]
    axes = []
    for i, label in enumerate(labels):
        x, y = point(i, SCALE_MAX)
        lx, ly = point(i, SCALE_MAX + 0.45)
        dx = lx - cx
        anchor = "middle" if abs(dx) < 8 else ("start" if dx > 0 else "end")
        axes.append(RadarAxis(label=label, x=x, y=y, label_x=lx, label_y=ly + 4, anchor=anchor))
    chart = Radar(width=width, height=height, centre_x=cx, centre_y=cy, rings=rings, axes=axes)
    for name, values, css in series:
        clean = [v if v is not None else 0.0 for v in values]
        chart.series.append(
            RadarSeries(
                name=name,
                points=polygon(clean),
                dots=[
                    (x, y, _fmt(x - 4), _fmt(y - 4))
                    for x, y in (point(i, v) for i, v in enumerate(clean))
                ],
                css=css,
            )
        )
    return chart


@dataclass
class Sparkline:
    label: str
    points: str
    dots: list[tuple[float, float, str]]  # x, y, formatted value
    width: int
    height: int
    baseline: list[tuple[int, float]]  # (scale value, y) guide lines


def sparkline(
    label: str, values: Sequence[float | None], *, width: int = 220, height: int = 90
) -> Sparkline:
    """One competency across diagnoses, oldest first, on the 1–5 scale."""
    pad_x, pad_top, pad_bottom = 28, 18, 10
    usable_h = height - pad_top - pad_bottom
    count = len(values)

    def y_of(v: float) -> float:
        return _fmt(pad_top + usable_h * (SCALE_MAX - v) / (SCALE_MAX - SCALE_MIN))

    step = (width - 2 * pad_x) / (count - 1) if count > 1 else 0
    dots = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x = _fmt(pad_x + step * i) if count > 1 else width / 2
        dots.append((x, y_of(v), f"{v:.1f}".replace(".", ",")))
    return Sparkline(
        label=label,
        points=" ".join(f"{x},{y}" for x, y, _ in dots),
        dots=dots,
        width=width,
        height=height,
        baseline=[(v, y_of(v)) for v in (SCALE_MIN, 3, SCALE_MAX)],
    )
