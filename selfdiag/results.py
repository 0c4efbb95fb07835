"""What a result page shows, read from the frozen results with a constant number of queries
(used by the page and the PDF)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from campus.models import User
from mallette.models import Practice
from mallette.selectors import practices_visible_to
from selfdiag import charts
from selfdiag.models import Diagnosis
from selfdiag.selectors import (
    PeerGroup,
    peer_groups,
    peer_minimum,
    practices_in_plan,
    previous_diagnosis,
)
from selfdiag.services import fr_number


@dataclass
class Row:
    code: str
    label: str
    short_label: str
    description: str
    score: float
    score_text: str
    previous: float | None = None
    delta_text: str = ""
    peers: list[str] = field(default_factory=list)


@dataclass
class Area:
    row: Row
    practices: list[Practice]


def _delta(now: float, before: float | None) -> str:
    if before is None:
        return ""
    delta = round(now - before, 2)
    if abs(delta) < 0.05:
        return "="
    sign = "+" if delta > 0 else "−"
    return f"{sign}{fr_number(abs(delta))}"


def result_context(user: User, diagnosis: Diagnosis, *, with_plan: bool = True) -> dict[str, Any]:
    """Context of the result page: ~5 queries whatever the size of the data."""
    results = diagnosis.results
    previous = previous_diagnosis(diagnosis)
    previous_scores = previous.scores if previous else {}
    groups: list[PeerGroup] = peer_groups(diagnosis, minimum=peer_minimum(diagnosis.organisation))
    shown_groups = [g for g in groups if g.shown]

    rows = []
    for c in results["competencies"]:
        before = previous_scores.get(c["code"])
        rows.append(
            Row(
                code=c["code"],
                label=c["label"],
                short_label=c["short_label"],
                description=c["description"],
                score=c["score"],
                score_text=fr_number(c["score"]),
                previous=before,
                delta_text=_delta(c["score"], before),
                peers=[fr_number(g.medians.get(c["code"])) for g in shown_groups],
            )
        )
    by_code = {r.code: r for r in rows}

    ids = [pk for pks in results["recommendations"].values() for pk in pks]
    practices = {
        p.pk: p
        for p in practices_visible_to(user).filter(pk__in=ids).select_related("primary_theme")
    }
    areas = [
        Area(
            row=by_code[code],
            practices=[
                practices[pk] for pk in results["recommendations"].get(code, []) if pk in practices
            ],
        )
        for code in results["improvements"]
        if code in by_code
    ]

    series = [(_("Vos scores"), [r.score for r in rows], "series-self")]
    level_group = next((g for g in shown_groups if g.kind == "level"), None)
    if level_group is not None:
        series.append(
            (
                _("Médiane des managers de même niveau"),
                [level_group.medians.get(r.code) for r in rows],
                "series-peers",
            )
        )
    radar = charts.radar([r.short_label for r in rows], series)

    return {
        "diagnosis": diagnosis,
        "rows": rows,
        "overall_text": fr_number(diagnosis.overall),
        "strengths": [by_code[c] for c in results["strengths"] if c in by_code],
        "improvements": [by_code[c] for c in results["improvements"] if c in by_code],
        "areas": areas,
        "radar": radar,
        "synthesis_paragraphs": [p for p in diagnosis.synthesis.split("\n\n") if p.strip()],
        "previous": previous,
        "previous_overall_text": fr_number(previous.overall) if previous else "",
        "peer_groups": groups,
        "shown_groups": shown_groups,
        "open_answers": [a for a in results.get("open_answers", []) if a.get("answer")],
        "in_plan": practices_in_plan(user) if with_plan else set(),
        "questionnaire_title": results.get("questionnaire", {}).get("title", ""),
    }
