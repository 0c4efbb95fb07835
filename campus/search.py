"""Hybrid search reusable by every app: French full text fused with pgvector by RRF.

A searchable model has a ``SearchVectorField`` (kept current by :func:`search_vector_update`
from a background job), a 384-dimension ``VectorField`` and a ``CharField`` recording which
embedding model produced the vector (:func:`embeddings_refresh` re-embeds stale rows).
:func:`search_indexes` gives it the GIN and HNSW indexes.

:func:`hybrid_search` takes a queryset that is *already filtered to what the user may see*:
both rankings run on it in SQL, so authorisation applies before ranking and a filtered query
still returns ``limit`` results (pgvector 0.8 iterative index scans keep the HNSW scan going
until enough rows pass the filter).

French text: the ``campus_french`` configuration (a copy of ``french``, Snowball stemmer) over
``campus_unaccent()``, an IMMUTABLE SQL function that folds accents. The ``unaccent``
extension is not available in every PostgreSQL (the embedded one lacks it); this function
behaves the same everywhere and can be used in generated columns and indexes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import F, Func, Model, QuerySet, TextField
from pgvector.django import CosineDistance, HnswIndex

SEARCH_CONFIG = "campus_french"
# Reciprocal-rank fusion constant (Cormack et al. 2009): damps the weight of top ranks so that
# a document ranked well by both methods beats one ranked first by only one.
RRF_K = 60
# Each method contributes this many candidates per requested result before fusion.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 40
# HNSW candidate list. Measured with 50,000 practices (bench/bench_mallette.py): unfiltered
# recall@10 is 0.85 at 40, 0.94 at 100, 0.98 at 200, while the vector query's p95 stays ~6 ms.
HNSW_EF_SEARCH = 200
# Up to this many visible rows, an exact scan (bitmap on the scope index, then a sort) beats an
# iterative HNSW scan: 9 ms vs 31 ms for 1,500 rows in the benchmark, and recall is exact.
EXACT_SCAN_MAX = 4000

_WORD = re.compile(r"\w+", re.UNICODE)


def unaccent(text: str) -> str:
    """Python twin of the SQL ``campus_unaccent()`` (queries are folded the same way)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Unaccent(Func):
    function = "campus_unaccent"
    output_field = TextField()


def search_indexes(
    prefix: str, *, text_field: str = "search_vector", vector_field: str = "embedding"
) -> list[Any]:
    """The two indexes a searchable model declares in ``Meta.indexes``."""
    return [
        GinIndex(fields=[text_field], name=f"{prefix}_fts"),
        HnswIndex(
            name=f"{prefix}_hnsw",
            fields=[vector_field],
            m=16,
            ef_construction=64,
            opclasses=["vector_cosine_ops"],
        ),
    ]


def search_vector_expression(weights: dict[str, str]) -> SearchVector:
    """``{"title": "A", "summary": "B", "body": "C"}`` → a weighted, unaccented tsvector."""
    vectors = [
        SearchVector(Unaccent(F(field)), config=SEARCH_CONFIG, weight=weight)
        for field, weight in weights.items()
    ]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


def search_vector_update(
    queryset: QuerySet, *, weights: dict[str, str], field: str = "search_vector"
) -> int:
    """Recompute the stored tsvector of every row of ``queryset`` in one UPDATE."""
    return queryset.update(**{field: search_vector_expression(weights)})


