"""Notifications, digest, search, practice picker, webhook, coach animation, mentions source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communities import animation, digest, services, webhooks
from communities.mentions import SOURCE
from communities.models import MemberSettings, Notification, Post, Thread
from tests.communities.conftest import access_of

pytestmark = pytest.mark.django_db


def test_notifications_page_lists_and_marks_read(client, manager, peer, group, thread):
    services.post_reply(access=access_of(peer, group), thread=thread, author=peer, body="Réponse")
    client.force_login(manager)
    index = client.get(reverse("communities:index")).content.decode()
    assert "1 nouvelle" in index
    page = client.get(reverse("communities:notifications")).content.decode()
    assert "a répondu dans" in page and "Nouveau" in page
    assert not Notification.objects.filter(user=manager, read_at__isnull=True).exists()


def test_notifications_of_a_group_left_are_not_shown(
    client, manager, stranger, closed_group, closed_thread
):
    Notification.objects.create(
        user=stranger, kind="reply", group=closed_group, thread=closed_thread
    )
    client.force_login(stranger)
    page = client.get(reverse("communities:notifications")).content.decode()
    assert closed_thread.title not in page


def test_settings_choose_digest_frequency(client, manager):
    client.force_login(manager)
    url = reverse("communities:settings")
    assert client.post(url, {"digest": "bogus"}).status_code == 200
    client.post(url, {"digest": "daily"})
    assert MemberSettings.objects.get(user=manager).digest == "daily"


def test_digest_sends_new_threads_and_replies_once(
    manager, peer, group, thread, django_capture_on_commit_callbacks
):
    services.post_reply(access=access_of(peer, group), thread=thread, author=peer, body="Réponse")
    assert manager.pk in digest.users_due() and peer.pk in digest.users_due()
    with django_capture_on_commit_callbacks(execute=True):
        assert digest.digest_send(user_id=manager.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager.email]
    assert "Dominique" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        sent_again = digest.digest_send(user_id=manager.pk)
    assert not sent_again and len(mail.outbox) == 1
    assert manager.pk not in digest.users_due()
    with django_capture_on_commit_callbacks(execute=True):
        digest.digest_send(user_id=peer.pk)
    assert thread.title in mail.outbox[-1].body  # peer: the new thread of its group


def test_digest_respects_never(manager, peer, group, thread):
    services.settings_update(user=peer, digest="never")
    assert peer.pk not in digest.users_due()
    assert not digest.digest_send(user_id=peer.pk)


def test_daily_digest_due_again_after_a_day(manager):
    from communities.models import Membership

    assert Membership.objects.filter(user=manager).count() == 0
    now = timezone.now()
    MemberSettings.objects.create(
        user=manager, digest="daily", last_digest_at=now - timedelta(hours=2)
    )
    assert not digest.digest_send(user_id=manager.pk, now=now)
    assert (
        digest.digest_send(user_id=manager.pk, now=now + timedelta(days=1)) is False
    )  # nothing new


def test_search_finds_posts_in_french_across_readable_groups(
    client, manager, peer, group, thread, closed_thread
):
    services.post_reply(
        access=access_of(peer, group),
        thread=thread,
        author=peer,
        body="Les entretiens annuels se préparent tôt.",
    )
    client.force_login(peer)
    response = client.get(reverse("communities:search"), {"q": "entretien annuel"})
    content = response.content.decode()
    assert "<mark>entretiens</mark>" in content
    response = client.get(reverse("communities:search"), {"q": "reorganisation"})
    assert "<mark>Réorganisation</mark> confidentielle" in response.content.decode()  # member
    hidden = Post.objects.get(body__startswith="Les entretiens")
    services.post_hide(post=hidden, moderator=manager, reason="test")
    response = client.get(reverse("communities:search"), {"q": "entretien annuel"})
    assert "<mark>entretiens</mark>" not in response.content.decode()


def test_practice_picker_lists_visible_practices(client, manager, practice):
    client.force_login(manager)
    response = client.get(
        reverse("communities:practice_picker"),
        {"q": "point d'equipe hebdo"},
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert f"#pratique-{practice.pk}" in content
    page = client.get(reverse("communities:practice_picker"), {"q": "hebdomadaire"})
    assert "<html" in page.content.decode() and practice.title.split()[0] in page.content.decode()


def test_webhook_announces_new_thread_once(
    manager, group, monkeypatch, django_capture_on_commit_callbacks
):
    group.webhook_url = "https://hooks.slack.com/services/T/B/X"
    group.save()
    sent = []
    monkeypatch.setattr(
        webhooks.notify, "slack_post", lambda url, payload: sent.append((url, payload))
    )
    from communities import tasks

    monkeypatch.setattr(
        tasks.thread_announce, "delay", lambda **kw: tasks.thread_announce.run(**kw)
    )
    with django_capture_on_commit_callbacks(execute=True):
        thread = services.thread_create(
            access=access_of(manager, group), author=manager, title="Annonce", body="Contenu"
        )
    assert len(sent) == 1
    assert "Annonce" in str(sent[0][1])
    assert not webhooks.thread_announce(thread_id=thread.pk)  # idempotent
    assert len(sent) == 1


def test_group_form_rejects_plain_http_webhook(client, manager, group):
    client.force_login(manager)
    response = client.post(
        reverse("communities:group_edit", args=[group.slug]),
        {
            "name": group.name,
            "kind": "theme",
            "visibility": "open",
            "webhook_url": "http://intranet.local/hook",
        },
    )
    assert response.status_code == 400
    assert "http://intranet.local/hook" in response.content.decode()


def test_coach_opens_weekly_discussion_once_in_animated_groups(manager, group, closed_group):
    group.animated = True
    group.save()
    assert animation.discussions_open_weekly() == 1
    assert animation.discussions_open_weekly() == 0
    thread = Thread.objects.get(group=group, by_coach=True)
    assert thread.coach_week == animation.iso_week(timezone.now())
    post = thread.posts.get()
    assert post.author is None and post.body
    assert not Thread.objects.filter(group=closed_group, by_coach=True).exists()
    assert animation.discussions_open_weekly(now=timezone.now() + timedelta(days=7)) == 1


def test_summarise_long_thread_stores_the_coach_summary(
    client, manager, peer, group, thread, monkeypatch
):
    calls = []

    def fake_summary(*, organisation, messages):
        calls.append(messages)
        return {
            "summary": "Les managers conseillent des points d’étape.",
            "quotes": [messages[1]],
            "backend": "local",
        }

    monkeypatch.setattr("coach.animation.thread_summary", fake_summary)
    client.force_login(peer)
    assert (
        client.post(reverse("communities:summarise", args=[thread.pk])).status_code == 404
    )  # too short
    for i in range(animation.SUMMARY_MIN_POSTS):
        Post.objects.create(thread=thread, author=peer, body=f"Idée {i}")
    Thread.objects.filter(pk=thread.pk).update(reply_count=animation.SUMMARY_MIN_POSTS)
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Résumer la discussion" in page
    response = client.post(reverse("communities:summarise", args=[thread.pk]))
    assert response.status_code == 302 and "/taches/" in response["Location"]
    summary = animation.thread_summarise(thread=thread)
    assert summary["posts"] == animation.SUMMARY_MIN_POSTS + 1
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Les managers conseillent des points d’étape." in page.replace("&#x27;", "’")
    assert calls and len(calls[0]) == animation.SUMMARY_MIN_POSTS + 1


def test_posts_feed_the_most_evoked_source(manager, peer, group, thread):
    reply = services.post_reply(
        access=access_of(peer, group), thread=thread, author=peer, body="Mon avis"
    )
    services.post_hide(post=reply, moderator=manager, reason="x")
    items = SOURCE.after(None, 0, timezone.now() + timedelta(minutes=1), 10)
    by_ref = {i.ref: i for i in items}
    first = thread.posts.order_by("pk").first()
    assert by_ref[f"community.post:{first.pk}"].text.startswith("Je cherche")
    assert by_ref[f"community.post:{first.pk}"].organisation_id == manager.organisation_id
    assert by_ref[f"community.post:{reply.pk}"].text == ""  # hidden: read, never matched
    from mallette.mentions import SOURCES

    assert SOURCES["community.post"] is SOURCE


def test_demo_groups_seed_is_idempotent(manager, peer):
    from communities.demo import demo_groups_seed
    from communities.models import Group

    assert demo_groups_seed(manager.organisation) == 3
    assert demo_groups_seed(manager.organisation) == 0
    group = Group.objects.get(slug="managers-de-proximite")
    assert group.memberships.filter(user=peer).exists()
    assert group.threads.get().reply_count == 2
