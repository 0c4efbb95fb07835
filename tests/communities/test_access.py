"""Every view of a closed group's objects answers 404 to non-members and other organisations."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _urls(closed_group, closed_thread):
    post = closed_thread.posts.get()
    get = [
        reverse("communities:group", args=[closed_group.slug]),
        reverse("communities:group_edit", args=[closed_group.slug]),
        reverse("communities:thread_create", args=[closed_group.slug]),
        reverse("communities:thread", args=[closed_thread.pk]),
        reverse("communities:post", args=[post.pk]),
        reverse("communities:post_edit", args=[post.pk]),
        reverse("communities:post_delete", args=[post.pk]),
        reverse("communities:post_report", args=[post.pk]),
        reverse("communities:post_share", args=[post.pk]),
        reverse("communities:post_hide", args=[post.pk]),
    ]
    post_only = [
        reverse("communities:group_join", args=[closed_group.slug]),
        reverse("communities:group_leave", args=[closed_group.slug]),
        reverse("communities:group_invite", args=[closed_group.slug]),
        reverse("communities:reply", args=[closed_thread.pk]),
        reverse("communities:follow", args=[closed_thread.pk]),
        reverse("communities:summarise", args=[closed_thread.pk]),
        reverse("communities:react", args=[post.pk, "like"]),
        reverse("communities:post_restore", args=[post.pk]),
        reverse("communities:reports_dismiss", args=[post.pk]),
    ]
    return get, post_only


@pytest.mark.parametrize("who", ["stranger", "outsider"])
def test_closed_group_objects_are_404_for_non_members(
    client, request, who, closed_group, closed_thread
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    get, post_only = _urls(closed_group, closed_thread)
    for url in get:
        assert client.get(url).status_code == 404, url
    read_only = {
        reverse("communities:group", args=[closed_group.slug]),
        reverse("communities:thread", args=[closed_thread.pk]),
        reverse("communities:post", args=[closed_thread.posts.get().pk]),
    }
    for url in [u for u in get if u not in read_only] + post_only:
        assert (
            client.post(url, {"body": "x", "charter": "on", "reason": "spam"}).status_code == 404
        ), url


def test_closed_group_content_absent_from_search_and_notifications(client, stranger, closed_thread):
    client.force_login(stranger)
    response = client.get(reverse("communities:search"), {"q": "réorganisation"})
    assert response.status_code == 200
    assert "Réorganisation confidentielle" not in response.content.decode()


def test_anonymous_is_sent_to_login(client, closed_thread):
    response = client.get(reverse("communities:thread", args=[closed_thread.pk]))
    assert response.status_code == 302
    assert "/connexion/" in response["Location"] or "login" in response["Location"]


def test_member_of_closed_group_reads_it(client, peer, closed_thread):
    client.force_login(peer)
    response = client.get(reverse("communities:thread", args=[closed_thread.pk]))
    assert response.status_code == 200
    assert "Réorganisation confidentielle" in response.content.decode()


def test_bad_ids_are_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("communities:thread", args=[999999])).status_code == 404
    assert client.get(reverse("communities:group", args=["nope"])).status_code == 404
    assert client.get(reverse("communities:post", args=[999999])).status_code == 404
