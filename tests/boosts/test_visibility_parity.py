"""``selectors.is_visible_to`` (one boost, decided in Python: the live room's access check)
must agree with ``selectors.boosts_visible_to`` (the SQL used by the lists) on every kind of
case: audience by level, branch, organism and community, pending invitations, hosts, HR
admins, registrations kept, cancelled or on the waiting list, other organisations."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from boosts.models import Boost, Registration, RegistrationStatus
from boosts.selectors import boosts_visible_to, get_boost_for_user, is_visible_to
from campus.models import Level, Role
from communities.models import Group, Membership, MembershipStatus
from tests.factories import BranchFactory, ManagerFactory, OrganisationFactory, OrganismFactory

pytestmark = pytest.mark.django_db


def pick(rng: random.Random, values: list, at_most: int) -> list:
    return rng.sample(values, rng.randint(0, min(at_most, len(values))))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_python_and_sql_visibility_agree(seed):
    rng = random.Random(seed)
    org = OrganisationFactory(slug=f"org-{seed}", name=f"Org {seed}")
    other = OrganisationFactory(slug=f"autre-{seed}", name=f"Autre {seed}")
    branches = [BranchFactory(organisation=org, code=f"b{i}") for i in range(2)]
    organisms = [OrganismFactory(branch=branches[i % 2]) for i in range(3)]
    foreign_organism = OrganismFactory(branch=BranchFactory(organisation=other, code="x"))
    groups = [
        Group.objects.create(organisation=org, name=f"G{i}", slug=f"g{seed}-{i}") for i in range(2)
    ]
    foreign_group = Group.objects.create(organisation=other, name="GX", slug=f"gx-{seed}")
    levels = [value for value, _label in Level.choices]
    people = []
    for i in range(14):
        organism = foreign_organism if i >= 12 else rng.choice([*organisms, None])
        roles = [Role.MANAGER] + ([Role.HR_ADMIN] if rng.random() < 0.15 else [])
        kwargs = {"organism": organism} if organism else {"organism": organisms[0]}
        person = ManagerFactory(roles=roles, level=rng.choice([*levels, ""]), **kwargs)
        if organism is None:  # somebody without an organism in the directory
            type(person).objects.filter(pk=person.pk).update(organism=None)
            person.refresh_from_db()
        for group in [*groups, foreign_group]:
            if rng.random() < 0.4:
                status = rng.choice([MembershipStatus.ACTIVE, MembershipStatus.INVITED])
                Membership.objects.create(group=group, user=person, status=status)
        people.append(person)
    start = timezone.now() + timedelta(days=2)
    boosts = []
    for i in range(30):
        foreign = i >= 27
        boost = Boost.objects.create(
            organisation=other if foreign else org,
            host=rng.choice(people),
            title=f"B{i}",
            description="-",
            starts_at=start + timedelta(hours=i),
            capacity=10,
            meeting_url="https://teams.example.test/r",
            audience_levels=pick(rng, levels, 2),
            audience_branch_ids=[b.pk for b in pick(rng, branches, 1)],
            audience_organism_ids=[o.pk for o in pick(rng, organisms, 2)],
        )
        boost.audience_communities.set(pick(rng, [foreign_group] if foreign else groups, 2))
        for person in pick(rng, people, 4):
            Registration.objects.create(
                boost=boost, user=person, status=rng.choice(list(RegistrationStatus))
            )
        boosts.append(boost)
    agreed = shown = 0
    for person in people:
        person = type(person).objects.get(pk=person.pk)
        visible = set(boosts_visible_to(person).values_list("pk", flat=True))
        for boost in boosts:
            assert is_visible_to(boost, person) == (boost.pk in visible), (person, boost)
            agreed += 1
            shown += boost.pk in visible
            if boost.pk in visible:
                assert get_boost_for_user(person, boost.pk).pk == boost.pk
            else:
                with pytest.raises(Http404):
                    get_boost_for_user(person, boost.pk)
    # The random cases are not degenerate: some boosts are visible, some are not.
    assert agreed == 14 * 30 and 0 < shown < agreed


@pytest.mark.parametrize("bad", ["abc", None, "", "9999999"])
def test_get_boost_for_user_refuses_bad_ids_with_404(bad):
    person = ManagerFactory()
    with pytest.raises(Http404):
        get_boost_for_user(person, bad)
