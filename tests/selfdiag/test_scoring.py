"""Scoring on hand-computed cases (no database)."""

from __future__ import annotations

import pytest

from selfdiag.scoring import (
    CompetencySpec,
    ItemSpec,
    competency_scores,
    highlights,
    item_value,
    overall_score,
)


def specs(*counts: int, reverse: frozenset[int] = frozenset()) -> list[CompetencySpec]:
    """Competencies c0, c1… with consecutive item ids starting at 1."""
    out, next_id = [], 1
    for position, count in enumerate(counts):
        items = [
            ItemSpec(id=i, reverse_scored=i in reverse) for i in range(next_id, next_id + count)
        ]
        next_id += count
        out.append(CompetencySpec(code=f"c{position}", items=items, position=position))
    return out


def test_reverse_scored_items_count_six_minus_the_answer():
    assert item_value(5, reverse_scored=True) == 1
    assert item_value(2, reverse_scored=True) == 4
    assert item_value(2, reverse_scored=False) == 2
    with pytest.raises(ValueError):
        item_value(6, reverse_scored=False)


def test_competency_score_is_the_mean_of_its_items_rounded_to_two_decimals():
    competencies = specs(4, 3, reverse=frozenset({4}))
    answers = {"1": 4, "2": 5, "3": 3, "4": 2, "5": 1, "6": 2, "7": 2}
    # c0: 4, 5, 3 and item 4 reversed (6 - 2 = 4) -> 16 / 4 = 4.0
    # c1: 1, 2, 2 -> 5 / 3 = 1.666… -> 1.67
    scores = competency_scores(competencies, answers)
    assert scores == {"c0": 4.0, "c1": 1.67}
    # Each competency weighs the same: (4.0 + 1.67) / 2 = 2.835 -> 2.83 or 2.84 (binary floats)
    assert overall_score(scores) == pytest.approx(2.835, abs=0.006)


def test_an_unanswered_item_is_reported():
    with pytest.raises(KeyError):
        competency_scores(specs(2), {"1": 3})


def test_three_strengths_and_three_areas_when_they_stand_apart():
    competencies = specs(*[1] * 8)
    scores = {
        "c0": 4.5,
        "c1": 4.0,
        "c2": 3.8,
        "c3": 3.0,
        "c4": 3.0,
        "c5": 2.5,
        "c6": 2.0,
        "c7": 1.5,
    }
    # mean = 24.3 / 8 = 3.0375
    strengths, improvements = highlights(competencies, scores)
    assert strengths == ["c0", "c1", "c2"]
    assert improvements == ["c7", "c6", "c5"]


def test_a_third_highlight_is_dropped_when_it_is_on_the_wrong_side_of_the_mean():
    competencies = specs(*[1] * 6)
    # mean = (5 + 4.5 + 2 + 2 + 2 + 1.5) / 6 = 2.83: the third best (2.0) is not a strength,
    # the third weakest (2.0) is an area.
    scores = {"c0": 5.0, "c1": 4.5, "c2": 2.0, "c3": 2.0, "c4": 2.0, "c5": 1.5}
    strengths, improvements = highlights(competencies, scores)
    assert strengths == ["c0", "c1"]
    assert improvements == ["c5", "c2", "c3"]
    # mean = (1 + 1.5 + 4 + 4 + 4 + 5) / 6 = 3.25: the third weakest (4.0) is above it.
    scores = {"c0": 1.0, "c1": 1.5, "c2": 4.0, "c3": 4.0, "c4": 4.0, "c5": 5.0}
    strengths, improvements = highlights(competencies, scores)
    assert strengths == ["c5", "c2", "c3"]
    assert improvements == ["c0", "c1"]


def test_ties_go_to_the_competency_asked_first_and_lists_never_overlap():
    competencies = specs(1, 1, 1, 1)
    scores = {"c0": 3.0, "c1": 3.0, "c2": 3.0, "c3": 3.0}
    strengths, improvements = highlights(competencies, scores)
    assert strengths == ["c0", "c1", "c2"]
    assert improvements == ["c3"]
    assert not set(strengths) & set(improvements)
