from __future__ import annotations

import pytest
from django.urls import reverse

from mallette.services import practices_index
from tests.factories import OrganismFactory


def test_the_library_lists_what_the_manager_may_see(manager_client, library):
    html = manager_client.get(reverse("mallette:index")).content.decode()
    for key in ("deleguer", "feedback", "teletravail", "merci", "national", "local"):
        assert library[key].title in html
    assert "Pratique en brouillon" not in html
    assert "6 pratiques" in html


def test_practices_of_another_organisation_or_organism_stay_hidden(
    client, library, make_practice, outsider, manager
):
    other_org = outsider.organisation
    secret = make_practice(
        "Pratique secrète d’ailleurs", "Réservée à une autre organisation.", organisation=other_org
    )
    other_organism = OrganismFactory(branch=library["local"].organism.branch)
    neighbour = make_practice(
        "Pratique d’un autre organisme",
        "Réservée.",
        organisation=library["local"].organisation,
        organism=other_organism,
    )
    practices_index()
    client.force_login(outsider)
    html = client.get(
        reverse("mallette:index"), {"q": "accueil du Rhône organisme"}
    ).content.decode()
    assert library["local"].title not in html
    assert library["national"].title not in html
    assert client.get(reverse("mallette:practice", args=[library["local"].pk])).status_code == 404
    assert (
        client.get(reverse("mallette:practice", args=[secret.pk, secret.slug])).status_code == 200
    )
    client.force_login(manager)
    assert client.get(reverse("mallette:practice", args=[neighbour.pk])).status_code == 404
    assert client.get(reverse("mallette:practice", args=[secret.pk])).status_code == 404


def test_search_by_meaning_with_highlighted_snippets(manager_client, library):
    response = manager_client.get(reverse("mallette:index"), {"q": "confier un dossier à un agent"})
    ranked = [row["practice"] for row in response.context["rows"]]
    assert ranked.index(library["deleguer"]) < ranked.index(library["merci"])
    html = response.content.decode()
    assert "<mark>dossier</mark>" in html
    assert "pour « confier un dossier à un agent »" in html


def test_filters_by_theme_and_level(manager_client, library):
    html = manager_client.get(reverse("mallette:index"), {"theme": "remote"}).content.decode()
    assert library["teletravail"].title in html
    assert library["deleguer"].title not in html
    html = manager_client.get(reverse("mallette:index"), {"level": "director"}).content.decode()
    assert library["deleguer"].title not in html  # proximity only
    assert library["merci"].title in html  # for all levels


def test_facets_count_practices_per_theme(manager_client, library):
    response = manager_client.get(reverse("mallette:index"))
    facets = {f["theme"].slug: f["count"] for f in response.context["facets"]}
    assert facets["delegation"] == 1
    assert facets["conflict"] == 1
    assert facets["feedback"] == 1
    assert facets["inclusion"] == 0


def test_htmx_requests_get_only_the_results(manager_client, library):
    response = manager_client.get(
        reverse("mallette:index"), {"q": "télétravail"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="resultats"' in html
    assert "Garder le lien en <mark>télétravail</mark>" in html


def test_an_empty_result_suggests_asking_the_coach(manager_client, library):
    html = manager_client.get(
        reverse("mallette:index"), {"q": "zzzz", "theme": "inclusion"}
    ).content.decode()
    assert "Aucune pratique ne correspond" in html
    assert reverse("coach:index") + "?q=zzzz" in html


def test_bad_filter_values_do_not_break_the_page(manager_client, library):
    response = manager_client.get(
        reverse("mallette:index"), {"theme": "inconnu", "level": "x", "page": "abc"}
    )
    assert response.status_code == 200


def test_pagination(manager_client, empty_library, make_practice):
    for i in range(23):
        make_practice(f"Pratique numéro {i:02d}", "Un résumé.", slug=f"p-{i}")
    response = manager_client.get(reverse("mallette:index"), {"page": 3})
    html = response.content.decode()
    assert "Page 3 sur 3" in html
    assert html.count('class="practice-item"') == 3


def test_list_page_query_count_does_not_depend_on_page_size(
    manager_client, empty_library, make_practice, django_assert_max_num_queries
):
    for i in range(3):
        make_practice(f"Pratique A{i}", "Résumé.", slug=f"a-{i}", themes=("delegation", "feedback"))
    manager_client.get(reverse("mallette:index"))
    with django_assert_max_num_queries(9) as few:
        manager_client.get(reverse("mallette:index"))
    for i in range(20):
        make_practice(f"Pratique B{i}", "Résumé.", slug=f"b-{i}", themes=("remote", "meetings"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(reverse("mallette:index"))


def test_practice_page_renders_markdown_safely(manager_client, empty_library, make_practice):
    practice = make_practice(
        "Pratique piégée",
        "Résumé <b>gras</b>",
        body="- **Étape** une\n- <script>alert(1)</script>\n- [lien](javascript:alert(1))",
    )
    practices_index()
    html = manager_client.get(
        reverse("mallette:practice", args=[practice.pk, practice.slug])
    ).content.decode()
    assert "<strong>Étape</strong>" in html
    assert "<script>alert" not in html
    assert 'href="javascript' not in html
    assert "Résumé &lt;b&gt;gras&lt;/b&gt;" in html


def test_practice_page_shows_related_practices_and_fixes_the_slug(manager_client, library):
    practice = library["deleguer"]
    response = manager_client.get(reverse("mallette:practice", args=[practice.pk]))
    assert response.status_code == 301
    response = manager_client.get(reverse("mallette:practice", args=[practice.pk, practice.slug]))
    assert response.status_code == 200
    related = response.context["related"]
    assert related and practice not in related
    assert all(r.status == "published" for r in related)


def test_outsider_gets_404_on_an_unknown_practice(manager_client, library):
    assert manager_client.get(reverse("mallette:practice", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(client):
    assert client.get(reverse("mallette:index")).status_code == 302


def test_hr_admin_edits_a_practice_in_the_admin_and_it_is_reindexed(client, hr_admin, library):
    practice = library["merci"]
    client.force_login(hr_admin)
    assert (
        client.get(
            reverse("admin:mallette_practice_changelist") + "?q=merci&status=published"
        ).status_code
        == 200
    )
    assert client.get(reverse("admin:mallette_theme_changelist")).status_code == 200
    url = reverse("admin:mallette_practice_change", args=[practice.pk])
    assert client.get(url).status_code == 200
    revision = practice.revision
    practice.title = "Remercier précisément et vite"
    from django.forms.models import model_to_dict

    data = {k: v for k, v in model_to_dict(practice).items() if v is not None}
    data.update(
        title="Remercier précisément et vite",
        themes=[t.pk for t in practice.themes.all()],
        tags=",".join(practice.tags),
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    practice.refresh_from_db()
    assert practice.title == "Remercier précisément et vite"
    assert practice.revision == revision + 1
    assert practices_index() == 1
