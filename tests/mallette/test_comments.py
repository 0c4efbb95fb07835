"""Comments on a practice, the share link and the practice page's mention counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campus.models import Role
from mallette.models import Comment
from mallette.services import COMMENT_RATE_LIMIT
from tests.factories import ManagerFactory


def _url(practice):
    return reverse("mallette:practice", args=[practice.pk, practice.slug])


def _post(client, practice, body, **extra):
    return client.post(
        reverse("mallette:comment_create", args=[practice.pk]), {"body": body}, **extra
    )


@pytest.fixture
def moderator(organism):
    return ManagerFactory(organism=organism, roles=[Role.MANAGER, Role.MODERATOR])


@pytest.fixture
def colleague(organism):
    return ManagerFactory(organism=organism, first_name="Dominique", last_name="Martin")


def test_a_manager_comments_and_limited_markdown_is_rendered_safely(
    manager_client, manager, library
):
    practice = library["deleguer"]
    response = _post(
        manager_client, practice, "Je le fais **chaque lundi**.\n\n<script>alert(1)</script>"
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#commentaire-{comment.pk}")
    assert (comment.author, comment.organisation_id) == (manager, manager.organisation_id)
    html = manager_client.get(_url(practice)).content.decode()
    assert "<strong>chaque lundi</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "1 commentaire" in html


def test_invalid_comments_show_french_errors_and_keep_the_text(manager_client, library):
    practice = library["deleguer"]
    response = _post(manager_client, practice, "  ")
    assert response.status_code == 400
    assert "Écrivez votre commentaire avant de le publier." in response.content.decode()
    long_text = "Trop long. " * 200
    response = _post(manager_client, practice, long_text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Votre commentaire est trop long : 2000 caractères au plus" in html
    assert "Trop long. Trop long." in html
    assert not Comment.objects.exists()


def test_comments_are_rate_limited_with_a_french_message(manager_client, library):
    practice = library["deleguer"]
    for i in range(COMMENT_RATE_LIMIT):
        assert _post(manager_client, practice, f"Commentaire numéro {i}").status_code == 302
    response = _post(manager_client, practice, "Un de trop, gardé dans le formulaire")
    html = response.content.decode()
    assert response.status_code == 429
    assert "réessayez dans quelques minutes" in html
    assert "Un de trop, gardé dans le formulaire" in html
    assert Comment.objects.count() == COMMENT_RATE_LIMIT


def test_htmx_posting_swaps_only_the_comments_section(manager_client, library):
    practice = library["deleguer"]
    response = _post(manager_client, practice, "Par htmx", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="commentaires"')
    assert "Par htmx" in html and "Votre commentaire est publié." in html
    response = _post(manager_client, practice, "", HTTP_HX_REQUEST="true")
    assert "Écrivez votre commentaire" in response.content.decode()


def test_authors_edit_and_delete_their_own_comments_only(client, manager, colleague, library):
    practice = library["feedback"]
    mine = Comment.objects.create(
        practice=practice, organisation=manager.organisation, author=manager, body="Le mien"
    )
    theirs = Comment.objects.create(
        practice=practice, organisation=manager.organisation, author=colleague, body="Le sien"
    )
    client.force_login(manager)
    edit = reverse("mallette:comment_edit", args=[mine.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"body": ""})
    assert "Écrivez votre commentaire" in response.content.decode()
    client.post(edit, {"body": "Le mien, corrigé"})
    mine.refresh_from_db()
    assert mine.body == "Le mien, corrigé" and mine.edited_at is not None
    assert client.get(reverse("mallette:comment_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("mallette:comment_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("mallette:comment_delete", args=[mine.pk])).status_code == 302
    assert list(Comment.objects.values_list("body", flat=True)) == ["Le sien"]


def test_moderators_hide_comments_from_others_but_not_from_their_author(
    client, manager, colleague, moderator, library
):
    practice = library["merci"]
    comment = Comment.objects.create(
        practice=practice,
        organisation=manager.organisation,
        author=colleague,
        body="Propos déplacés",
    )
    hide = reverse("mallette:comment_hide", args=[comment.pk])
    client.force_login(manager)
    assert client.post(hide).status_code == 404  # not a moderator
    client.force_login(moderator)
    assert client.post(hide, {"hidden": "1"}).status_code == 302
    comment.refresh_from_db()
    assert comment.hidden and comment.hidden_by == moderator
    assert "Propos déplacés" in client.get(_url(practice)).content.decode()  # moderators see it
    client.force_login(manager)
    assert "Propos déplacés" not in client.get(_url(practice)).content.decode()
    client.force_login(colleague)
    html = client.get(_url(practice)).content.decode()
    assert "Propos déplacés" in html and "Masqué par la modération" in html
    client.force_login(moderator)
    client.post(hide, {"hidden": "0"})
    comment.refresh_from_db()
    assert not comment.hidden and comment.hidden_by is None


def test_outsiders_get_404_and_never_see_another_organisations_comments(
    client, manager, outsider, library
):
    editorial, local = library["deleguer"], library["local"]
    comment = Comment.objects.create(
        practice=editorial, organisation=manager.organisation, author=manager, body="Entre nous"
    )
    client.force_login(outsider)
    assert _post(client, local, "Je passe").status_code == 404
    assert "Entre nous" not in client.get(_url(editorial)).content.decode()
    for name in ("comment_edit", "comment_delete", "comment_hide"):
        assert client.post(reverse(f"mallette:{name}", args=[comment.pk])).status_code == 404
    outsider.roles = [Role.MANAGER, Role.MODERATOR]
    outsider.save()
    assert client.post(reverse("mallette:comment_hide", args=[comment.pk])).status_code == 404
    assert client.get(reverse("mallette:comment_edit", args=[999999])).status_code == 404


def test_comments_are_paginated_newest_first_with_constant_queries(
    manager_client, manager, library
):
    practice = library["teletravail"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get(_url(practice)).status_code == 200
        return len(ctx.captured_queries)

    Comment.objects.create(
        practice=practice, organisation=manager.organisation, author=manager, body="Premier"
    )
    few = queries()
    for i in range(14):
        Comment.objects.create(
            practice=practice,
            organisation=manager.organisation,
            author=ManagerFactory(organism=manager.organism),
            body=f"Avis {i}",
        )
    assert queries() == few
    html = manager_client.get(_url(practice)).content.decode()
    assert "15 commentaires" in html and "Avis 13" in html and "Premier" not in html
    assert html.index("Avis 13") < html.index("Avis 12")
    page2 = manager_client.get(_url(practice), {"commentaires": 2}).content.decode()
    assert "Premier" in page2


def test_the_practice_page_offers_a_share_link_and_an_email(manager_client, library):
    practice = library["deleguer"]
    html = manager_client.get(_url(practice)).content.decode()
    assert f'value="http://testserver{_url(practice)}"' in html
    assert "mailto:?subject=D%C3%A9l%C3%A9guer%20un%20dossier%20complexe&amp;body=" in html
    assert "readonly" in html


def test_the_practice_page_offers_to_add_it_to_my_action_plan(manager_client, library):
    practice = library["deleguer"]
    html = manager_client.get(_url(practice)).content.decode()
    assert f'action="{reverse("selfdiag:plan_add")}"' in html
    assert f'name="practice" value="{practice.pk}"' in html
