from __future__ import annotations

import pytest

from boosts.demo import demo_boosts_seed
from boosts.models import Boost
from campus.models import Role
from tests.factories import HrAdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_makes_the_admin_a_host(organism):
    admin = HrAdminFactory(organism=organism)
    for _ in range(6):
        ManagerFactory(organism=organism)
    assert demo_boosts_seed(organism.organisation) == 5
    assert demo_boosts_seed(organism.organisation) == 0
    assert Boost.objects.count() == 5
    admin.refresh_from_db()
    assert Role.BOOST_HOST in admin.roles
