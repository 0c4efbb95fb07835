"""Reads of the mallette, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from campus.models import User
from mallette.models import Practice, PracticeStatus


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
        return practices_visible_to(user).select_related("primary_theme").get(pk=pk)
    except (Practice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