def embeddings_refresh(
    queryset: QuerySet,
    *,
    text_of: Callable[[Model], str],
    vector_field: str = "embedding",
    model_field: str = "embedding_model",
    batch_size: int = 128,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed rows whose vector is missing or comes from another model; returns rows updated.

    Run from a background job: switching ``CAMPUS_EMBEDDING_MODEL`` makes every stored vector
    stale, and this brings them back in batches.
    """
    from campus import ai

    model_id = ai.embedding_model_id()
    stale = queryset.exclude(**{model_field: model_id}) | queryset.filter(
        **{f"{vector_field}__isnull": True}
    )
    pks = list(stale.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(pks), batch_size):
        chunk = list(queryset.model._default_manager.filter(pk__in=pks[start : start + batch_size]))
        vectors = ai.embed([text_of(obj) for obj in chunk], kind="passage")
        for obj, vector in zip(chunk, vectors, strict=True):
            setattr(obj, vector_field, vector)
            setattr(obj, model_field, model_id)
        queryset.model._default_manager.bulk_update(chunk, [vector_field, model_field])
        done += len(chunk)
        if progress:
            progress(done, len(pks))
    return done


def text_query(query: str) -> SearchQuery | None:
    """An OR query over the question's words: a manager's question is a sentence, and
    requiring every word (websearch semantics) would find almost nothing. ``ts_rank_cd``
    then favours documents matching more words, and closer together."""
    words = _WORD.findall(unaccent(query).lower())
    words = [w for w in words if len(w) > 1 and not w.isdigit()]
    if not words:
        return None
    return SearchQuery(" | ".join(dict.fromkeys(words)), config=SEARCH_CONFIG, search_type="raw")


@dataclass
class SearchHit:
    obj: Any
    score: float
    text_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None  # cosine similarity to the query, when the vector ranked it


def hybrid_search(
    queryset: QuerySet,
    query: str,
    *,
    limit: int = 10,
    text_field: str = "search_vector",
    vector_field: str = "embedding",
    query_vector: Sequence[float] | None = None,
) -> list[SearchHit]:
    """Rank ``queryset`` (already scoped to the user) against ``query``; best first."""
    query = query.strip()
    if not query or limit <= 0:
        return []
    # Neither column is read from the hits; loading them for ~80 rows cost ~25 ms a search.
    queryset = queryset.defer(text_field, vector_field)
    candidates = max(MIN_CANDIDATES, limit * CANDIDATES_PER_RESULT)
    if query_vector is None:
        from campus import ai

        query_vector = ai.embed([query], kind="query")[0]

    by_pk: dict[Any, SearchHit] = {}

    tsquery = text_query(query)
    if tsquery is not None:
        text_rows = (
            queryset.filter(**{text_field: tsquery})
            .annotate(_rank=SearchRank(F(text_field), tsquery, cover_density=True))
            .order_by("-_rank", "pk")[:candidates]
        )
        for rank, obj in enumerate(text_rows, start=1):
            by_pk[obj.pk] = SearchHit(obj=obj, score=1.0 / (RRF_K + rank), text_rank=rank)

    exact = queryset.order_by()[: EXACT_SCAN_MAX + 1].count() <= EXACT_SCAN_MAX
    with transaction.atomic():
        _vector_scan_settings(candidates, exact=exact)
        vector_rows = list(
            queryset.exclude(**{f"{vector_field}__isnull": True})
            .annotate(_distance=CosineDistance(vector_field, list(query_vector)))
            .order_by("_distance", "pk")[:candidates]
        )
    # Iterative scans in relaxed order may return rows slightly out of order: re-sort.
    vector_rows.sort(key=lambda obj: (obj._distance, obj.pk))
    for rank, obj in enumerate(vector_rows, start=1):
        hit = by_pk.get(obj.pk)
        if hit is None:
            hit = by_pk[obj.pk] = SearchHit(obj=obj, score=0.0)
        hit.score += 1.0 / (RRF_K + rank)
        hit.vector_rank = rank
        hit.similarity = 1.0 - float(obj._distance)

    hits = sorted(by_pk.values(), key=lambda h: (-h.score, h.vector_rank or candidates + 1))
    return hits[:limit]


def _vector_scan_settings(candidates: int, *, exact: bool = False) -> None:
    """Transaction-local pgvector settings: enough HNSW candidates for ``candidates`` rows,
    and iterative scans so that SQL filters (authorisation, facets) do not starve the result.
    ``exact``: a small visible set is sorted exactly instead (index scans off; bitmap scans on
    the scope indexes stay available)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true)",
            [str(max(HNSW_EF_SEARCH, candidates))],
        )
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        if exact:
            cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")


@dataclass
class Fragment:
    text: str
    match: bool


def highlight(text: str, query: str, *, max_words: int = 40) -> list[Fragment]:
    """A snippet of ``text`` around the first words matching ``query``, split into fragments
    whose ``match`` flag the template renders as ``<mark>`` (auto-escaped, never ``|safe``).

    Matching folds accents and case and compares stems loosely (a shared prefix of five
    letters), like the French Snowball stemmer does for the full-text ranking.
    """
    keys = {_stem(w) for w in _WORD.findall(unaccent(query).lower()) if len(w) > 2}
    tokens = re.split(r"(\w+)", text)
    words_idx = [i for i in range(1, len(tokens), 2)]
    if not words_idx:
        return [Fragment(text, False)] if text else []
    matches = [i for i in words_idx if _stem(unaccent(tokens[i]).lower()) in keys]
    first = words_idx.index(matches[0]) if matches else 0
    lo = max(0, first - max_words // 3)
    hi = min(len(words_idx), lo + max_words)
    start_tok = words_idx[lo] if lo > 0 else 0
    end_tok = words_idx[hi - 1] + 1 if hi < len(words_idx) else len(tokens)
    fragments: list[Fragment] = []
    if lo > 0:
        fragments.append(Fragment("… ", False))
    for i in range(start_tok, end_tok):
        piece = tokens[i]
        if not piece:
            continue
        is_match = i % 2 == 1 and _stem(unaccent(piece).lower()) in keys
        if fragments and fragments[-1].match == is_match and fragments[-1].text != "… ":
            fragments[-1].text += piece
        else:
            fragments.append(Fragment(piece, is_match))
    if hi < len(words_idx):
        fragments.append(Fragment(" …", False))
    return fragments


def _stem(word: str) -> str:
    return word[:5]


def words_of(texts: Iterable[str]) -> set[str]:
    """Folded words of ``texts`` (for lexical-overlap checks such as the coach's)."""
    return {w for text in texts for w in _WORD.findall(unaccent(text).lower()) if len(w) > 2}
