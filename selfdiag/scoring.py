"""Scoring of a diagnosis: pure functions on plain data, unit-tested on hand-computed cases.

A competency's score is the mean of its items' values on the 1–5 scale (a reverse-scored item
counts 6 − answer), rounded to two decimals. The overall score is the mean of the competency
scores (each competency weighs the same, whatever its number of items).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SCALE_MIN = 1
SCALE_MAX = 5
MAX_HIGHLIGHTS = 3
MIN_HIGHLIGHTS = 2


@dataclass(frozen=True)
class ItemSpec:
    id: int
    reverse_scored: bool = False


@dataclass(frozen=True)
class CompetencySpec:
    code: str
    items: Sequence[ItemSpec]
    position: int = 0
    label: str = ""
    short_label: str = ""
    description: str = ""
    themes: Sequence[str] = field(default_factory=tuple)


def item_value(answer: int, *, reverse_scored: bool) -> int:
    if not SCALE_MIN <= answer <= SCALE_MAX:
        raise ValueError(f"answer out of the scale: {answer}")
    return SCALE_MAX + SCALE_MIN - answer if reverse_scored else answer


def competency_scores(
    competencies: Sequence[CompetencySpec], answers: Mapping[str, int]
) -> dict[str, float]:
    """``{code: score}``; raises ``KeyError`` naming the first unanswered item."""
    scores: dict[str, float] = {}
    for competency in competencies:
        values = [
            item_value(int(answers[str(item.id)]), reverse_scored=item.reverse_scored)
            for item in competency.items
        ]
        if values:
            scores[competency.code] = round(sum(values) / len(values), 2)
    return scores


def overall_score(scores: Mapping[str, float]) -> float | None:
    if not scores:
        return None
    return round(sum(scores.values()) / len(scores), 2)


def highlights(
    competencies: Sequence[CompetencySpec], scores: Mapping[str, float]
) -> tuple[list[str], list[str]]:
    """(strengths, improvement areas): 2 or 3 codes each, best and weakest first.

    The third strength is kept only if it is at or above the overall mean (otherwise it is not
    a strength), and the third improvement area only if it is at or below it. Ties go to the
    competency asked first. The two lists never share a competency."""
    order = {c.code: (c.position, i) for i, c in enumerate(competencies)}
    scored = [c.code for c in competencies if c.code in scores]
    mean = overall_score(scores) or 0.0
    best = sorted(scored, key=lambda code: (-scores[code], order[code]))
    weakest = sorted(scored, key=lambda code: (scores[code], order[code]))
    strengths = best[:MIN_HIGHLIGHTS] + [
        code for code in best[MIN_HIGHLIGHTS:MAX_HIGHLIGHTS] if scores[code] >= mean
    ]
    improvements: list[str] = []
    for code in weakest:
        if code in strengths:
            continue
        if len(improvements) >= MAX_HIGHLIGHTS:
            break
        if len(improvements) >= MIN_HIGHLIGHTS and scores[code] > mean:
            break
        improvements.append(code)
    return strengths, improvements
