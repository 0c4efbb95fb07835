from __future__ import annotations

import pytest
from django.urls import reverse

from communities import services
from communities.models import Notification, Report
from mallette.models import Practice, PracticeSource, PracticeStatus, Theme
from tests.communities.conftest import access_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(group, peer, thread):
    return services.post_reply(
        access=access_of(peer, group), thread=thread, author=peer, body="Un message déplacé"
    )


def test_member_reports_a_post_and_moderator_is_notified(client, manager, stranger, group, reply):
    services.group_join(access=access_of(stranger, group), user=stranger)
    client.force_login(stranger)
    url = reverse("communities:post_report", args=[reply.pk])
    response = client.post(url, {})
    assert response.status_code == 400
    assert "Choisissez un motif." in response.content.decode()
    response = client.post(url, {"reason": "offensive", "comment": "Pas correct"})
    assert response.status_code == 302
    assert Report.objects.get(post=reply).reporter == stranger
    assert Notification.objects.filter(user=manager, kind="report", post=reply).exists()
    response = client.post(url, {"reason": "offensive"})
    assert response.status_code == 400
    assert "déjà signalé" in response.content.decode()


def test_author_cannot_report_own_post(client, peer, reply):
    client.force_login(peer)
    assert client.get(reverse("communities:post_report", args=[reply.pk])).status_code == 404


def test_moderator_queue_hide_with_reason_and_restore(
    client, manager, peer, stranger, group, thread, reply
):
    services.post_report(post=reply, reporter=manager, reason="offensive")
    client.force_login(manager)
    queue = client.get(reverse("communities:moderation"))
    assert queue.status_code == 200
    assert "Un message déplacé" in queue.content.decode()
    from communities.selectors import moderation_queue

    assert list(moderation_queue(manager)) == [reply]
    url = reverse("communities:post_hide", args=[reply.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif" in response.content.decode()
    response = client.post(url, {"reason": "Propos blessants", "next": "queue"})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.hidden and reply.hidden_reason == "Propos blessants"
    assert Report.objects.get(post=reply).resolved_at is not None
    assert Notification.objects.filter(user=peer, kind="hidden").exists()
    # Others see a placeholder; the author sees the text and the reason.
    client.force_login(stranger)
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Un message déplacé" not in page and "Message masqué par la modération." in page
    assert client.get(reverse("communities:post_report", args=[reply.pk])).status_code == 404
    client.force_login(peer)
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Un message déplacé" in page and "Propos blessants" in page
    client.force_login(manager)
    client.post(reverse("communities:post_restore", args=[reply.pk]))
    reply.refresh_from_db()
    assert not reply.hidden
    assert Notification.objects.filter(user=peer, kind="restored").exists()


def test_dismiss_reports(client, manager, reply):
    services.post_report(post=reply, reporter=manager, reason="spam")
    client.force_login(manager)
    client.post(reverse("communities:reports_dismiss", args=[reply.pk]))
    assert Report.objects.get(post=reply).resolved_at is not None
    assert not Report.objects.filter(resolved_at__isnull=True).exists()


def test_members_cannot_moderate(client, peer, stranger, thread):
    post = thread.posts.get()
    client.force_login(peer)
    assert client.get(reverse("communities:moderation")).status_code == 404
    assert client.get(reverse("communities:post_hide", args=[post.pk])).status_code == 404
    assert client.post(reverse("communities:post_restore", args=[post.pk])).status_code == 404


def test_org_moderator_moderates_open_groups_but_not_closed_ones(
    client, stranger, thread, closed_thread
):
    stranger.roles = [*stranger.roles, "moderator"]
    stranger.save()
    client.force_login(stranger)
    assert (
        client.get(reverse("communities:post_hide", args=[thread.posts.get().pk])).status_code
        == 200
    )
    assert (
        client.get(
            reverse("communities:post_hide", args=[closed_thread.posts.get().pk])
        ).status_code
        == 404
    )


def test_report_rate_limit(manager, peer, group, thread):
    posts = [
        services.post_reply(
            access=access_of(peer, group),
            thread=thread,
            author=peer,
            body=f"m{i}",
        )
        for i in range(3)
    ]
    from campus.ratelimit import rate_limited

    for _ in range(services.REPORT_LIMITS[0][1]):
        rate_limited("communities.report", manager.pk, services.REPORT_LIMITS)
    with pytest.raises(services.RateLimited):
        services.post_report(post=posts[0], reporter=manager, reason="spam")


def test_author_shares_a_post_as_a_practice_proposal(client, manager, thread):
    post = thread.posts.get()
    client.force_login(manager)
    url = reverse("communities:post_share", args=[post.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert thread.title in page.content.decode()
    theme = Theme.objects.order_by("position").first()
    response = client.post(url, {"title": "", "summary": "", "body": ""})
    assert response.status_code == 400
    response = client.post(
        url,
        {
            "title": "Déléguer avec des points d’étape",
            "summary": "Confier un dossier en fixant des points d’étape.",
            "body": "- Fixer le résultat attendu\n- Convenir des points d’étape",
            "primary_theme": theme.slug,
            "level": "all",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    practice = Practice.objects.get(title="Déléguer avec des points d’étape")
    assert practice.status == PracticeStatus.REVIEW
    assert practice.source == PracticeSource.COMMUNITY and practice.author == manager
    post.refresh_from_db()
    assert post.shared_practice == practice
    assert client.get(url).status_code == 302  # already shared


def test_only_the_author_shares_a_post(client, peer, thread):
    client.force_login(peer)
    assert (
        client.get(reverse("communities:post_share", args=[thread.posts.get().pk])).status_code
        == 404
    )
