"""Community helpers shared by the boosts tests (audience by community, catalogue filter)."""

from __future__ import annotations

from django.test import Client

from communities.models import Group, GroupVisibility, Membership, MembershipStatus


def make_group(organisation, name: str, *, visibility=GroupVisibility.OPEN) -> Group:
    slug = name.lower().replace(" ", "-")
    return Group.objects.create(
        organisation=organisation, name=name, slug=slug, visibility=visibility
    )


def join(group: Group, user, status=MembershipStatus.ACTIVE) -> Membership:
    return Membership.objects.create(group=group, user=user, status=status)


def client_of(user) -> Client:
    c = Client()
    c.force_login(user)
    return c
