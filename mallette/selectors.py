"""Reads of the mallette, always scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from campus.models import Role, User
from campus.search import SearchHit, hybrid_search
from mallette.models import (
    Comment,
    Mention,
    Practice,
    PracticeSource,
    PracticeStatus,
    PracticeUse,
    PracticeUseKind,
)

# Cosine similarity (question-style embedding of the proposal against the stored passages)
# above which a proposal is flagged as a probable duplicate. Calibrated on the 416 practices
# of the editorial corpus with the bundled e5 model: a practice's own text scores 0.958 to
# 0.99 against itself (0.94 at the 5th percentile with its title and summary alone), while
# its nearest *other* practice never exceeds 0.930 (0.923 at the 99th percentile).
DUPLICATE_SIMILARITY = 0.94
SIMILAR_LIMIT = 4


def practices_visible_to(user: User) -> QuerySet[Practice]:
    """Published practices the user may read: the editorial library, their organisation's
    national practices and their own organism's."""
    own = Q(organisation_id=user.organisation_id) & Q(organism__isnull=True)
    if user.organism_id:
        own |= Q(organisation_id=user.organisation_id, organism_id=user.organism_id)
    return Practice.objects.filter(
        Q(organisation__isnull=True) | own, status=PracticeStatus.PUBLISHED
    )


