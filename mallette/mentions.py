"""“Most evoked” detection: which practices the campus's texts talk about.

A periodic job (:func:`mentions_detect`) reads each registered source incrementally (a
watermark per source), embeds the new texts in batches as queries, and matches each text to
the published practices its author's organisation may see. A match is stored as a
:class:`~mallette.models.Mention` (practice, organisation, organism, opaque source reference,
day, similarity) — never the text. Texts on management that match nothing are kept as vectors
(:class:`~mallette.models.UnmatchedText`); when such texts recur (several people, same need),
:func:`mention_candidates_propose` turns them into a practice proposal in the moderation queue.

Adding a source is a few lines: a function returning the texts created after a watermark and
one returning the texts of given references, then :func:`source_register` (see the coach
source at the bottom of this module).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from pgvector.django import CosineDistance

from campus import ai
from mallette.models import (
    Mention,
    MentionSource,
    MentionWatermark,
    Practice,
    PracticeSource,
    PracticeStatus,
    Theme,
    UnmatchedText,
)

logger = logging.getLogger(__name__)

# --- Calibration -------------------------------------------------------------------------------
# Measured with bench/bench_mallette_mentions.py: the 416 editorial practices (passage
# embeddings of title, summary and situation, as indexed) against the 48 labelled questions of
# ../shared/eval/coach_dev.jsonl and the 8 of offtopic_dev.jsonl (query embeddings, bundled e5
# model). The e5 model squeezes cosines into a narrow band, so an absolute threshold alone is not
# enough; a text mentions at most MATCH_TOP practices, those within MATCH_MARGIN of its best one.
#
#   best cosine of a question   on-topic: min 0.873, p5 0.880, median 0.911, max 0.942
#                               off-topic: min 0.767, median 0.820, max 0.832
#   threshold 0.88, top 3, margin 0.01: 46/48 on-topic questions matched (96 %), 0/8 off-topic,
#   52 mentions (1.08 per question), 92 % of them share a theme with the question's labels.
#   (0.87: 48/48 but 90 %; 0.89: 42/48 at 98 %; without top/margin, 0.88 gives 4.3 mentions per
#   question of which 59 % on theme.)
MATCH_THRESHOLD = 0.88
MATCH_TOP = 3
MATCH_MARGIN = 0.01
# Below this best cosine a text is not about management at all (off-topic max 0.832): it is
# neither a mention nor a candidate for a new practice.
DOMAIN_FLOOR = 0.84
# Two unmatched texts express the same need above this cosine (query vs query). Paraphrases of
# one question score 0.97-0.98; pairs of coach_dev questions with different themes reach at most
# 0.939 (p99 0.917), same-theme pairs median 0.871: 0.94 joins rewordings, not neighbours.
CLUSTER_SIMILARITY = 0.94
CANDIDATE_MIN_TEXTS = 3
CANDIDATE_MIN_PEOPLE = 2
CANDIDATE_WINDOW_DAYS = 90
# Bounds the clustering work per organisation and run (the most recent texts win).
CANDIDATE_MAX_TEXTS = 2000

BATCH_SIZE = 64
MAX_BATCHES_PER_RUN = 50
# Rows are read only once they are this old: a transaction that committed late with an earlier
# created_at would otherwise fall behind the watermark and never be read.
SETTLE = timedelta(minutes=2)


# --- Sources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceText:
    """One text of a source: ``ref`` is opaque (``coach.exchange:123``); ``key`` is the integer
    that, with ``created_at``, orders the source and forms its watermark."""

    ref: str
    organisation_id: int
    organism_id: int | None
    text: str
    created_at: datetime
    key: int
    author_id: int | None = None


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # a MentionSource value; also the origin of proposals built from it
    #: ``after(created_at, key, before, limit)``: texts with (created_at, key) greater than the
    #: watermark and created_at < before, ordered by (created_at, key).
    after: Callable[[datetime | None, int, datetime, int], list[SourceText]]
    #: ``texts(refs)``: {ref: scrubbed text} for those still available (proposal building).
    texts: Callable[[Sequence[str]], dict[str, str]]


SOURCES: dict[str, Source] = {}


def source_register(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


def after_watermark(created_at: datetime | None, key: int) -> Q:
    """The ``Q`` a source applies to read past its watermark (fields ``created_at`` and pk)."""
    if created_at is None:
        return Q()
    return Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=key)


# --- Matching --------------------------------------------------------------------------------


def _scope(organisation_id: int, organism_id: int | None) -> Q:
    """The published practices people of this organisation (and organism) may see: the same
    rule as ``selectors.practices_visible_to``, for an author who is not a request user."""
    own = Q(organisation_id=organisation_id, organism__isnull=True)
    if organism_id:
        own |= Q(organisation_id=organisation_id, organism_id=organism_id)
    return Q(organisation__isnull=True) | own


@dataclass
class Match:
    practice_id: int
    similarity: float
    primary_theme_id: int


def practices_matching(
    vector: Sequence[float], *, organisation_id: int, organism_id: int | None
) -> list[Match]:
    """The closest published practices in scope (MATCH_TOP + 1 of them), best first."""
    queryset = (
        Practice.objects.filter(_scope(organisation_id, organism_id))
        .filter(status=PracticeStatus.PUBLISHED, embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", list(vector)))
        .order_by("distance", "pk")
        .values_list("pk", "distance", "primary_theme_id")[: MATCH_TOP + 1]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Keep the HNSW scan going until enough rows pass the scope filter.
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        rows = list(queryset)
    matches = [Match(pk, 1.0 - float(d), theme) for pk, d, theme in rows]
    matches.sort(key=lambda m: -m.similarity)
    return matches


def matches_kept(matches: list[Match]) -> list[Match]:
    """Calibrated rule: above MATCH_THRESHOLD, within MATCH_MARGIN of the best, MATCH_TOP max."""
    if not matches or matches[0].similarity < MATCH_THRESHOLD:
        return []
    best = matches[0].similarity
    return [
        m for m in matches[:MATCH_TOP] if m.similarity >= max(MATCH_THRESHOLD, best - MATCH_MARGIN)
    ]


def _author_key(author_id: int | None, ref: str) -> str:
    # Only equality matters ("two different people"); a keyed hash keeps the person unnamed.
    value = str(author_id) if author_id is not None else ref
    return salted_hmac("mallette.mentions.author", value).hexdigest()[:32]


@dataclass
class DetectReport:
    texts: int = 0
    mentions: int = 0
    unmatched: int = 0
    proposals: int = 0


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def source_detect(
    source: Source, *, now: datetime | None = None, max_batches: int = MAX_BATCHES_PER_RUN
) -> DetectReport:
    """Read ``source`` past its watermark, batch by batch; each batch's results and the new
    watermark are written in one transaction, so a crash re-reads at most one batch and the
    unique constraints make the re-read harmless."""
    report = DetectReport()
    before = (now or timezone.now()) - SETTLE
    for _batch in range(max_batches):
        mark, _created = MentionWatermark.objects.get_or_create(source=source.name)
        items = source.after(mark.last_created_at, mark.last_key, before, BATCH_SIZE)
        if not items:
            break
        # Texts a source skips (empty) still advance the watermark.
        readable = [item for item in items if item.text.strip()]
        vectors = (
            ai.embed([item.text for item in readable], kind="query", feature="mentions")
            if readable
            else []
        )
        mentions: list[Mention] = []
        unmatched: list[UnmatchedText] = []
        for item, vector in zip(readable, vectors, strict=True):
            candidates = practices_matching(
                vector, organisation_id=item.organisation_id, organism_id=item.organism_id
            )
            kept = matches_kept(candidates)
            day = _local_day(item.created_at)
            for m in kept:
                mentions.append(
                    Mention(
                        practice_id=m.practice_id,
                        organisation_id=item.organisation_id,
                        organism_id=item.organism_id,
                        source=source.kind,
                        source_ref=item.ref,
                        similarity=round(m.similarity, 4),
                        day=day,
                    )
                )
            best = candidates[0] if candidates else None
            if not kept and best is not None and best.similarity >= DOMAIN_FLOOR:
                unmatched.append(
                    UnmatchedText(
                        organisation_id=item.organisation_id,
                        organism_id=item.organism_id,
                        source=source.kind,
                        source_ref=item.ref,
                        author_key=_author_key(item.author_id, item.ref),
                        embedding=vector,
                        nearest_id=best.practice_id,
                        similarity=round(best.similarity, 4),
                        day=day,
                    )
                )
        last = items[-1]
        with transaction.atomic():
            Mention.objects.bulk_create(mentions, ignore_conflicts=True)
            UnmatchedText.objects.bulk_create(unmatched, ignore_conflicts=True)
            MentionWatermark.objects.filter(pk=mark.pk).update(
                last_created_at=last.created_at, last_key=last.key
            )
        report.texts += len(items)
        report.mentions += len(mentions)
        report.unmatched += len(unmatched)
        if len(items) < BATCH_SIZE:
            break
    return report


DETECT_LOCK = "mallette:mentions-detect:lock"
DETECT_LOCK_SECONDS = 30 * 60


def mentions_detect(*, now: datetime | None = None) -> DetectReport:
    """The periodic job: every source, then the candidate practices. A run still going (a big
    backlog) makes the next one a no-op rather than a second reader of the same batches."""
    total = DetectReport()
    if not cache.add(DETECT_LOCK, 1, timeout=DETECT_LOCK_SECONDS):
        logger.info("mentions: a detection is already running")
        return total
    try:
        _mentions_detect(total, now=now)
    finally:
        cache.delete(DETECT_LOCK)
    return total


def _mentions_detect(total: DetectReport, *, now: datetime | None) -> None:
    for source in SOURCES.values():
        report = source_detect(source, now=now)
        total.texts += report.texts
        total.mentions += report.mentions
        total.unmatched += report.unmatched
    total.proposals = mention_candidates_propose(now=now)
    if total.texts:
        logger.info(
            "mentions: %d texts, %d mentions, %d unmatched, %d proposals",
            total.texts,
            total.mentions,
            total.unmatched,
            total.proposals,
        )


# --- Candidate practices ----------------------------------------------------------------------


def _clusters(vectors: np.ndarray, assigned: list[bool]) -> list[list[int]]:
    """Greedy single pass: each unassigned text seeds a cluster of the unassigned texts within
    CLUSTER_SIMILARITY of it (texts are unit vectors: cosine = dot product)."""
    sims = vectors @ vectors.T
    taken = list(assigned)
    clusters = []
    for i in range(len(vectors)):
        if taken[i]:
            continue
        members = [
            j for j in range(len(vectors)) if not taken[j] and sims[i, j] >= CLUSTER_SIMILARITY
        ]
        for j in members:
            taken[j] = True
        clusters.append(members)
    return clusters


def mention_candidates_propose(*, now: datetime | None = None) -> int:
    """Turn recurring unmatched texts into proposals (status review) in the moderation queue.

    A text close to one already behind a proposal joins that proposal (so the next run never
    proposes the same need twice); the others are clustered; a cluster of CANDIDATE_MIN_TEXTS
    texts from CANDIDATE_MIN_PEOPLE people becomes a proposal. Returns how many were created.
    """
    since = _local_day(now or timezone.now()) - timedelta(days=CANDIDATE_WINDOW_DAYS)
    organisations = (
        UnmatchedText.objects.filter(proposal__isnull=True, day__gte=since)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    created = 0
    for organisation_id in list(organisations):
        created += _organisation_candidates(organisation_id, since)
    return created


def _organisation_candidates(organisation_id: int, since: date) -> int:
    rows = list(
        UnmatchedText.objects.filter(organisation_id=organisation_id, day__gte=since)
        .order_by("-day", "-pk")
        .values_list("pk", "embedding", "proposal_id", "author_key", "source", "nearest_id")[
            :CANDIDATE_MAX_TEXTS
        ]
    )
    if not any(r[2] is None for r in rows):
        return 0
    vectors = np.array([np.asarray(r[1], dtype=float) for r in rows])
    # Attach new texts to an existing proposal they resemble.
    attach: dict[int, int] = {}
    with_proposal = [i for i, r in enumerate(rows) if r[2] is not None]
    if with_proposal:
        sims = vectors @ vectors[with_proposal].T
        for i, r in enumerate(rows):
            if r[2] is None:
                j = int(np.argmax(sims[i]))
                if sims[i, j] >= CLUSTER_SIMILARITY:
                    attach[r[0]] = rows[with_proposal[j]][2]
    for pk, proposal_id in attach.items():
        UnmatchedText.objects.filter(pk=pk, proposal__isnull=True).update(proposal_id=proposal_id)
    assigned = [r[2] is not None or r[0] in attach for r in rows]
    created = 0
    for members in _clusters(vectors, assigned):
        people = {rows[i][3] for i in members}
        if len(members) < CANDIDATE_MIN_TEXTS or len(people) < CANDIDATE_MIN_PEOPLE:
            continue
        if candidate_propose(organisation_id=organisation_id, pks=[rows[i][0] for i in members]):
            created += 1
    return created


@transaction.atomic
def candidate_propose(*, organisation_id: int, pks: list[int]) -> Practice | None:
    """One proposal from unmatched texts, written from their scrubbed wording (fetched from the
    sources; nothing was copied). Rows already taken by a concurrent run are skipped."""
    texts = list(
        UnmatchedText.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=pks, proposal__isnull=True)
        .select_related("nearest")
        .order_by("day", "pk")
    )
    if len(texts) < CANDIDATE_MIN_TEXTS:
        return None
    wording: dict[str, str] = {}
    for source in SOURCES.values():
        refs = [t.source_ref for t in texts if t.source_ref.startswith(f"{source.name}:")]
        if refs:
            wording |= source.texts(refs)
    quotes = [" ".join(wording[t.source_ref].split()) for t in texts if t.source_ref in wording]
    if not quotes:
        return None
    organisms = {t.organism_id for t in texts}
    themes = Counter(t.nearest.primary_theme_id for t in texts if t.nearest is not None)
    theme_id = (
        themes.most_common(1)[0][0]
        if themes
        else Theme.objects.values_list("pk", flat=True).first()
    )
    origin = Counter(t.source for t in texts).most_common(1)[0][0]
    people = len({t.author_key for t in texts})
    title = Truncator(_("Besoin récurrent : %(text)s") % {"text": quotes[0]}).chars(150)
    from mallette.services import _unique_slug  # the same slug rule as manual proposals

    practice = Practice.objects.create(
        organisation_id=organisation_id,
        organism_id=organisms.pop() if len(organisms) == 1 else None,
        slug=_unique_slug(title, organisation_id=organisation_id),
        title=title,
        summary=Truncator(
            _(
                "%(people)d managers ont exprimé ce besoin, %(texts)d fois, sans qu’aucune "
                "pratique publiée n’y réponde. À rédiger par la modération."
            )
            % {"people": people, "texts": len(texts)}
        ).chars(400),
        situation=_("Les questions anonymisées qui ont fait émerger ce besoin :"),
        body="\n".join(f"- « {_markdown_plain(q)} »" for q in quotes[:10]),
        primary_theme_id=theme_id,
        source={
            MentionSource.COACH: PracticeSource.COACH,
            MentionSource.COMMUNITY: PracticeSource.COMMUNITY,
            MentionSource.FEEDBACK: PracticeSource.FEEDBACK,
        }[origin],
        status=PracticeStatus.REVIEW,
        anonymous=True,
    )
    practice.themes.set([theme_id])
    UnmatchedText.objects.filter(pk__in=[t.pk for t in texts]).update(proposal=practice)
    return practice


def _markdown_plain(text: str) -> str:
    """Quoted text must not become Markdown structure (links, emphasis, headings)."""
    out = []
    for ch in Truncator(text).chars(300):
        if ch in "\\`*_{}[]()#+-.!<>|~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


# --- The coach source -------------------------------------------------------------------------


def _coach_after(
    created_at: datetime | None, key: int, before: datetime, limit: int
) -> list[SourceText]:
    from coach.models import AnswerKind, Exchange

    rows = (
        Exchange.objects.filter(after_watermark(created_at, key), created_at__lt=before)
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "question_scrubbed",
            "created_at",
            "kind",
            "conversation__user_id",
            "conversation__user__organisation_id",
            "conversation__user__organism_id",
        )[:limit]
    )
    skipped = {AnswerKind.OFF_TOPIC, AnswerKind.SAFETY}
    items = []
    for pk, text, created, kind, user_id, org_id, organism_id in rows:
        # Off-topic and sensitive questions are returned empty: read, never matched.
        items.append(
            SourceText(
                ref=f"coach.exchange:{pk}",
                organisation_id=org_id,
                organism_id=organism_id,
                text="" if kind in skipped else (text or ""),
                created_at=created,
                key=pk,
                author_id=user_id,
            )
        )
    return items


def _coach_texts(refs: Sequence[str]) -> dict[str, str]:
    from coach.models import Exchange

    pks = [int(ref.rsplit(":", 1)[1]) for ref in refs]
    return {
        f"coach.exchange:{pk}": text
        for pk, text in Exchange.objects.filter(pk__in=pks).values_list("pk", "question_scrubbed")
    }


source_register(
    Source(name="coach.exchange", kind=MentionSource.COACH, after=_coach_after, texts=_coach_texts)
)


def sources_reset(*, names: Sequence[str] | None = None) -> int:
    """Forget watermarks (re-read from the start; stored mentions are kept, no duplicate)."""
    qs = MentionWatermark.objects.all()
    if names is not None:
        qs = qs.filter(source__in=names)
    return qs.delete()[0]
