"""The organisation's analytics threshold (k): set by an HR admin only, never below 10."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/analyses/seuil/"


def test_an_hr_admin_sets_the_threshold_and_the_dashboard_applies_it(client, hr_admin):
    client.force_login(hr_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="analytics_min_people"' in page.content.decode()
    response = client.post(URL, {"analytics_min_people": "15"})
    assert response.status_code == 302
    hr_admin.organisation.refresh_from_db()
    assert hr_admin.organisation.analytics_min_people == 15
    assert client.get("/analyses/").context["dashboard"].k == 15
    assert client.get("/analyses/resultats/").context["data"].k == 15


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "Le seuil ne peut pas être inférieur à 10 personnes."),
        ("0", "Le seuil ne peut pas être inférieur à 10 personnes."),
        ("5000", "Le seuil ne peut pas dépasser 1 000 personnes."),
        ("dix", "Saisissez un nombre entier."),
        ("", "Ce champ est obligatoire."),
    ],
)
def test_a_threshold_below_10_is_refused_in_french(client, hr_admin, value, message):
    client.force_login(hr_admin)
    response = client.post(URL, {"analytics_min_people": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    hr_admin.organisation.refresh_from_db()
    assert hr_admin.organisation.analytics_min_people == 10


@pytest.mark.parametrize("persona", ["hr_analyst", "manager", "outsider"])
def test_only_hr_admins_may_set_it(client, request, persona, hr_admin):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"analytics_min_people": "50"}).status_code == 404
    hr_admin.organisation.refresh_from_db()
    assert hr_admin.organisation.analytics_min_people == 10


def test_the_link_shows_for_admins_only(client, hr_admin, hr_analyst):
    client.force_login(hr_analyst)
    assert URL not in client.get("/analyses/").content.decode()
    client.force_login(hr_admin)
    assert URL in client.get("/analyses/").content.decode()
