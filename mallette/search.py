"""Search of the mallette: the campus hybrid search on what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from campus.models import Organisation
from campus.search import SearchHit, hybrid_search
from mallette.models import Practice, PracticeStatus, Theme
from mallette.services import practices_index


def practices_search(
    queryset: QuerySet[Practice], question: str, *, limit: int = 10
) -> list[SearchHit]:
    """Rank ``queryset`` (already scoped to the user and the chosen filters) for ``question``."""
    queryset = queryset.select_related("primary_theme").prefetch_related(
        Prefetch("themes", queryset=Theme.objects.order_by("position"))
    )
    return hybrid_search(queryset, question, limit=limit)


def theme_slugs(practice: Practice) -> list[str]:
    """Primary theme first, then the others."""
    others = [t.slug for t in practice.themes.all() if t.pk != practice.primary_theme_id]
    return [practice.primary_theme.slug, *others]


def search_practices(
    question: str, limit: int = 5, *, organisation: Organisation | None = None
) -> list[dict[str, Any]]:
    """Published practices ranked for ``question``: ``[{"id", "title", "themes", "score"}]``.

    The editorial library, plus ``organisation``'s national practices when given. Used by
    ``manage.py mallette_search`` and the evaluation harness; brings the index up to date
    first (a no-op when nothing changed).
    """
    scope = Q(organisation__isnull=True)
    if organisation is not None:
        scope |= Q(organisation=organisation, organism__isnull=True)
    practices_index(queryset=Practice.objects.filter(scope))
    queryset = Practice.objects.filter(scope, status=PracticeStatus.PUBLISHED)
    return [
        {
            "id": hit.obj.pk,
            "title": hit.obj.title,
            "themes": theme_slugs(hit.obj),
            "score": round(hit.score, 6),
        }
        for hit in practices_search(queryset, question, limit=limit)
    ]
