from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from mallette.models import Practice, PracticeStatus
from selfdiag import services
from selfdiag.models import Action, ActionReminder, ActionStatus
from selfdiag.selectors import actions_of
from selfdiag.tasks import action_reminders_send_task


@pytest.fixture
def practice(db):
    return Practice.objects.filter(
        status=PracticeStatus.PUBLISHED, organisation__isnull=True
    ).first()


def test_action_add_never_duplicates_an_open_action_for_a_practice(manager, practice):
    first = services.action_add(user=manager, practice=practice, source="selfdiag")
    again = services.action_add(user=manager, practice=practice, source="mallette")
    assert again.pk == first.pk
    assert first.title == practice.title and first.source == "selfdiag"
    services.action_update(action=first, status=ActionStatus.DONE, due_date=None)
    third = services.action_add(user=manager, practice=practice)
    assert third.pk != first.pk  # done: trying it again is a new action
    with pytest.raises(ValueError):
        services.action_update(action=first, status=ActionStatus.TODO, due_date=None)
    with pytest.raises(ValueError):
        services.action_add(user=manager)
    assert list(actions_of(manager)) == [third, first]  # open first


def test_plan_add_without_js_redirects_back_with_a_message(manager_client, manager, practice):
    back = reverse("mallette:practice", args=[practice.pk, practice.slug])
    response = manager_client.post(
        reverse("selfdiag:plan_add"), {"practice": practice.pk, "next": back}, follow=True
    )
    assert response.redirect_chain[0][0] == back
    assert f"« {practice.title} » est ajoutée à votre plan d’action." in response.content.decode()
    action = Action.objects.get(owner=manager)
    assert action.practice == practice and action.source == "mallette"
    response = manager_client.post(
        reverse("selfdiag:plan_add"), {"practice": practice.pk, "next": back}, follow=True
    )
    assert "est déjà dans votre plan" in response.content.decode()
    assert Action.objects.filter(owner=manager).count() == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", ""])
def test_plan_add_ignores_an_unsafe_next(manager_client, practice, target):
    response = manager_client.post(
        reverse("selfdiag:plan_add"), {"practice": practice.pk, "next": target}
    )
    assert response.url == reverse("selfdiag:plan")


