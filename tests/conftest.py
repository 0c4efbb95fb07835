"""Shared fixtures: personas (manager, member, outsider, HR admin) on the embedded Postgres."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import (
    TEST_PASSWORD,
    CollaboratorFactory,
    HrAdminFactory,
    HrAnalystFactory,
    ManagerFactory,
    OrganisationFactory,
    OrganismFactory,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached sessions live in Redis: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


@pytest.fixture
def organism(db):
    return OrganismFactory()


@pytest.fixture
def manager(organism):
    return ManagerFactory(organism=organism, email="manager@campus.test", first_name="Camille")


@pytest.fixture
def member(manager):
    """A collaborator in the manager's team (n+1 = manager)."""
    return CollaboratorFactory(organism=manager.organism, manager=manager)


@pytest.fixture
def outsider(db):
    """A manager of another organisation: must never see the first organisation's objects."""
    other = OrganisationFactory(name="Autre institution", slug="autre")
    organism = OrganismFactory(branch__organisation=other, branch__code="autre")
    return ManagerFactory(organism=organism, email="outsider@autre.test")


@pytest.fixture
def hr_admin(organism):
    return HrAdminFactory(organism=organism, email="rh.admin@campus.test")


@pytest.fixture
def hr_analyst(organism):
    return HrAnalystFactory(organism=organism, email="rh.analyste@campus.test")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client
