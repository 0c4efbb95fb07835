from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.models import Notification, Post, Reaction, Thread, ThreadState
from mallette.models import Practice, PracticeStatus
from tests.communities.conftest import access_of

pytestmark = pytest.mark.django_db


def test_member_starts_a_thread_with_markdown_and_a_practice_mention(
    client, manager, group, practice
):
    client.force_login(manager)
    response = client.post(
        reverse("communities:thread_create", args=[group.slug]),
        {"title": "Points d’équipe", "body": f"Voici **ma** méthode : #pratique-{practice.pk}"},
    )
    assert response.status_code == 302
    thread = Thread.objects.get(title="Points d’équipe")
    post = thread.posts.get()
    assert list(post.mentioned_practices.all()) == [practice]
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "<strong>ma</strong>" in page
    assert f'href="{reverse("mallette:practice", args=[practice.pk, practice.slug])}"' in page
    assert f"#{practice.title}".replace("’", "&#x27;") in page or practice.title in page


def test_markdown_is_sanitised(client, manager, group):
    client.force_login(manager)
    client.post(
        reverse("communities:thread_create", args=[group.slug]),
        {"title": "Test", "body": "<script>alert(1)</script> [lien](javascript:alert(1))"},
    )
    thread = Thread.objects.get(title="Test")
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "<script>alert" not in page
    assert 'href="javascript' not in page


def test_mention_of_a_practice_the_reader_cannot_see_is_not_leaked(
    client, manager, peer, group, organism
):
    theme = Practice.objects.filter(status=PracticeStatus.PUBLISHED).first().primary_theme
    local = Practice.objects.create(
        organisation=organism.organisation,
        organism=organism,
        slug="secret-local",
        title="Pratique très locale",
        summary="s",
        body="b",
        primary_theme=theme,
        status=PracticeStatus.PUBLISHED,
    )
    thread = services.thread_create(
        access=access_of(manager, group),
        author=manager,
        title="Local",
        body=f"Voir #pratique-{local.pk}",
    )
    client.force_login(peer)  # another organism: cannot see the local practice
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Pratique très locale" not in page
    assert "[pratique de la mallette]" in page


