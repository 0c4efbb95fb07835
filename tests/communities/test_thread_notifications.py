from __future__ import annotations

import pytest
from django.urls import reverse

from communities import services
from communities.models import MemberSettings, Membership, MembershipStatus, Notification
from tests.communities.conftest import access_of, join
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


def _opt_in(user, notify: bool = True) -> None:
    services.settings_update(user=user, digest="weekly", notify_new_threads=notify)


def _start(group, author, title="Préparer l’entretien annuel"):
    return services.thread_create(
        access=access_of(author, group), author=author, title=title, body="Vos conseils ?"
    )


def test_members_who_opted_in_are_notified_of_a_new_thread(manager, peer, stranger, group):
    _opt_in(peer)
    join(group, stranger)  # member, but did not opt in
    thread = _start(group, manager)
    notes = list(Notification.objects.filter(kind="thread"))
    assert [(n.user_id, n.thread_id, n.actor_id, n.group_id) for n in notes] == [
        (peer.pk, thread.pk, manager.pk, group.pk)
    ]
    assert notes[0].post == thread.posts.get()


def test_the_author_is_never_notified_of_their_own_thread(manager, peer, group):
    _opt_in(manager)
    _opt_in(peer)
    _start(group, manager)
    assert set(Notification.objects.filter(kind="thread").values_list("user_id", flat=True)) == {
        peer.pk
    }


def test_opting_out_stops_thread_notifications(manager, peer, group):
    _opt_in(peer)
    _opt_in(peer, notify=False)
    _start(group, manager)
    assert not Notification.objects.filter(kind="thread").exists()


def test_invitees_and_former_members_are_not_notified(manager, peer, stranger, group):
    _opt_in(peer)
    _opt_in(stranger)
    Membership.objects.create(group=group, user=stranger, status=MembershipStatus.INVITED)
    services.group_leave(group=group, user=peer)
    _start(group, manager)
    assert not Notification.objects.filter(kind="thread").exists()


def test_members_of_other_groups_are_not_notified(manager, peer, stranger, group, closed_group):
    _opt_in(stranger)
    join(closed_group, stranger)
    _start(group, manager)
    assert not Notification.objects.filter(user=stranger).exists()


def test_thread_notification_is_one_bulk_insert_whatever_the_member_count(
    manager, group, django_assert_num_queries
):
    members = [
        ManagerFactory(organism=manager.organism, email=f"n{i}@campus.test") for i in range(12)
    ]
    for user in members:
        join(group, user)
    MemberSettings.objects.bulk_create(
        MemberSettings(user=user, notify_new_threads=True) for user in members
    )
    thread = _start(group, manager, title="Une première")
    with django_assert_num_queries(2):  # the recipients, then one INSERT
        created = services.thread_notify_members(thread=thread)
    assert created == 12
    assert Notification.objects.filter(kind="thread", thread=thread).count() == 24


def test_coach_weekly_discussion_notifies_opted_in_members(manager, peer, group, monkeypatch):
    from communities import animation

    _opt_in(peer)
    group.animated = True
    group.save()
    monkeypatch.setattr(
        "coach.animation.discussion_opening",
        lambda **kw: {"title": "Cette semaine", "body": "Parlons feedback.", "practice_ids": []},
    )
    thread = animation.group_discussion_open(group=group)
    assert thread is not None
    note = Notification.objects.get(kind="thread", user=peer)
    assert note.actor_id is None and note.thread == thread


def test_notification_page_shows_the_new_thread(client, manager, peer, group):
    _opt_in(peer)
    thread = _start(group, manager)
    client.force_login(peer)
    body = client.get(reverse("communities:notifications")).content.decode()
    assert "a lancé la discussion" in body
    assert reverse("communities:thread", args=[thread.pk]) in body


def test_settings_page_saves_the_choice(client, peer):
    client.force_login(peer)
    url = reverse("communities:settings")
    assert "nouvelles discussions" in client.get(url).content.decode()
    response = client.post(url, {"digest": "daily", "notify_new_threads": "on"})
    assert response.status_code == 302
    prefs = MemberSettings.objects.get(user=peer)
    assert prefs.notify_new_threads and prefs.digest == "daily"
    client.post(url, {"digest": "daily"})
    prefs.refresh_from_db()
    assert not prefs.notify_new_threads


def test_settings_page_keeps_input_on_error(client, peer):
    client.force_login(peer)
    response = client.post(
        reverse("communities:settings"), {"digest": "hourly", "notify_new_threads": "on"}
    )
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert "checked" in body
    assert not MemberSettings.objects.filter(user=peer).exists()
