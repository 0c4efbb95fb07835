"""Reads of the coach, always scoped to the conversation's owner."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from campus.models import Role, User
from coach.models import AnswerKind, Conversation, Exchange
from mallette.models import Practice, Theme
from mallette.selectors import practices_visible_to

#: HR sees a theme of coach questions only when this many different managers asked about it.
TOPICS_MIN_PEOPLE = 10
TOPICS_DAYS = 90


def conversations_of(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).order_by("-updated_at", "-pk")


def get_conversation_for_user(user: User, pk: object) -> Conversation:
    """The user's own conversation; anyone else (HR admins included) gets a 404."""
    try:
        return conversations_of(user).get(pk=pk)
    except (Conversation.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


def get_exchange_for_user(user: User, pk: object) -> Exchange:
    try:
        return Exchange.objects.select_related("conversation").get(
            pk=int(str(pk)), conversation__user=user
        )
    except (Exchange.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def cited_practices(user: User, exchanges: list[Exchange]) -> dict[int, Practice]:
    """The practices the exchanges cite that the user may still see, in one query."""
    ids = {pk for exchange in exchanges for pk in exchange.source_ids}
    if not ids:
        return {}
    return {
        p.pk: p for p in practices_visible_to(user).filter(pk__in=ids).only("pk", "title", "slug")
    }


def can_see_topics(user: User) -> bool:
    return user.is_authenticated and (user.is_hr_admin or user.has_role(Role.HR_ANALYST))


def coach_topics(user: User, *, days: int = TOPICS_DAYS) -> dict[str, object]:
    """Questions to the coach by theme in the user's organisation: counts of questions and of
    distinct managers, only for themes at least ``min_people`` managers asked about. No
    question text, no person: aggregates only."""
    if not can_see_topics(user):
        raise Http404
    organisation = user.organisation
    min_people = max(TOPICS_MIN_PEOPLE, organisation.analytics_min_people or 0)
    since = timezone.now() - timedelta(days=days)
    rows = (
        Exchange.objects.filter(
            conversation__user__organisation=organisation,
            created_at__gte=since,
            kind__in=[AnswerKind.ANSWER, AnswerKind.SAFETY],
        )
        .exclude(theme_slug="")
        .values("theme_slug")
        .annotate(questions=Count("pk"), people=Count("conversation__user", distinct=True))
    )
    labels = dict(Theme.objects.values_list("slug", "label"))
    shown = []
    hidden = 0
    for row in rows:
        if row["people"] >= min_people:
            shown.append(
                {
                    "slug": row["theme_slug"],
                    "label": labels.get(row["theme_slug"], row["theme_slug"]),
                    "questions": row["questions"],
                    "people": row["people"],
                }
            )
        else:
            hidden += 1
    shown.sort(key=lambda r: (-r["questions"], r["label"]))
    return {"rows": shown, "hidden_themes": hidden, "min_people": min_people, "days": days}
