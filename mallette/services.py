"""Writes of the mallette."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from campus import search
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.models import User
from mallette.models import (
    Comment,
    Practice,
    PracticeSource,
    PracticeStatus,
    PracticeUse,
    PracticeUseKind,
    Theme,
)

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


TEXT_FIELDS = ("title", "summary", "situation", "body", "pitfalls", "level", "anonymous")


def _unique_slug(title: str, *, organisation_id: int | None, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:90].strip("-") or "pratique"
    taken = set(
        Practice.objects.filter(organisation_id=organisation_id, slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _themes_set(practice: Practice, primary: Theme, second: Theme | None) -> None:
    practice.themes.set([primary, second] if second and second != primary else [primary])


@transaction.atomic
def practice_propose(*, author: User, data: dict[str, Any]) -> Practice:
    """A manager's proposal: in review, scoped to their organism until a moderator decides."""
    practice = Practice(
        organisation_id=author.organisation_id,
        organism_id=author.organism_id,
        author=author,
        source=PracticeSource.COMMUNITY,
        status=PracticeStatus.REVIEW,
        primary_theme=data["primary_theme"],
        slug=_unique_slug(data["title"], organisation_id=author.organisation_id),
        **{field: data[field] for field in TEXT_FIELDS},
    )
    practice.save()
    _themes_set(practice, data["primary_theme"], data.get("second_theme"))
    activity_record(user=author, feature=Feature.MALLETTE, action="contribute")
    return practice


@transaction.atomic
def practice_update(*, practice: Practice, data: dict[str, Any], editor: User) -> Practice:
    """A moderator's edit of a proposal; the new revision reaches the index via the beat job."""
    for field in TEXT_FIELDS:
        setattr(practice, field, data[field])
    practice.primary_theme = data["primary_theme"]
    practice.revision = F("revision") + 1
    practice.moderated_by = editor
    practice.moderated_at = timezone.now()
    practice.save()
    practice.refresh_from_db(fields=["revision"])
    _themes_set(practice, data["primary_theme"], data.get("second_theme"))
    return practice


@transaction.atomic
def practice_publish(*, practice: Practice, moderator: User, national: bool = False) -> Practice:
    """Publish a proposal, for its organism or, when ``national``, for the whole organisation."""
    now = timezone.now()
    practice.status = PracticeStatus.PUBLISHED
    practice.published_at = practice.published_at or now
    practice.moderated_by = moderator
    practice.moderated_at = now
    practice.rejection_reason = ""
    if national:
        practice.organism = None
    # A new revision makes the beat job (re-)index it for the search.
    practice.revision = F("revision") + 1
    practice.save()
    practice.refresh_from_db(fields=["revision"])
    return practice


@transaction.atomic
def practice_reject(*, practice: Practice, moderator: User, reason: str) -> Practice:
    practice.status = PracticeStatus.REJECTED
    practice.rejection_reason = reason.strip()
    practice.moderated_by = moderator
    practice.moderated_at = timezone.now()
    practice.save(
        update_fields=["status", "rejection_reason", "moderated_by", "moderated_at", "updated_at"]
    )
    return practice


@transaction.atomic
def practice_merge(*, practice: Practice, target: Practice, moderator: User) -> Practice:
    """A duplicate proposal is archived and points to the practice it was merged into."""
    if target.pk == practice.pk:
        raise ValueError("A practice cannot be merged into itself.")
    practice.status = PracticeStatus.ARCHIVED
    practice.merged_into = target
    practice.moderated_by = moderator
    practice.moderated_at = timezone.now()
    practice.save(
        update_fields=["status", "merged_into", "moderated_by", "moderated_at", "updated_at"]
    )
    return practice


@transaction.atomic
def practice_use_toggle(*, user: User, practice: Practice, kind: PracticeUseKind | str) -> bool:
    """Mark or unmark a practice as used / favourite; returns whether it is marked now."""
    deleted, _ = PracticeUse.objects.filter(user=user, practice=practice, kind=kind).delete()
    if deleted:
        return False
    PracticeUse.objects.get_or_create(user=user, practice=practice, kind=kind)
    return True


# --- Comments --------------------------------------------------------------------------------

# A person may post this many comments per window; beyond, the form explains and keeps the text.
COMMENT_RATE_LIMIT = 5
COMMENT_RATE_WINDOW_SECONDS = 600


class CommentRateLimited(Exception):
    """Too many comments in a short time (spam or a runaway script)."""


def _comment_rate_take(user: User) -> None:
    key = f"mallette:comment-rate:{user.pk}"
    cache.add(key, 0, timeout=COMMENT_RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=COMMENT_RATE_WINDOW_SECONDS)
        count = 1
    if count > COMMENT_RATE_LIMIT:
        raise CommentRateLimited


@transaction.atomic
def comment_create(*, author: User, practice: Practice, body: str) -> Comment:
    """Post a comment (raises :class:`CommentRateLimited` over the rate limit)."""
    _comment_rate_take(author)
    return Comment.objects.create(
        practice=practice,
        organisation_id=author.organisation_id,
        author=author,
        body=body.strip(),
    )


@transaction.atomic
def comment_update(*, comment: Comment, body: str) -> Comment:
    comment.body = body.strip()
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment) -> None:
    comment.delete()


@transaction.atomic
def comment_hide(*, comment: Comment, moderator: User, hidden: bool) -> Comment:
    """Hide a comment from the other managers (or show it again); its author still sees it."""
    comment.hidden = hidden
    comment.hidden_by = moderator if hidden else None
    comment.hidden_at = timezone.now() if hidden else None
    comment.save(update_fields=["hidden", "hidden_by", "hidden_at"])
    return comment