def get_practice_for_user(user: User, pk: object) -> Practice:
    try:
        return practices_visible_to(user).select_related("primary_theme", "author").get(pk=pk)
    except (Practice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_moderate(user: User) -> bool:
    """Moderators and HR admins moderate the proposals of their own organisation."""
    return user.is_authenticated and (user.has_role(Role.MODERATOR) or user.is_hr_admin)


def practices_in_review_for(user: User) -> QuerySet[Practice]:
    """Proposals awaiting review in the moderator's organisation, oldest first."""
    if not can_moderate(user):
        raise Http404
    return (
        Practice.objects.filter(status=PracticeStatus.REVIEW, organisation_id=user.organisation_id)
        .select_related("primary_theme", "author", "organism")
        .prefetch_related("themes")
        .order_by("created_at", "pk")
    )


def get_proposal_for_moderator(user: User, pk: object) -> Practice:
    try:
        return practices_in_review_for(user).get(pk=pk)
    except (Practice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def contributions_of(user: User) -> QuerySet[Practice]:
    return (
        Practice.objects.filter(author=user, source=PracticeSource.COMMUNITY)
        .select_related("primary_theme", "merged_into")
        .order_by("-created_at", "-pk")
    )


def favourites_of(user: User) -> QuerySet[Practice]:
    """The user's favourites among the practices they may still see, latest first."""
    return (
        practices_visible_to(user)
        .filter(uses__user=user, uses__kind=PracticeUseKind.FAVOURITE)
        .select_related("primary_theme")
        .order_by("-uses__created_at")
    )


@dataclass
class Usage:
    users: int
    favourites: int
    used: bool
    favourite: bool


def practice_usage(practice: Practice, user: User) -> Usage:
    """Counts and the user's own marks, in one query whatever the number of uses."""
    mine = Q(user_id=user.pk)
    row: dict[str, Any] = PracticeUse.objects.filter(practice=practice).aggregate(
        users=Count("pk", filter=Q(kind=PracticeUseKind.USE)),
        favourites=Count("pk", filter=Q(kind=PracticeUseKind.FAVOURITE)),
        used=Count("pk", filter=mine & Q(kind=PracticeUseKind.USE)),
        favourite=Count("pk", filter=mine & Q(kind=PracticeUseKind.FAVOURITE)),
    )
    return Usage(
        users=row["users"],
        favourites=row["favourites"],
        used=bool(row["used"]),
        favourite=bool(row["favourite"]),
    )


@dataclass
class Similar:
    practice: Practice
    similarity: float
    duplicate: bool


def similar_practices(
    user: User,
    text: str,
    *,
    exclude_pk: int | None = None,
    query_vector: list[float] | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Similar]:
    """Published practices the user may see that resemble ``text`` (a proposal), best first;
    ``duplicate`` marks the ones similar enough to be the same practice."""
    scoped = practices_visible_to(user).select_related("primary_theme")
    if exclude_pk is not None:
        scoped = scoped.exclude(pk=exclude_pk)
    hits: list[SearchHit] = hybrid_search(scoped, text, limit=limit, query_vector=query_vector)
    similar = [
        Similar(
            practice=h.obj,
            similarity=h.similarity or 0.0,
            duplicate=(h.similarity or 0.0) >= DUPLICATE_SIMILARITY,
        )
        for h in hits
    ]
    # Most similar first: the duplicate warning names the closest practice.
    similar.sort(key=lambda s: -s.similarity)
    return similar


# --- Comments --------------------------------------------------------------------------------


def comments_visible_to(user: User, practice: Practice) -> QuerySet[Comment]:
    """The comments on ``practice`` (already loaded through an access helper) written in the
    user's organisation. Hidden ones: moderators see them all, authors their own."""
    qs = Comment.objects.filter(practice=practice, organisation_id=user.organisation_id)
    if not can_moderate(user):
        qs = qs.filter(Q(hidden=False) | Q(author=user))
    return qs.select_related("author").order_by("-created_at", "-pk")


def get_comment_for_author(user: User, pk: object) -> Comment:
    """One of the user's own comments, on a practice they may still see."""
    try:
        return Comment.objects.select_related("practice").get(
            pk=pk, author=user, practice__in=practices_visible_to(user)
        )
    except (Comment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_comment_for_moderator(user: User, pk: object) -> Comment:
    """A comment of the moderator's organisation, on a practice they may see."""
    if not can_moderate(user):
        raise Http404
    try:
        return Comment.objects.select_related("practice").get(
            pk=pk, organisation_id=user.organisation_id, practice__in=practices_visible_to(user)
        )
    except (Comment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- Mentions ("most evoked") ----------------------------------------------------------------

MENTION_PERIODS = (30, 90)


class MentionScope:
    ORGANISM = "organisme"
    NATIONAL = "national"


def _mentions_since(days: int, *, today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=days - 1)


def mention_filter(user: User, *, days: int, scope: str, today: date | None = None) -> Q:
    """Mentions (as seen from Practice) of the user's organisation over ``days`` days; with
    scope ``organisme``, of their organism only. Never other organisations' texts."""
    q = Q(
        mentions__organisation_id=user.organisation_id,
        mentions__day__gte=_mentions_since(days, today=today),
    )
    if scope == MentionScope.ORGANISM:
        q &= Q(mentions__organism_id=user.organism_id)
    return q


def practices_most_evoked(
    user: User, *, days: int, scope: str, theme: str = "", today: date | None = None
) -> QuerySet[Practice]:
    """Practices the user may see, ranked by their mentions over the period (most first)."""
    mentioned = mention_filter(user, days=days, scope=scope, today=today)
    qs = practices_visible_to(user)
    if theme:
        qs = qs.filter(primary_theme__slug=theme)
    return (
        qs.annotate(mention_count=Count("mentions", filter=mentioned))
        .filter(mention_count__gt=0)
        .select_related("primary_theme")
        .order_by("-mention_count", "title", "pk")
    )


@dataclass
class MentionCounts:
    organisation_30: int
    organisation_90: int
    organism_30: int
    organism_90: int


def practice_mention_counts(
    practice: Practice, user: User, *, today: date | None = None
) -> MentionCounts:
    """How often the practice was evoked in the user's organisation and organism (one query)."""
    d30, d90 = _mentions_since(30, today=today), _mentions_since(90, today=today)
    mine = Q(organism_id=user.organism_id) if user.organism_id else Q(pk__in=[])
    row = Mention.objects.filter(
        practice=practice, organisation_id=user.organisation_id, day__gte=d90
    ).aggregate(
        organisation_30=Count("pk", filter=Q(day__gte=d30)),
        organisation_90=Count("pk"),
        organism_30=Count("pk", filter=mine & Q(day__gte=d30)),
        organism_90=Count("pk", filter=mine),
    )
    return MentionCounts(**row)
