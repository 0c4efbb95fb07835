from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from communities import services
from communities.models import Membership, MembershipRole, ThreadState
from communities.services import CommunityError
from tests.communities.conftest import join
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


def _members_url(group) -> str:
    return reverse("communities:group_members", args=[group.slug])


def _action_url(name: str, group, membership) -> str:
    return reverse(f"communities:{name}", args=[group.slug, membership.pk])


def _membership(group, user) -> Membership:
    return Membership.objects.get(group=group, user=user)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- The page ------------------------------------------------------------------------------------


def test_member_sees_members_without_management_buttons(client, manager, peer, group):
    client.force_login(peer)
    response = client.get(_members_url(group))
    assert response.status_code == 200
    body = response.content.decode()
    assert peer.full_name in body and manager.full_name in body
    assert "Nommer modérateur" not in body


def test_moderator_sees_management_buttons_but_cannot_demote_the_last_moderator(
    client, manager, peer, group
):
    client.force_login(manager)
    body = client.get(_members_url(group)).content.decode()
    assert "Nommer modérateur" in body
    assert "Retirer le rôle de modérateur" not in body  # manager is the only moderator
    assert _action_url("member_promote", group, _membership(group, peer)) in body


def test_open_group_members_are_visible_to_a_non_member_of_the_organisation(
    client, stranger, group
):
    client.force_login(stranger)
    assert client.get(_members_url(group)).status_code == 200


def test_outsider_gets_404_on_the_members_page(client, outsider, group, closed_group):
    client.force_login(outsider)
    assert client.get(_members_url(group)).status_code == 404
    assert client.get(_members_url(closed_group)).status_code == 404


def test_non_member_gets_404_on_a_closed_group_members_page(client, stranger, closed_group):
    client.force_login(stranger)
    assert client.get(_members_url(closed_group)).status_code == 404


def test_anonymous_is_sent_to_login(client, group):
    response = client.get(_members_url(group))
    assert response.status_code == 302


def test_members_page_is_paginated_with_constant_queries(
    client, manager, group, django_assert_max_num_queries
):
    for i in range(55):
        join(group, ManagerFactory(organism=manager.organism, email=f"m{i}@campus.test"))
    client.force_login(manager)
    with django_assert_max_num_queries(15):
        first = client.get(_members_url(group))
    assert first.status_code == 200
    assert "Page 1 sur 2" in first.content.decode()
    second = client.get(_members_url(group), {"page": 2})
    assert second.status_code == 200
    assert second.content.decode().count('class="member-item"') == 57 - 50


# --- Promote, demote, remove ---------------------------------------------------------------------


def test_moderator_promotes_a_member(client, manager, peer, group):
    client.force_login(manager)
    target = _membership(group, peer)
    response = client.post(_action_url("member_promote", group, target))
    assert response.status_code == 302
    assert response["Location"] == _members_url(group)
    target.refresh_from_db()
    assert target.role == MembershipRole.MODERATOR
    assert any("modère désormais le groupe" in m for m in _messages(response))


def test_moderator_demotes_another_moderator(client, manager, peer, group):
    target = _membership(group, peer)
    target.role = MembershipRole.MODERATOR
    target.save()
    client.force_login(manager)
    response = client.post(_action_url("member_demote", group, target), {"page": "1"})
    assert response["Location"] == _members_url(group) + "?page=1"
    target.refresh_from_db()
    assert target.role == MembershipRole.MEMBER


def test_the_last_moderator_cannot_be_demoted(client, manager, group):
    client.force_login(manager)
    own = _membership(group, manager)
    response = client.post(_action_url("member_demote", group, own))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.role == MembershipRole.MODERATOR
    assert any("au moins un modérateur" in m for m in _messages(response))


def test_the_last_moderator_cannot_be_removed(client, manager, group):
    client.force_login(manager)
    own = _membership(group, manager)
    client.post(_action_url("member_remove", group, own))
    assert Membership.objects.filter(pk=own.pk).exists()


def test_a_moderator_may_step_down_when_another_remains(manager, peer, group):
    _membership(group, peer)
    services.member_promote(group=group, membership_id=_membership(group, peer).pk)
    services.member_demote(group=group, membership_id=_membership(group, manager).pk)
    assert _membership(group, manager).role == MembershipRole.MEMBER
    with pytest.raises(CommunityError):
        services.member_demote(group=group, membership_id=_membership(group, peer).pk)


def test_moderator_removes_a_member_who_stops_following_threads(
    client, manager, peer, group, thread
):
    ThreadState.objects.create(thread=thread, user=peer, following=True)
    client.force_login(manager)
    response = client.post(_action_url("member_remove", group, _membership(group, peer)))
    assert response.status_code == 302
    assert not Membership.objects.filter(group=group, user=peer).exists()
    assert not ThreadState.objects.get(thread=thread, user=peer).following
    assert any("retiré(e) du groupe" in m for m in _messages(response))


def test_promoting_a_moderator_again_explains_in_french(client, manager, peer, group):
    client.force_login(manager)
    own = _membership(group, manager)
    response = client.post(_action_url("member_promote", group, own), follow=True)
    assert response.status_code == 200
    assert "modère déjà le groupe" in response.content.decode()


@pytest.mark.parametrize("action", ["member_promote", "member_demote", "member_remove"])
def test_plain_member_gets_404_on_member_actions(client, manager, peer, group, action):
    client.force_login(peer)
    target = _membership(group, manager)
    assert client.post(_action_url(action, group, target)).status_code == 404
    target.refresh_from_db()
    assert target.role == MembershipRole.MODERATOR


@pytest.mark.parametrize("action", ["member_promote", "member_demote", "member_remove"])
def test_outsider_and_non_member_get_404_on_member_actions(
    client, outsider, stranger, peer, group, action
):
    target = _membership(group, peer)
    for user in (outsider, stranger):
        client.force_login(user)
        assert client.post(_action_url(action, group, target)).status_code == 404
    assert Membership.objects.filter(pk=target.pk, role=MembershipRole.MEMBER).exists()


def test_org_moderator_who_is_not_a_group_moderator_gets_404(client, manager, peer, group):
    """Organisation moderators moderate posts of open groups, not their membership."""
    org_moderator = ManagerFactory(organism=manager.organism, email="orgmod@campus.test")
    org_moderator.roles = [*org_moderator.roles, "moderator"]
    org_moderator.save()
    client.force_login(org_moderator)
    target = _membership(group, peer)
    assert client.post(_action_url("member_promote", group, target)).status_code == 404


def test_membership_of_another_group_gets_404(client, manager, peer, group, closed_group):
    client.force_login(manager)
    other = _membership(closed_group, peer)
    # manager moderates ``group``, but the id belongs to ``closed_group``: scoped, so 404.
    url = reverse("communities:member_promote", args=[group.slug, other.pk])
    assert client.post(url).status_code == 404


def test_member_actions_refuse_get(client, manager, peer, group):
    client.force_login(manager)
    assert (
        client.get(_action_url("member_remove", group, _membership(group, peer))).status_code == 405
    )


def test_group_page_links_to_members(client, manager, group):
    client.force_login(manager)
    body = client.get(reverse("communities:group", args=[group.slug])).content.decode()
    assert _members_url(group) in body