def test_plan_add_with_htmx_returns_a_small_fragment(manager_client, manager, practice):
    response = manager_client.post(
        reverse("selfdiag:plan_add"),
        {"practice": practice.pk, "source": "selfdiag"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="plan-add-{practice.pk}"' in html and "Ajoutée à mon plan d’action" in html
    assert Action.objects.get(owner=manager).source == "selfdiag"


def test_plan_add_of_a_practice_the_user_may_not_see_is_404(client, outsider, manager, practice):
    hidden = Practice.objects.create(
        organisation=manager.organisation,
        organism=manager.organism,
        slug="locale",
        title="Pratique locale",
        summary="s",
        body="b",
        primary_theme=practice.primary_theme,
        status=PracticeStatus.PUBLISHED,
    )
    client.force_login(outsider)
    for pk in (hidden.pk, "abc", ""):
        assert client.post(reverse("selfdiag:plan_add"), {"practice": pk}).status_code == 404
    assert not Action.objects.exists()


def test_the_include_renders_a_form_working_without_js(rf: RequestFactory, manager, practice):
    request = rf.get("/mallette/pratiques/1/")
    request.user = manager
    html = render_to_string(
        "selfdiag/partials/plan_add_button.html", {"practice": practice}, request=request
    )
    assert 'method="post" action="/autodiagnostic/plan/ajouter/"' in html
    assert f'name="practice" value="{practice.pk}"' in html
    assert 'name="next" value="/mallette/pratiques/1/"' in html
    assert "csrfmiddlewaretoken" in html


def test_plan_page_adds_free_text_actions_and_shows_french_errors(manager_client, manager):
    response = manager_client.post(
        reverse("selfdiag:plan"), {"title": "", "due_date": "31/02/2026"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Décrivez l’action en quelques mots." in html
    assert "Saisissez une date valide" in html
    assert 'value="31/02/2026"' in html  # input kept
    response = manager_client.post(
        reverse("selfdiag:plan"),
        {"title": "Point individuel avec chaque agent", "due_date": "2026-09-15"},
        follow=True,
    )
    assert "L’action est ajoutée à votre plan." in response.content.decode()
    action = Action.objects.get(owner=manager)
    assert action.due_date == date(2026, 9, 15) and action.source == "manual"


def test_plan_page_is_paginated(manager_client, manager):
    for n in range(25):
        services.action_add(user=manager, title=f"Action {n}")
    html = manager_client.get(reverse("selfdiag:plan")).content.decode()
    assert "25 actions" in html and "Page 1 sur 2" in html
    assert html.count('class="sd-action ') == 20
    html = manager_client.get(reverse("selfdiag:plan"), {"page": 2}).content.decode()
    assert html.count('class="sd-action ') == 5


def test_edit_status_and_due_date_with_and_without_htmx(manager_client, manager):
    action = services.action_add(user=manager, title="Tester le point hebdo")
    url = reverse("selfdiag:plan_edit", args=[action.pk])
    response = manager_client.post(
        url, {"status": "doing", "due_date": "2026-10-01", "title": action.title}
    )
    assert response.url == reverse("selfdiag:plan")
    action.refresh_from_db()
    assert action.status == "doing" and action.due_date == date(2026, 10, 1)
    response = manager_client.post(url, {"status": "done", "due_date": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and f'id="action-{action.pk}"' in html and "Enregistré." in html
    action.refresh_from_db()
    assert action.status == "done" and action.completed_at and action.due_date is None
    assert action.title == "Tester le point hebdo"  # blank title keeps the old one
    response = manager_client.post(url, {"status": "nope", "due_date": "demain"})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_delete_an_action(manager_client, manager):
    action = services.action_add(user=manager, title="À supprimer")
    response = manager_client.post(
        reverse("selfdiag:plan_delete", args=[action.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response.content == b""
    assert not Action.objects.exists()


def test_outsider_gets_404_on_someone_elses_action(client, manager, outsider, member):
    action = services.action_add(user=manager, title="Privée")
    for other in (outsider, member):
        client.force_login(other)
        assert client.get(reverse("selfdiag:plan_edit", args=[action.pk])).status_code == 404
        assert client.post(reverse("selfdiag:plan_edit", args=[action.pk]), {}).status_code == 404
        assert client.post(reverse("selfdiag:plan_delete", args=[action.pk])).status_code == 404
        assert "Privée" not in client.get(reverse("selfdiag:plan")).content.decode()
    assert Action.objects.filter(pk=action.pk).exists()


def test_reminders_are_sent_once_per_action_kind_and_due_date(
    manager, member, django_capture_on_commit_callbacks
):
    today = date(2026, 6, 10)
    soon = services.action_add(user=manager, title="Bientôt", due_date=today + timedelta(days=2))
    late = services.action_add(user=manager, title="En retard", due_date=today - timedelta(days=1))
    services.action_add(user=manager, title="Plus tard", due_date=today + timedelta(days=10))
    services.action_add(user=manager, title="Sans date")
    done = services.action_add(user=manager, title="Faite", due_date=today)
    services.action_update(action=done, status=ActionStatus.DONE, due_date=today)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.action_reminders_send(today=today) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert "2 actions à échéance" in message.subject
    assert "Bientôt : à faire d’ici le 12 juin 2026" in message.body
    assert "En retard : échéance dépassée (9 juin 2026)" in message.body
    assert "Plus tard" not in message.body and "Faite" not in message.body
    assert "/autodiagnostic/plan/" in message.body

    with django_capture_on_commit_callbacks(execute=True):
        assert services.action_reminders_send(today=today) == 0  # idempotent
    assert len(mail.outbox) == 1
    # The next day the "soon" action is not reminded again; a moved due date is.
    services.action_update(action=soon, status="todo", due_date=today + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.action_reminders_send(today=today + timedelta(days=1)) == 1
    assert "Bientôt" in mail.outbox[1].body and "En retard" not in mail.outbox[1].body
    assert ActionReminder.objects.filter(action=late).count() == 1


def test_the_reminder_task_calls_the_service(manager, django_capture_on_commit_callbacks):
    services.action_add(user=manager, title="Aujourd’hui", due_date=date.today())
    with django_capture_on_commit_callbacks(execute=True):
        assert action_reminders_send_task.apply().get() == 1
    assert len(mail.outbox) == 1
