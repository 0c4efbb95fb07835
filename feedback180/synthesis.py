"""The debrief's numbers and themes, computed from processed responses only.

Suppression rules (documented in the report and the README of the app):

* One rater group (the team). A per-item mean is shown only when at least ``k`` responses
  answered that item (the "je ne sais pas" answers are absent); a competency mean is the mean
  of its *shown* item means, so a suppressed cell never enters any displayed figure and no
  subtraction between figures can reveal it (complementary suppression by construction).
* Quotes (the comments are already scrubbed and reformulated). Comments are grouped into
  themes (nearest competency, for each open question). A theme is listed only when comments
  of at least ``QUOTE_MIN_SUPPORT`` different responses fall in it (a theme of one is a story
  about one person's situation); it shows its most typical comments (nearest the theme's
  centre), at most one quote when its support is under ``k`` and two from ``k``. A comment is
  never quoted when it still contains a scrubber placeholder (a named person, place, date…
  marks a situation precise enough to be recognised) or when it is longer than
  ``QUOTE_MAX_CHARS`` (long narratives identify their author).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import mean
from typing import Any

QUOTE_MIN_SUPPORT = 2
QUOTE_MAX_CHARS = 280
#: A self score this far from the team's is a gap worth naming.
GAP_THRESHOLD = 0.5
PLACEHOLDER = re.compile(r"\[[^\[\]]{2,40}\]")


def _round(value: float) -> float:
    return round(value + 1e-9, 1)


def scores_compute(
    *,
    questionnaire: dict[str, Any],
    answers: Sequence[dict[str, Any]],
    self_answers: dict[str, Any],
    k: int,
) -> dict[str, Any]:
    """Per-item and per-competency team means (suppressed under ``k``), self scores and gaps,
    three strengths and three areas to improve."""
    values: dict[str, list[int]] = defaultdict(list)
    for response in answers:
        for item_id, value in response.items():
            if isinstance(value, int) and 1 <= value <= 5:
                values[item_id].append(value)
    items = []
    for item in questionnaire.get("items", []):
        got = values.get(item["id"], [])
        own = self_answers.get(item["id"])
        items.append(
            {
                "id": item["id"],
                "competency": item["competency"],
                "text": item["text"],
                "team": _round(mean(got)) if len(got) >= k else None,
                "self": own if isinstance(own, int) else None,
            }
        )
    competencies = []
    for comp in questionnaire.get("competencies", []):
        mine = [i for i in items if i["competency"] == comp["code"]]
        shown = [i["team"] for i in mine if i["team"] is not None]
        own = [i["self"] for i in mine if i["self"] is not None]
        team = _round(mean(shown)) if shown else None
        self_score = _round(mean(own)) if len(own) == len(mine) and own else None
        gap = _round(self_score - team) if team is not None and self_score is not None else None
        competencies.append(
            {
                "code": comp["code"],
                "label": comp["label"],
                "short_label": comp.get("short_label", comp["label"]),
                "themes": comp.get("themes", []),
                "team": team,
                "self": self_score,
                "gap": gap,
            }
        )
    scored = [c for c in competencies if c["team"] is not None]
    by_score = sorted(scored, key=lambda c: (-c["team"], c["code"]))
    strengths = [c["code"] for c in by_score[:3]]
    improvements = [
        c["code"]
        for c in sorted(scored, key=lambda c: (c["team"], c["code"]))
        if c["code"] not in strengths
    ][:3]
    hidden_strengths = [
        c["code"] for c in competencies if c["gap"] is not None and c["gap"] <= -GAP_THRESHOLD
    ]
    blind_spots = [
        c["code"] for c in competencies if c["gap"] is not None and c["gap"] >= GAP_THRESHOLD
    ]
    return {
        "items": items,
        "competencies": competencies,
        "strengths": strengths,
        "improvements": improvements,
        "hidden_strengths": hidden_strengths,
        "blind_spots": blind_spots,
    }


def quotable(text: str) -> bool:
    return bool(text.strip()) and len(text) <= QUOTE_MAX_CHARS and not PLACEHOLDER.search(text)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def themes_compute(
    *,
    questionnaire: dict[str, Any],
    comments: Sequence[dict[str, str]],
    k: int,
    embed: Callable[[list[str]], list[list[float]]],
) -> list[dict[str, Any]]:
    """Group comments (one dict per response: ``{question_id: text}``) into themes
    (question × nearest competency) and pick the quotes allowed by the rules above."""
    competencies = questionnaire.get("competencies", [])
    entries: list[tuple[int, str, str]] = []  # (response index, question, text)
    for index, response in enumerate(comments):
        for question, text in response.items():
            if text and text.strip():
                entries.append((index, question, " ".join(text.split())))
    if not entries or not competencies:
        return []
    anchors = embed([f"{c['label']}. {c.get('description', '')}" for c in competencies])
    vectors = embed([text for _i, _q, text in entries])
    groups: dict[tuple[str, str], list[tuple[int, str, list[float]]]] = defaultdict(list)
    for (index, question, text), vector in zip(entries, vectors, strict=True):
        best = max(range(len(competencies)), key=lambda n: _cosine(vector, anchors[n]))
        groups[(question, competencies[best]["code"])].append((index, text, vector))
    labels = {c["code"]: c["label"] for c in competencies}
    order = {q["id"]: n for n, q in enumerate(questionnaire.get("open_questions", []))}
    themes = []
    for (question, code), members in groups.items():
        support = len({index for index, _t, _v in members})
        if support < QUOTE_MIN_SUPPORT:
            continue
        centre = [
            sum(col) / len(members) for col in zip(*(v for _i, _t, v in members), strict=True)
        ]
        norm = math.sqrt(sum(x * x for x in centre)) or 1.0
        ranked = sorted(members, key=lambda m: -_cosine(m[2], centre) / norm)
        limit = 2 if support >= k else 1
        quotes: list[str] = []
        used: set[int] = set()
        for index, text, _vector in ranked:
            if len(quotes) >= limit:
                break
            if index in used or not quotable(text) or text in quotes:
                continue
            quotes.append(text)
            used.add(index)
        themes.append(
            {
                "question": question,
                "competency": code,
                "label": labels.get(code, code),
                "support": support,
                "quotes": quotes,
            }
        )
    themes.sort(key=lambda t: (order.get(t["question"], 99), -t["support"], t["competency"]))
    return themes