def test_thread_form_errors_are_french_and_keep_input(client, manager, group):
    client.force_login(manager)
    response = client.post(
        reverse("communities:thread_create", args=[group.slug]), {"title": "", "body": "Mon texte"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Donnez un titre à la discussion." in content
    assert "Mon texte" in content


def test_non_member_of_open_group_reads_but_cannot_post(client, stranger, thread):
    client.force_login(stranger)
    page = client.get(reverse("communities:thread", args=[thread.pk]))
    assert page.status_code == 200
    assert "Rejoignez le groupe pour répondre." in page.content.decode()
    assert (
        client.post(reverse("communities:reply", args=[thread.pk]), {"body": "Coucou"}).status_code
        == 404
    )
    assert (
        client.get(reverse("communities:thread_create", args=[thread.group.slug])).status_code
        == 302
    )


def test_reply_without_js_redirects_to_the_post_and_notifies_followers(
    client, manager, peer, thread
):
    client.force_login(peer)
    response = client.post(
        reverse("communities:reply", args=[thread.pk]), {"body": "Essaie un point d’étape."}
    )
    post = Post.objects.get(body="Essaie un point d’étape.")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#message-{post.pk}")
    thread.refresh_from_db()
    assert thread.reply_count == 1
    notification = Notification.objects.get(user=manager)
    assert notification.kind == "reply" and notification.post == post
    assert not Notification.objects.filter(user=peer).exists()
    assert ThreadState.objects.get(thread=thread, user=peer).following


def test_reply_with_htmx_returns_the_post_and_a_fresh_form(client, peer, thread):
    client.force_login(peer)
    response = client.post(
        reverse("communities:reply", args=[thread.pk]),
        {"body": "Avec htmx"},
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#posts"' in content
    assert "Avec htmx" in content
    assert "Votre réponse est publiée." in content


def test_reply_errors_with_htmx_keep_200_and_the_text(client, peer, thread):
    client.force_login(peer)
    response = client.post(
        reverse("communities:reply", args=[thread.pk]), {"body": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Écrivez votre message" in response.content.decode()


def test_reply_rate_limit_keeps_the_text(client, peer, thread):
    client.force_login(peer)
    url = reverse("communities:reply", args=[thread.pk])
    for i in range(services.POST_LIMITS[0][1]):
        assert client.post(url, {"body": f"Message {i}"}).status_code == 302
    response = client.post(url, {"body": "Encore un"})
    assert response.status_code == 429
    assert "Encore un" in response.content.decode()
    assert "réessayez" in response.content.decode()


def test_spam_protection_refuses_many_links_and_duplicates(client, peer, thread):
    client.force_login(peer)
    url = reverse("communities:reply", args=[thread.pk])
    links = " ".join(f"https://exemple.org/{i}" for i in range(services.MAX_LINKS + 1))
    response = client.post(url, {"body": links})
    assert response.status_code == 400
    assert "trop de liens" in response.content.decode()
    assert client.post(url, {"body": "Deux fois"}).status_code == 302
    response = client.post(url, {"body": "Deux fois"})
    assert response.status_code == 400
    assert Post.objects.filter(body="Deux fois").count() == 1


def test_reaction_toggle_with_and_without_htmx(client, manager, peer, thread):
    post = thread.posts.get()
    client.force_login(peer)
    url = reverse("communities:react", args=[post.pk, "thanks"])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert Reaction.objects.filter(post=post, user=peer, kind="thanks").exists()
    assert Notification.objects.filter(user=manager, kind="reaction").count() == 1
    assert client.post(url).status_code == 302  # toggled off without JS
    assert not Reaction.objects.filter(post=post, user=peer).exists()
    client.post(url)
    assert Notification.objects.filter(user=manager, kind="reaction").count() == 1  # not twice
    assert client.post(reverse("communities:react", args=[post.pk, "bogus"])).status_code == 404


def test_follow_toggle(client, peer, thread):
    client.force_login(peer)
    url = reverse("communities:follow", args=[thread.pk])
    response = client.post(url, {"following": "1"}, HTTP_HX_REQUEST="true")
    assert "Discussion suivie" in response.content.decode()
    assert ThreadState.objects.get(thread=thread, user=peer).following
    client.post(url, {"following": "0"})
    assert not ThreadState.objects.get(thread=thread, user=peer).following


def test_author_edits_and_deletes_own_post_only(client, manager, peer, thread):
    post = thread.posts.get()
    client.force_login(peer)
    assert client.get(reverse("communities:post_edit", args=[post.pk])).status_code == 404
    assert client.post(reverse("communities:post_delete", args=[post.pk])).status_code == 404
    client.force_login(manager)
    response = client.post(
        reverse("communities:post_edit", args=[post.pk]), {"body": "Texte corrigé"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "Texte corrigé" and post.edited_at
    response = client.post(reverse("communities:post_edit", args=[post.pk]), {"body": ""})
    assert response.status_code == 400
    client.post(reverse("communities:post_delete", args=[post.pk]))
    post.refresh_from_db()
    assert post.deleted and post.body == ""
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "Message supprimé par son auteur." in page


def test_unread_markers_on_group_and_thread(client, manager, peer, group, thread):
    client.force_login(peer)
    group_page = client.get(reverse("communities:group", args=[group.slug])).content.decode()
    assert "thread-unread" in group_page
    client.get(reverse("communities:thread", args=[thread.pk]))
    group_page = client.get(reverse("communities:group", args=[group.slug])).content.decode()
    assert "thread-unread" not in group_page
    later = timezone.now() + timedelta(seconds=1)
    reply = services.post_reply(
        access=access_of(manager, group), thread=thread, author=manager, body="Du nouveau"
    )
    Post.objects.filter(pk=reply.pk).update(created_at=later)
    Thread.objects.filter(pk=thread.pk).update(last_activity_at=later)
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert f'id="message-{reply.pk}"' in page and "post-unread" in page
    assert "Aller au premier message non lu" in page
    page = client.get(reverse("communities:thread", args=[thread.pk])).content.decode()
    assert "post-unread" not in page


def test_post_locate_goes_to_the_right_page(client, manager, group, thread):
    access = access_of(manager, group)
    posts = [Post.objects.create(thread=thread, author=manager, body=f"r{i}") for i in range(60)]
    client.force_login(manager)
    response = client.get(reverse("communities:post", args=[posts[-1].pk]))
    assert response["Location"].endswith(f"?page=2#message-{posts[-1].pk}")
    assert access.can_post


def test_thread_with_500_replies_renders_with_constant_queries(
    client, manager, peer, group, thread, practice, django_assert_num_queries
):
    client.force_login(peer)
    url = reverse("communities:thread", args=[thread.pk])

    def add(n):
        posts = Post.objects.bulk_create(
            Post(
                thread=thread,
                author=peer if i % 2 else manager,
                body=f"Réponse {i} #pratique-{practice.pk}",
            )
            for i in range(n)
        )
        for p in posts:
            p.mentioned_practices.add(practice)
            Reaction.objects.create(post=p, user=manager, kind="like")
        Thread.objects.filter(pk=thread.pk).update(reply_count=len(posts))

    add(20)
    client.get(url)  # the thread state row exists from now on
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url, {"page": 1})
    add(480)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, {"page": 5})
    assert response.status_code == 200
    assert response.content.decode().count('class="post') >= 50
