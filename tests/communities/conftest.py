from __future__ import annotations

import pytest

from communities import services
from communities.models import Group, GroupVisibility, Membership, MembershipRole
from communities.selectors import GroupAccess
from mallette.models import Practice, PracticeStatus, Theme
from tests.factories import ManagerFactory, OrganismFactory


@pytest.fixture
def peer(manager):
    """A manager of another organism of the same organisation."""
    organism = OrganismFactory(branch=manager.organism.branch)
    return ManagerFactory(organism=organism, email="pair@campus.test", first_name="Dominique")


@pytest.fixture
def stranger(manager):
    """A manager of the same organisation, in another organism, member of no group."""
    organism = OrganismFactory(branch=manager.organism.branch)
    return ManagerFactory(organism=organism, email="etranger@campus.test", first_name="Alex")


def make_group(creator, *, name="Managers de proximité", visibility=GroupVisibility.OPEN, **extra):
    data = {"name": name, "description": "Entre pairs.", "visibility": visibility, **extra}
    return services.group_create(creator=creator, data=data)


def join(group, user, role=MembershipRole.MEMBER):
    return Membership.objects.create(group=group, user=user, role=role)


def access_of(user, group) -> GroupAccess:
    return GroupAccess(
        group=group, membership=Membership.objects.filter(group=group, user=user).first()
    )


@pytest.fixture
def group(manager, peer) -> Group:
    """An open group moderated by ``manager`` with ``peer`` as a member."""
    g = make_group(manager)
    join(g, peer)
    return g


@pytest.fixture
def closed_group(manager, peer) -> Group:
    g = make_group(manager, name="Cercle des directeurs", visibility=GroupVisibility.CLOSED)
    join(g, peer)
    return g


@pytest.fixture
def thread(group, manager):
    return services.thread_create(
        access=access_of(manager, group),
        author=manager,
        title="Comment déléguer sans tout contrôler ?",
        body="Je cherche des idées pour **déléguer** un dossier complexe.",
    )


@pytest.fixture
def closed_thread(closed_group, manager):
    return services.thread_create(
        access=access_of(manager, closed_group),
        author=manager,
        title="Réorganisation confidentielle",
        body="Entre nous : la réorganisation du service.",
    )


@pytest.fixture
def practice(db):
    theme = Theme.objects.order_by("position").first()
    p = Practice.objects.create(
        organisation=None,
        slug="tester-une-pratique-communautes",
        title="Tenir un point d’équipe hebdomadaire",
        summary="Un point court chaque semaine.",
        body="- Fixez l’heure.",
        primary_theme=theme,
        status=PracticeStatus.PUBLISHED,
    )
    p.themes.set([theme])
    return p
