"""Writes of the mallette."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, QuerySet

from campus import search
from mallette.models import Practice

SEARCH_WEIGHTS = {"title": "A", "summary": "B", "situation": "C", "body": "C"}


def practices_index(
    *,
    queryset: QuerySet[Practice] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Bring the full-text vectors and embeddings of changed practices up to date.

    Cheap when nothing changed (one query each). Returns how many practices were re-indexed.
    """
    qs = queryset if queryset is not None else Practice.objects.all()
    stale = qs.exclude(indexed_revision=F("revision"))
    pks = list(stale.values_list("pk", flat=True))
    if pks:
        search.search_vector_update(Practice.objects.filter(pk__in=pks), weights=SEARCH_WEIGHTS)
        # A text change makes the embedding stale too: clear it so embeddings_refresh redoes it.
        Practice.objects.filter(pk__in=pks).update(embedding_model="")
    embedded = search.embeddings_refresh(qs, text_of=Practice.index_text, progress=progress)
    if pks:
        Practice.objects.filter(pk__in=pks).update(indexed_revision=F("revision"))
    return max(len(pks), embedded)
