from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from boosts.models import Boost
from campus.models import Role
from communities.models import GroupVisibility
from mallette.models import Theme
from tests.boosts.groups import make_group
from tests.factories import ManagerFactory

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks queued on commit run in-process, so emails land in ``mail.outbox``."""
    from campus.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def host(organism):
    return ManagerFactory(
        organism=organism,
        email="animatrice@campus.test",
        first_name="Aline",
        last_name="Hôte",
        roles=[Role.MANAGER, Role.BOOST_HOST],
    )


@pytest.fixture
def make_boost(host):
    def make(**fields) -> Boost:
        fields.setdefault("starts_at", timezone.now() + timedelta(days=3))
        fields.setdefault("title", "Donner du feedback, ça s’apprend")
        fields.setdefault("description", "Une masterclass de 45 minutes.")
        fields.setdefault("capacity", 10)
        fields.setdefault("meeting_url", "https://teams.example.test/r/1")
        themes = fields.pop("themes", None)
        boost = Boost.objects.create(
            organisation=host.organisation, host=fields.pop("host", host), **fields
        )
        boost.themes.set(themes if themes is not None else list(Theme.objects.all()[:1]))
        return boost

    return make


@pytest.fixture
def boost(make_boost):
    return make_boost()


@pytest.fixture
def live_boost(make_boost):
    return make_boost(starts_at=timezone.now() - timedelta(minutes=5))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def pilots(organism):
    return make_group(organism.organisation, "Pilotes du changement")


@pytest.fixture
def circle(organism):
    """A closed group."""
    return make_group(
        organism.organisation, "Cercle des directeurs", visibility=GroupVisibility.CLOSED
    )
