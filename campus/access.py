"""Access helpers: every object reaches a view through one of these, scoped to the user.

Outsiders get ``Http404`` (never 403) so that the existence of an object is not revealed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from campus.models import Job, Organism, Team, User


def people_visible_to(user: User) -> QuerySet[User]:
    """The directory a signed-in person may browse: their own organisation."""
    return User.objects.filter(organisation_id=user.organisation_id, is_active=True)


def get_person_for_user(user: User, pk: int) -> User:
    try:
        return people_visible_to(user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_team_for_user(user: User, pk: int) -> Team:
    try:
        return Team.objects.select_related("organism", "manager").get(
            pk=pk, organism__organisation_id=user.organisation_id
        )
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_organism_for_user(user: User, pk: int) -> Organism:
    try:
        return Organism.objects.select_related("branch").get(
            pk=pk, organisation_id=user.organisation_id
        )
    except (Organism.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_job_for_user(user: User, pk: object) -> Job:
    """A job is visible to its owner only."""
    try:
        return Job.objects.get(pk=pk, owner=user)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None
