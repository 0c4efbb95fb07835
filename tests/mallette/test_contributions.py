from __future__ import annotations

import pytest
from django.urls import reverse

from campus.models import Role
from mallette.models import Practice, PracticeSource, PracticeStatus, PracticeUse
from mallette.services import practices_index
from tests.factories import HrAdminFactory, ManagerFactory


def proposal(**overrides):
    data = {
        "title": "Faire un point hebdomadaire avec les nouveaux arrivants",
        "summary": "Un quart d’heure chaque vendredi pendant le premier mois rassure et repère les blocages.",
        "situation": "Un nouvel agent arrive dans une équipe de gestion des prestations.",
        "body": "Fixer le créneau dès le premier jour\nDemander ce qui a été difficile\nNoter une action",
        "pitfalls": "",
        "primary_theme": "delegation",
        "second_theme": "",
        "level": "all",
    }
    data.update(overrides)
    return data


@pytest.fixture
def moderator(organism):
    return ManagerFactory(organism=organism, roles=[Role.MANAGER, Role.MODERATOR])


def test_propose_with_errors_keeps_input_and_explains_in_french(manager_client, library):
    response = manager_client.post(
        reverse("mallette:propose"), proposal(title="", body="", summary="Mon résumé à moi")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Donnez un titre à votre pratique." in html
    assert "Décrivez ce qu’il faut faire, étape par étape." in html
    assert "Mon résumé à moi" in html
    assert not Practice.objects.filter(source=PracticeSource.COMMUNITY).exists()


def test_preview_renders_the_practice_and_similar_ones(manager_client, library):
    response = manager_client.post(reverse("mallette:propose"), proposal(preview="1"))
    html = response.content.decode()
    assert "Aperçu de votre pratique" in html
    # One step per line became a Markdown list, rendered.
    assert "<li>Fixer le créneau dès le premier jour</li>" in html
    assert "Pratiques similaires déjà dans la mallette" in html
    assert response.context["duplicate"] is None
    assert not Practice.objects.filter(source=PracticeSource.COMMUNITY).exists()


def test_preview_warns_when_the_practice_already_exists(manager_client, library):
    existing = library["deleguer"]
    response = manager_client.post(
        reverse("mallette:propose"),
        proposal(title=existing.title, summary=existing.summary, situation="", preview="1"),
    )
    assert response.context["duplicate"].practice == existing
    html = response.content.decode()
    assert "Cette pratique existe peut-être déjà" in html
    assert reverse("mallette:practice", args=[existing.pk, existing.slug]) in html


def test_a_distinct_practice_is_not_flagged_as_duplicate(manager_client, library):
    response = manager_client.post(reverse("mallette:propose"), proposal(preview="1"))
    assert all(not s.duplicate for s in response.context["similar"])


def submit(client, **overrides):
    response = client.post(reverse("mallette:propose"), proposal(submit="1", **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Practice.objects.filter(source=PracticeSource.COMMUNITY).latest("pk")


def test_submit_creates_a_proposal_in_review_hidden_from_search(manager_client, manager, library):
    practice = submit(manager_client)
    assert practice.status == PracticeStatus.REVIEW
    assert practice.author == manager
    assert practice.organisation == manager.organisation
    assert practice.organism == manager.organism
    assert practice.slug == "faire-un-point-hebdomadaire-avec-les-nouveaux-arrivants"
    assert practice.body.startswith("- Fixer le créneau")
    practices_index()
    html = manager_client.get(
        reverse("mallette:index"), {"q": "point hebdomadaire nouveaux arrivants"}
    ).content.decode()
    assert practice.title not in html
    assert manager_client.get(reverse("mallette:practice", args=[practice.pk])).status_code == 404
    mine = manager_client.get(reverse("mallette:mine")).content.decode()
    assert practice.title in mine and "En relecture" in mine
    # Same title again: a unique slug.
    assert submit(manager_client).slug.endswith("-2")


def test_my_contributions_invites_to_propose_when_empty(manager_client, library):
    html = manager_client.get(reverse("mallette:mine")).content.decode()
    assert "Vous n’avez encore proposé aucune pratique." in html
    assert reverse("mallette:propose") in html


def test_moderator_publishes_and_the_practice_reaches_the_search(
    client, manager, moderator, library
):
    client.force_login(manager)
    practice = submit(client)
    client.force_login(moderator)
    queue = client.get(reverse("mallette:moderation"))
    assert practice.title in queue.content.decode()
    response = client.post(
        reverse("mallette:moderation_publish", args=[practice.pk]), {"national": "on"}
    )
    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.status == PracticeStatus.PUBLISHED
    assert practice.organism is None  # widened to national
    assert practice.moderated_by == moderator and practice.published_at
    assert practice.revision > practice.indexed_revision
    practices_index()
    client.force_login(manager)
    response = client.get(reverse("mallette:index"), {"q": "point hebdomadaire nouveaux arrivants"})
    assert response.context["rows"][0]["practice"] == practice
    assert "Publiée" in client.get(reverse("mallette:mine")).content.decode()


def test_moderator_edits_a_proposal(client, manager, moderator, library):
    client.force_login(manager)
    practice = submit(client)
    client.force_login(moderator)
    url = reverse("mallette:moderation_edit", args=[practice.pk])
    assert practice.title in client.get(url).content.decode()
    client.post(url, proposal(title="Accueillir les nouveaux arrivants chaque semaine"))
    practice.refresh_from_db()
    assert practice.title == "Accueillir les nouveaux arrivants chaque semaine"
    assert practice.revision == 2
    assert practice.status == PracticeStatus.REVIEW


def test_reject_requires_a_reason_shown_to_the_author(client, manager, moderator, library):
    client.force_login(manager)
    practice = submit(client)
    client.force_login(moderator)
    url = reverse("mallette:moderation_reject", args=[practice.pk])
    response = client.post(url, {"reason": ""})
    assert "Indiquez le motif du refus" in response.content.decode()
    client.post(url, {"reason": "Trop proche d’une pratique nationale existante."})
    practice.refresh_from_db()
    assert practice.status == PracticeStatus.REJECTED
    client.force_login(manager)
    html = client.get(reverse("mallette:mine")).content.decode()
    assert "Refusée" in html
    assert "Trop proche d’une pratique nationale existante." in html


def test_merge_points_the_author_to_the_existing_practice(client, manager, moderator, library):
    client.force_login(manager)
    practice = submit(client)
    target = library["deleguer"]
    client.force_login(moderator)
    client.post(reverse("mallette:moderation_merge", args=[practice.pk]), {"target": target.pk})
    practice.refresh_from_db()
    assert practice.status == PracticeStatus.ARCHIVED
    assert practice.merged_into == target
    client.force_login(manager)
    html = client.get(reverse("mallette:mine")).content.decode()
    assert "Fusionnée" in html
    assert reverse("mallette:practice", args=[target.pk, target.slug]) in html


def test_hr_admin_of_the_organisation_may_moderate(client, manager, hr_admin, library):
    client.force_login(manager)
    practice = submit(client)
    client.force_login(hr_admin)
    assert practice.title in client.get(reverse("mallette:moderation")).content.decode()


@pytest.mark.parametrize("persona", ["manager", "outsider", "other_hr_admin"])
def test_others_get_404_on_moderation(client, manager, outsider, library, persona):
    client.force_login(manager)
    practice = submit(client)
    user = {
        "manager": manager,
        "outsider": outsider,
        "other_hr_admin": HrAdminFactory(organism=outsider.organism),
    }[persona]
    client.force_login(user)
    if persona != "other_hr_admin":
        assert client.get(reverse("mallette:moderation")).status_code == 404
    else:
        assert practice.title not in client.get(reverse("mallette:moderation")).content.decode()
    for name in ("moderation_edit", "moderation_reject"):
        assert client.get(reverse(f"mallette:{name}", args=[practice.pk])).status_code == 404
    for name, data in (
        ("moderation_publish", {}),
        ("moderation_reject", {"reason": "Non."}),
        ("moderation_merge", {"target": library["deleguer"].pk}),
        ("moderation_edit", proposal()),
    ):
        response = client.post(reverse(f"mallette:{name}", args=[practice.pk]), data)
        assert response.status_code == 404, name
    practice.refresh_from_db()
    assert practice.status == PracticeStatus.REVIEW


def test_moderation_link_only_for_moderators(client, manager, moderator, library):
    client.force_login(manager)
    assert (
        reverse("mallette:moderation") not in client.get(reverse("mallette:index")).content.decode()
    )
    client.force_login(moderator)
    assert reverse("mallette:moderation") in client.get(reverse("mallette:index")).content.decode()


def test_use_and_favourite_toggles_and_counts(manager_client, manager, library):
    practice = library["merci"]
    page = reverse("mallette:practice", args=[practice.pk, practice.slug])
    use = reverse("mallette:use_toggle", args=[practice.pk, "use"])
    fav = reverse("mallette:use_toggle", args=[practice.pk, "favourite"])
    assert "Soyez le premier manager à l’utiliser." in manager_client.get(page).content.decode()
    assert manager_client.post(use).url == page
    for other in ManagerFactory.create_batch(2, organism=manager.organism):
        PracticeUse.objects.create(user=other, practice=practice, kind="use")
    html = manager_client.get(page).content.decode()
    assert "3 managers l’utilisent" in html
    assert 'aria-pressed="true"' in html
    # htmx: only the fragment comes back.
    response = manager_client.post(use, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert "<html" not in fragment and "2 managers l’utilisent" in fragment
    manager_client.post(fav)
    favourites = manager_client.get(reverse("mallette:favourites")).content.decode()
    assert practice.title in favourites
    manager_client.post(fav)
    favourites = manager_client.get(reverse("mallette:favourites")).content.decode()
    assert "Aucun favori pour l’instant." in favourites
    assert (
        manager_client.post(reverse("mallette:use_toggle", args=[practice.pk, "x"])).status_code
        == 404
    )


def test_outsider_cannot_mark_a_hidden_practice(client, outsider, library):
    client.force_login(outsider)
    url = reverse("mallette:use_toggle", args=[library["local"].pk, "favourite"])
    assert client.post(url).status_code == 404
    assert not PracticeUse.objects.exists()


def test_practice_page_queries_do_not_grow_with_uses(
    manager_client, manager, library, django_assert_max_num_queries
):
    practice = library["merci"]
    page = reverse("mallette:practice", args=[practice.pk, practice.slug])
    PracticeUse.objects.create(user=manager, practice=practice, kind="use")
    manager_client.get(page)
    with django_assert_max_num_queries(8) as one:
        manager_client.get(page)
    for other in ManagerFactory.create_batch(15, organism=manager.organism):
        PracticeUse.objects.create(user=other, practice=practice, kind="use")
        PracticeUse.objects.create(user=other, practice=practice, kind="favourite")
    with django_assert_max_num_queries(len(one.captured_queries)):
        manager_client.get(page)


def test_the_moderation_queue_is_paginated_oldest_first(client, manager, moderator, library):
    client.force_login(manager)
    titles = [f"Proposition numéro {i:02d} pour l’équipe" for i in range(12)]
    for title in titles:
        submit(client, title=title)
    client.force_login(moderator)
    first = client.get(reverse("mallette:moderation"))
    assert [item["practice"].title for item in first.context["items"]] == titles[:10]
    assert "12 propositions attendent une décision" in first.content.decode()
    second = client.get(reverse("mallette:moderation"), {"page": 2})
    assert [item["practice"].title for item in second.context["items"]] == titles[10:]
    assert "Page 2 sur 2" in second.content.decode()
