from __future__ import annotations

import pytest
from django.urls import reverse

from campus.models import Level
from communities.models import (
    GroupKind,
    Membership,
    MembershipStatus,
    Notification,
)
from communities.selectors import directory, suggestions_for
from tests.communities.conftest import make_group

pytestmark = pytest.mark.django_db


def test_directory_lists_open_groups_and_own_closed_ones_only(
    manager, peer, stranger, group, closed_group
):
    client_groups = set(directory(stranger).values_list("name", flat=True))
    assert client_groups == {group.name}
    assert set(directory(peer).values_list("name", flat=True)) == {group.name, closed_group.name}


def test_directory_search_folds_accents_and_case(manager, group):
    make_group(manager, name="Équipes à distance")
    names = list(directory(manager, query="equipes").values_list("name", flat=True))
    assert names == ["Équipes à distance"]


def test_directory_page_shows_groups_counts_and_filters(client, manager, peer, group):
    make_group(manager, name="Télétravail et hybride", kind=GroupKind.CROSS_BRANCH)
    client.force_login(peer)
    response = client.get(reverse("communities:index"), {"kind": GroupKind.CROSS_BRANCH})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Télétravail et hybride" in content
    assert "1 groupe" in content
    assert "Vous n’avez encore rejoint" not in content  # peer is a member of ``group``


def test_directory_htmx_returns_the_fragment(client, manager, group):
    client.force_login(manager)
    response = client.get(reverse("communities:index"), {"q": "proximit"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert group.name.encode() in response.content


def test_outsider_sees_no_group_and_gets_404(client, outsider, group, closed_group):
    client.force_login(outsider)
    response = client.get(reverse("communities:index"))
    assert group.name not in response.content.decode()
    for g in (group, closed_group):
        assert client.get(reverse("communities:group", args=[g.slug])).status_code == 404
        assert (
            client.post(
                reverse("communities:group_join", args=[g.slug]), {"charter": "on"}
            ).status_code
            == 404
        )


def test_closed_group_is_404_for_non_members_of_the_organisation(client, stranger, closed_group):
    client.force_login(stranger)
    assert client.get(reverse("communities:group", args=[closed_group.slug])).status_code == 404
    assert (
        client.post(
            reverse("communities:group_join", args=[closed_group.slug]), {"charter": "on"}
        ).status_code
        == 404
    )


def test_join_requires_the_charter_and_keeps_the_page(client, stranger, group):
    client.force_login(stranger)
    url = reverse("communities:group_join", args=[group.slug])
    response = client.post(url, {})
    assert response.status_code == 400
    assert "Acceptez la charte" in response.content.decode()
    assert not Membership.objects.filter(group=group, user=stranger).exists()
    response = client.post(url, {"charter": "on"})
    assert response.status_code == 302
    membership = Membership.objects.get(group=group, user=stranger)
    assert membership.is_active and membership.charter_accepted_at is not None


def test_level_reserved_group_refuses_other_levels(client, manager, stranger):
    directors = make_group(manager, name="Directeurs", level=Level.DIRECTOR, kind=GroupKind.LEVEL)
    client.force_login(stranger)  # proximity manager
    client.post(reverse("communities:group_join", args=[directors.slug]), {"charter": "on"})
    assert not Membership.objects.filter(group=directors, user=stranger).exists()


def test_leave_group(client, peer, group):
    client.force_login(peer)
    response = client.post(reverse("communities:group_leave", args=[group.slug]))
    assert response.status_code == 302
    assert not Membership.objects.filter(group=group, user=peer).exists()


def test_moderator_invites_to_closed_group_and_invitee_accepts(
    client, manager, stranger, closed_group
):
    client.force_login(manager)
    response = client.post(
        reverse("communities:group_invite", args=[closed_group.slug]), {"email": stranger.email}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(group=closed_group, user=stranger)
    assert membership.status == MembershipStatus.INVITED
    assert Notification.objects.filter(user=stranger, kind="invitation").exists()
    client.force_login(stranger)
    page = client.get(reverse("communities:group", args=[closed_group.slug]))
    assert page.status_code == 200
    assert "Accepter l’invitation" in page.content.decode()
    assert "Les discussions de ce groupe sont réservées" in page.content.decode()
    client.post(reverse("communities:group_join", args=[closed_group.slug]), {"charter": "on"})
    membership.refresh_from_db()
    assert membership.is_active


def test_invite_rejects_unknown_and_other_organisation_emails(
    client, manager, outsider, closed_group
):
    client.force_login(manager)
    url = reverse("communities:group_invite", args=[closed_group.slug])
    for email in ("inconnu@campus.test", outsider.email, "pas-une-adresse"):
        response = client.post(url, {"email": email})
        assert response.status_code == 400
        assert email in response.content.decode()  # input kept
    assert not Membership.objects.filter(group=closed_group, user=outsider).exists()


def test_only_group_moderators_invite_or_edit(client, peer, group):
    client.force_login(peer)
    assert (
        client.post(
            reverse("communities:group_invite", args=[group.slug]), {"email": "x@y.z"}
        ).status_code
        == 404
    )
    assert client.get(reverse("communities:group_edit", args=[group.slug])).status_code == 404


def test_group_create_by_org_moderator_validates_in_french(client, manager):
    manager.roles = [*manager.roles, "moderator"]
    manager.save()
    client.force_login(manager)
    url = reverse("communities:group_create")
    response = client.post(
        url,
        {
            "name": "",
            "kind": "theme",
            "visibility": "open",
            "webhook_url": "http://exemple.org/hook",
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Donnez un nom au groupe." in content
    response = client.post(
        url, {"name": "Qualité de vie au travail", "kind": "theme", "visibility": "open"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(group__name="Qualité de vie au travail")
    assert membership.user == manager and membership.role == "moderator"


def test_plain_manager_cannot_create_groups(client, manager):
    client.force_login(manager)
    assert client.get(reverse("communities:group_create")).status_code == 404


def test_suggestions_prefer_level_and_organism(manager, stranger):
    mine = make_group(
        manager, name="CPAM locale", organism=stranger.organism, kind=GroupKind.ORGANISM
    )
    make_group(manager, name="Autre organisme", organism=manager.organism)
    make_group(manager, name="Stratèges", level=Level.STRATEGIC)
    names = [g.name for g in suggestions_for(stranger)]
    assert names[0] == mine.name
    assert "Stratèges" not in names


def test_group_list_with_many_groups_has_constant_queries(
    client, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    for i in range(30):
        make_group(manager, name=f"Groupe {i:03d}")
    url = reverse("communities:index")
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    for i in range(30, 90):
        make_group(manager, name=f"Groupe {i:03d}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def test_the_last_moderator_cannot_leave_a_group_that_still_has_members(
    client, manager, peer, group
):
    assert Membership.objects.filter(group=group, user=peer).exists()
    client.force_login(manager)  # the group's creator and only moderator
    response = client.post(reverse("communities:group_leave", args=[group.slug]), follow=True)
    assert "dernier modérateur" in response.content.decode()
    assert Membership.objects.filter(group=group, user=manager).exists()
