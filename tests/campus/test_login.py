from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse


@pytest.mark.django_db
def test_login_page_is_french_and_has_no_signup(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "Connexion au campus" in html
    assert "Mot de passe oublié" in html
    assert "M’envoyer un code de connexion" in html
    assert "signup" not in html


def test_manager_logs_in_with_email_and_password(client, manager, password):
    response = client.post(
        reverse("account_login"), {"login": "MANAGER@campus.test", "password": password}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_shows_a_french_error_and_keeps_the_email(client, manager):
    response = client.post(
        reverse("account_login"), {"login": manager.email, "password": "pas-le-bon"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "L’adresse e-mail et/ou le mot de passe" in html or "adresse e-mail" in html
    assert f'value="{manager.email}"' in html


def test_failed_logins_are_rate_limited(client, manager):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": manager.email, "password": "mauvais"})
    response = client.post(
        reverse("account_login"), {"login": manager.email, "password": "mauvais"}
    )
    assert response.status_code in (200, 429)
    assert "Trop de tentatives" in response.content.decode() or response.status_code == 429


def test_login_by_emailed_code(client, manager):
    response = client.post(reverse("account_request_login_code"), {"email": manager.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert body.startswith("Bonjour,")
    assert "Campus des managers" in body
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_collaborators_cannot_log_in_with_a_password(client, member):
    response = client.post(reverse("account_login"), {"login": member.email, "password": ""})
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_password_reset_sends_an_email(client, manager):
    response = client.post(reverse("account_reset_password"), {"email": manager.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert manager.email in mail.outbox[0].to


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_hr_admin_reaches_the_admin_after_login(client, hr_admin):
    client.force_login(hr_admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/campus/user/").status_code == 200
    assert client.get("/admin/campus/user/?q=martin&role=hr_admin").status_code == 200


def test_manager_is_refused_by_the_admin(manager_client):
    response = manager_client.get("/admin/")
    assert response.status_code == 302


def test_logout_is_a_post(manager_client):
    response = manager_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert manager_client.get(reverse("home")).status_code == 302
