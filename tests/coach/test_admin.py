"""Coach admin: conversations stay private (never registered); support sees deliveries."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from coach import exercises
from coach.models import (
    Conversation,
    Exchange,
    Exercise,
    ExerciseDelivery,
    ExercisePreference,
    OrganismWebhook,
    SupportContact,
)


def test_conversations_and_exchanges_are_not_in_the_admin():
    assert not admin.site.is_registered(Conversation)
    assert not admin.site.is_registered(Exchange)
    assert all(
        model._meta.app_label != "coach" or model not in (Conversation, Exchange)
        for model in admin.site._registry
    )


def test_support_models_are_registered():
    for model in (SupportContact, OrganismWebhook, ExercisePreference, Exercise, ExerciseDelivery):
        assert admin.site.is_registered(model)


def test_hr_admin_cannot_reach_a_conversation_by_url(client, hr_admin, manager):
    Conversation.objects.create(user=manager, title="Privé")
    client.force_login(hr_admin)
    assert client.get("/admin/coach/conversation/").status_code == 404
    assert client.get("/admin/coach/exchange/").status_code == 404


def test_exercises_are_read_only_and_hide_the_answer(client, hr_admin, manager):
    exercise = exercises.exercise_for_week(
        user=manager, week=exercises.week_of(__import__("datetime").date(2026, 3, 2))
    )
    exercises.exercise_answer(exercise=exercise, answer="Ma réflexion très personnelle")
    client.force_login(hr_admin)
    page = client.get(reverse("admin:coach_exercise_change", args=[exercise.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ma réflexion très personnelle" not in html
    assert 'name="title"' not in html  # no editable field
    assert client.get(reverse("admin:coach_exercise_add")).status_code == 403


def test_organism_webhook_admin_requires_https(client, hr_admin, organism):
    client.force_login(hr_admin)
    url = reverse("admin:coach_organismwebhook_add")
    response = client.post(
        url,
        {
            "organism": organism.pk,
            "channel": "teams",
            "url": "http://teams.example.org/x",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "doit commencer par https://" in response.content.decode()
    assert not OrganismWebhook.objects.exists()
    response = client.post(
        url,
        {
            "organism": organism.pk,
            "channel": "teams",
            "url": "https://cnam.webhook.office.com/webhookb2/abc",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert OrganismWebhook.objects.get().organism == organism


def test_admin_lists_render(client, hr_admin, manager):
    exercise = exercises.exercise_for_week(
        user=manager, week=__import__("datetime").date(2026, 3, 2)
    )
    ExerciseDelivery.objects.create(
        exercise=exercise,
        channel="email",
        target=manager.email,
        state="failed",
        attempts=2,
        last_error="Serveur injoignable",
    )
    ExercisePreference.objects.create(
        user=manager, slack_webhook_url="https://hooks.slack.com/services/SECRET"
    )
    SupportContact.objects.create(organisation=manager.organisation, kind="hr", label="DRH")
    client.force_login(hr_admin)
    for name in (
        "exercise",
        "exercisedelivery",
        "exercisepreference",
        "supportcontact",
        "organismwebhook",
        "organismpost",
    ):
        response = client.get(reverse(f"admin:coach_{name}_changelist"))
        assert response.status_code == 200, name
    assert (
        "Serveur injoignable"
        in client.get(reverse("admin:coach_exercisedelivery_changelist")).content.decode()
    )
    assert (
        "SECRET"
        not in client.get(reverse("admin:coach_exercisepreference_changelist")).content.decode()
    )
