from __future__ import annotations

import pytest
from django.urls import reverse

FEATURE_PAGES = [
    "selfdiag:index",
    "feedback180:index",
    "mallette:index",
    "coach:index",
    "boosts:index",
    "communities:index",
]


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_manager_home_lists_every_feature_area(manager_client, member):
    response = manager_client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in FEATURE_PAGES:
        assert f'href="{reverse(name)}"' in html
    assert "Vous encadrez 1 personne" in html
    assert 'lang="fr"' in html


@pytest.mark.parametrize("name", FEATURE_PAGES)
def test_feature_areas_have_their_url_namespace(manager_client, name):
    response = manager_client.get(reverse(name))
    assert response.status_code == 200
    assert 'aria-current="page"' in response.content.decode()


def test_pages_send_a_strict_content_security_policy(manager_client):
    response = manager_client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_pages_load_nothing_from_another_origin(manager_client):
    html = manager_client.get(reverse("home")).content.decode()
    for attr in ('src="http', "src='http", 'href="http', "href='http", 'src="//', 'href="//'):
        assert attr not in html


def test_htmx_requests_carry_the_csrf_token(manager_client):
    html = manager_client.get(reverse("home")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["accessibility", "privacy"])
def test_public_pages_are_reachable_without_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.django_db
def test_health_endpoint_checks_the_database(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_import_page_is_hidden_from_managers(manager_client):
    assert manager_client.get(reverse("people_import")).status_code == 404


def test_home_shows_the_team_and_the_line_manager(client, manager, member, organism):
    from tests.factories import ManagerFactory

    boss = ManagerFactory(organism=organism, first_name="Isabelle", last_name="Lefèvre")
    manager.manager = boss
    manager.save()
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert "Mon équipe" in html
    assert member.full_name in html
    assert "Isabelle Lefèvre" in html


def test_home_with_a_large_team_lists_twelve_and_counts_all(client, manager, organism):
    from tests.factories import CollaboratorFactory

    CollaboratorFactory.create_batch(30, organism=organism, manager=manager)
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert html.count('class="person-name"') == 12
    assert "30 personnes au total" in html


def test_home_query_count_does_not_grow_with_the_team(
    client, manager, organism, django_assert_max_num_queries
):
    from tests.factories import CollaboratorFactory

    CollaboratorFactory.create_batch(40, organism=organism, manager=manager)
    client.force_login(manager)
    client.get(reverse("home"))  # session now cached
    with django_assert_max_num_queries(7):
        client.get(reverse("home"))


def test_manager_without_a_team_is_told_what_to_do(client, manager):
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert "signalez-le à votre administrateur RH" in html
