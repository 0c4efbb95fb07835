"""Weekly micro-exercises: choice, delivery to a local stand-in for Teams/Slack, retries,
the hourly schedule, and the manager's pages."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campus.celery import app
from coach import exercises, tasks
from coach.models import (
    AnswerKind,
    Conversation,
    Exchange,
    Exercise,
    ExerciseChannel,
    ExerciseDelivery,
    ExercisePreference,
    OrganismPost,
    OrganismWebhook,
)
from mallette.models import Practice, PracticeStatus, PracticeUse, PracticeUseKind, Theme
from mallette.selectors import practices_visible_to
from tests.campus.ai.conftest import fake_openai, fake_openai_server  # noqa: F401 (fixtures)
from tests.campus.ai.fake_openai import CHAT, Reply
from tests.coach.webhook_server import WebhookServer
from tests.factories import ManagerFactory

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 3, 2)
SENT = ExerciseDelivery.State.SENT
FAILED = ExerciseDelivery.State.FAILED


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.CAMPUS_AI_BACKEND = "local"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CAMPUS_SITE_URL = "https://campus.example.fr"


@pytest.fixture(scope="module")
def server():
    s = WebhookServer()
    yield s
    s.stop()


@pytest.fixture
def hooks(server):
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def opt_in(user, **fields):
    return ExercisePreference.objects.create(user=user, **fields)


def paris(y, m, d, h, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=PARIS)


# --- Choosing ---------------------------------------------------------------------------------


def test_the_exercise_of_a_week_is_created_once(manager):
    first = exercises.exercise_for_week(user=manager, week=MONDAY + timedelta(days=3))
    again = exercises.exercise_for_week(user=manager, week=MONDAY)
    assert first.pk == again.pk
    assert first.week == MONDAY
    assert Exercise.objects.filter(user=manager).count() == 1


def test_the_exercise_is_a_visible_practice_with_its_first_actions_and_a_question(manager):
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    practice = exercise.practice
    assert practices_visible_to(manager).filter(pk=practice.pk).exists()
    actions = exercises.exercise_actions(exercise)
    assert 1 <= len(actions) <= 3
    assert actions[0] == exercises.practice_actions(practice)[0]
    assert not actions[0].startswith("-")
    assert exercise.question.endswith("?")
    assert exercise.title == practice.title


def test_preferred_themes_come_first(manager):
    opt_in(manager, theme_slugs=["meetings"])
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    assert exercise.practice.primary_theme.slug == "meetings"
    assert exercise.question in [
        exercises.templated_question(theme_slug="meetings", week=MONDAY),
    ]


def test_without_preferences_the_themes_of_favourites_are_used(manager):
    favourite = Practice.objects.filter(
        primary_theme__slug="remote", status=PracticeStatus.PUBLISHED
    ).first()
    PracticeUse.objects.create(user=manager, practice=favourite, kind=PracticeUseKind.FAVOURITE)
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    assert exercise.practice.primary_theme.slug == "remote"


def test_then_the_themes_of_recent_coach_questions(manager):
    conversation = Conversation.objects.create(user=manager, title="Conflit")
    for _ in range(2):
        Exchange.objects.create(
            conversation=conversation,
            question="Deux agents se disputent",
            question_scrubbed="Deux agents se disputent",
            kind=AnswerKind.ANSWER,
            theme_slug="conflict",
        )
    assert exercises.themes_for(manager) == (["conflict"], "coach")
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    assert exercise.practice.primary_theme.slug == "conflict"


def test_practices_of_the_last_eight_weeks_are_not_repeated(manager):
    opt_in(manager, theme_slugs=["onboarding"])
    seen = []
    for n in range(6):
        seen.append(exercises.exercise_for_week(user=manager, week=MONDAY + timedelta(weeks=n)))
    practice_ids = [e.practice_id for e in seen]
    assert len(set(practice_ids)) == len(practice_ids)


def test_practices_of_another_organism_are_never_chosen(manager, outsider):
    theme = Theme.objects.get(slug="digital")
    private = Practice.objects.create(
        organisation=outsider.organisation,
        organism=outsider.organism,
        slug="secret",
        title="Pratique interne d’un autre organisme",
        summary="…",
        body="- Faire ceci\n- Faire cela",
        primary_theme=theme,
        status=PracticeStatus.PUBLISHED,
    )
    opt_in(manager, theme_slugs=["digital"])
    chosen = {
        exercises.exercise_for_week(user=manager, week=MONDAY + timedelta(weeks=n)).practice_id
        for n in range(4)
    }
    assert private.pk not in chosen


def test_open_actions_of_the_action_plan_come_first(manager, monkeypatch):
    planned = Practice.objects.filter(primary_theme__slug="decision").first()
    monkeypatch.setattr(exercises, "_action_plan_practice_ids", lambda user: [planned.pk])
    opt_in(manager, theme_slugs=["meetings"])
    assert exercises.exercise_for_week(user=manager, week=MONDAY).practice_id == planned.pk


def test_the_question_is_written_by_the_llm_when_configured(manager, fake_openai):  # noqa: F811
    fake_openai.enqueue(CHAT, Reply(json.dumps({"question": "Qu’avez-vous délégué lundi ?"})))
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    assert exercise.question == "Qu’avez-vous délégué lundi ?"
    (request,) = fake_openai.requests_to(CHAT)
    sent = request.body["messages"]
    assert sent[0]["role"] == "system" and "données" in sent[0]["content"]
    data = json.loads(sent[1]["content"])
    assert data["pratique"]["titre"] == exercise.title
    # Nothing about the manager leaves the machine.
    assert manager.email not in json.dumps(request.body)
    assert manager.last_name not in json.dumps(request.body)


# --- Delivering -------------------------------------------------------------------------------


def setup_channels(manager, hooks):
    opt_in(
        manager,
        teams_webhook_url=hooks.url + "/me/teams",
        slack_webhook_url=hooks.url + "/me/slack",
    )
    OrganismWebhook.objects.create(
        organism=manager.organism, channel=ExerciseChannel.TEAMS, url=hooks.url + "/org/teams"
    )
    OrganismWebhook.objects.create(
        organism=manager.organism, channel=ExerciseChannel.SLACK, url=hooks.url + "/org/slack"
    )
    OrganismWebhook.objects.create(
        organism=manager.organism,
        channel=ExerciseChannel.SLACK,
        url=hooks.url + "/org/off",
        active=False,
    )


def test_delivery_by_email_teams_and_slack_with_the_right_formats(manager, hooks):
    setup_channels(manager, hooks)
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    deliveries = exercises.exercise_deliver(exercise=exercise)

    assert sorted(d.channel for d in deliveries) == ["email", "slack", "teams"]
    assert all(d.state == SENT and d.attempts == 1 and d.sent_at for d in deliveries)
    (email,) = mail.outbox
    assert email.to == [manager.email]
    assert exercise.title in email.subject
    assert f"https://campus.example.fr/coach/exercices/{exercise.pk}/" in email.body

    teams = hooks.to("/me/teams")[0].body
    content = teams["attachments"][0]["content"]
    assert teams["type"] == "message" and content["type"] == "AdaptiveCard"
    assert content["actions"][0]["url"].endswith(f"/coach/exercices/{exercise.pk}/")
    slack = hooks.to("/me/slack")[0].body
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "actions"]
    assert exercise.question in slack["blocks"][1]["text"]["text"].replace("&amp;", "&")

    # The organism's channels get the week's practice, once, and nothing personal.
    assert len(hooks.to("/org/teams")) == 1 and len(hooks.to("/org/slack")) == 1
    assert hooks.to("/org/off") == []
    org_text = json.dumps([hooks.to("/org/teams")[0].body, hooks.to("/org/slack")[0].body])
    for personal in (manager.email, manager.first_name, manager.last_name, exercise.question):
        assert personal not in org_text
    assert "/coach/exercices/" in org_text


def test_delivering_twice_sends_nothing_twice(manager, hooks):
    setup_channels(manager, hooks)
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    exercises.exercise_deliver(exercise=exercise)
    exercises.exercise_deliver(exercise=exercise)
    exercises.retries_run(now=timezone.now() + timedelta(days=1))
    assert ExerciseDelivery.objects.filter(exercise=exercise).count() == 3
    assert len(mail.outbox) == 1
    assert len(hooks.received) == 4  # 2 personal + 2 organism channels


def test_an_organism_channel_gets_one_message_a_week_whatever_the_number_of_managers(
    manager, hooks
):
    OrganismWebhook.objects.create(
        organism=manager.organism, channel=ExerciseChannel.SLACK, url=hooks.url + "/org/slack"
    )
    others = ManagerFactory.create_batch(3, organism=manager.organism)
    for user in [manager, *others]:
        opt_in(user, email=False)
        exercises.exercise_deliver(exercise=exercises.exercise_for_week(user=user, week=MONDAY))
    assert len(hooks.to("/org/slack")) == 1
    assert OrganismPost.objects.get().state == SENT
    # Next week: a new message, with another practice.
    exercises.exercise_deliver(
        exercise=exercises.exercise_for_week(user=manager, week=MONDAY + timedelta(weeks=1))
    )
    assert len(hooks.to("/org/slack")) == 2
    first, second = OrganismPost.objects.order_by("week")
    assert first.practice_id != second.practice_id


def test_a_failed_delivery_is_retried_with_backoff_then_sent_once(manager, hooks):
    opt_in(manager, email=False, teams_webhook_url=hooks.url + "/me/teams")
    hooks.script("/me/teams", 500, 200)
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    (delivery,) = exercises.exercise_deliver(exercise=exercise)
    assert delivery.state == FAILED and delivery.attempts == 1
    assert delivery.last_error == "Microsoft Teams a refusé le message (réponse HTTP 500)."
    assert delivery.next_attempt_at is not None

    # Not due yet: nothing is sent.
    assert exercises.retries_run(now=delivery.next_attempt_at - timedelta(seconds=1)) == {
        "retried": 0,
        "retried_sent": 0,
    }
    assert exercises.retries_run(now=delivery.next_attempt_at) == {
        "retried": 1,
        "retried_sent": 1,
    }
    delivery.refresh_from_db()
    assert delivery.state == SENT and delivery.attempts == 2 and delivery.last_error == ""
    assert exercises.retries_run(now=timezone.now() + timedelta(days=2))["retried"] == 0
    assert len(hooks.to("/me/teams")) == 2


def test_backoff_doubles_and_stops_after_the_last_attempt(manager, hooks):
    opt_in(manager, email=False, slack_webhook_url=hooks.url + "/me/slack")
    hooks.script("/me/slack", *([503] * 10))
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    (delivery,) = exercises.exercise_deliver(exercise=exercise)
    delays = []
    for _ in range(10):
        delivery.refresh_from_db()
        if delivery.next_attempt_at is None:
            break
        delays.append(delivery.next_attempt_at)
        exercises.retries_run(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.attempts == exercises.MAX_ATTEMPTS
    assert delivery.state == FAILED and delivery.next_attempt_at is None
    assert len(hooks.to("/me/slack")) == exercises.MAX_ATTEMPTS
    assert [exercises.backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]


def test_delivery_retry_task_sends_a_failed_delivery(manager, hooks):
    opt_in(manager, email=False, teams_webhook_url=hooks.url + "/me/teams")
    hooks.script("/me/teams", 500)
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    (delivery,) = exercises.exercise_deliver(exercise=exercise)
    assert tasks.delivery_retry.run(delivery_id=delivery.pk) == SENT
    assert tasks.delivery_retry.run(delivery_id=delivery.pk) == SENT
    assert len(hooks.to("/me/teams")) == 2


# --- The hourly schedule ----------------------------------------------------------------------


def test_the_hourly_task_creates_exercises_from_monday_nine_only_once(
    manager, member, hooks, eager
):
    opt_in(manager, teams_webhook_url=hooks.url + "/me/teams")
    idle = ManagerFactory(organism=manager.organism)  # no preference: not opted in
    ExercisePreference.objects.create(user=ManagerFactory(organism=manager.organism), enabled=False)
    gone = ManagerFactory(organism=manager.organism, is_active=False)
    opt_in(gone)
    opt_in(member)  # a collaborator, not a manager

    for before in (paris(2026, 3, 1, 20), paris(2026, 3, 2, 8, 59)):
        outcome = tasks.exercises_send_due.apply(kwargs={"now": before.isoformat()}).get()
        assert outcome["batches"] == 0
    assert not Exercise.objects.exists()

    outcome = tasks.exercises_send_due.apply(kwargs={"now": paris(2026, 3, 2, 9).isoformat()}).get()
    assert outcome["missing"] == 1 and outcome["batches"] == 1
    exercise = Exercise.objects.get()
    assert exercise.user == manager and exercise.week == MONDAY
    assert len(mail.outbox) == 1 and len(hooks.to("/me/teams")) == 1

    outcome = tasks.exercises_send_due.apply(kwargs={"now": paris(2026, 3, 2, 10).isoformat()})
    assert outcome.get()["missing"] == 0 and outcome.get()["batches"] == 0
    for later in (paris(2026, 3, 3, 9), paris(2026, 3, 8, 23)):  # rest of the week: retries only
        outcome = tasks.exercises_send_due.apply(kwargs={"now": later.isoformat()}).get()
        assert outcome["batches"] == 0 and "missing" not in outcome
    assert Exercise.objects.count() == 1
    assert len(mail.outbox) == 1 and len(hooks.to("/me/teams")) == 1
    assert not Exercise.objects.filter(user__in=[idle, gone, member]).exists()


def test_later_runs_retry_failed_deliveries(manager, hooks, eager, monkeypatch):
    opt_in(manager, email=False, slack_webhook_url=hooks.url + "/me/slack")
    hooks.script("/me/slack", 500)
    # The retry scheduled by the batch would run at once in eager mode: keep it queued.
    monkeypatch.setattr(tasks.delivery_retry, "apply_async", lambda **kw: None)
    tasks.exercises_send_due.apply(kwargs={"now": paris(2026, 3, 2, 9).isoformat()}).get()
    delivery = ExerciseDelivery.objects.get()
    assert delivery.state == FAILED
    outcome = tasks.exercises_send_due.apply(
        kwargs={"now": (delivery.next_attempt_at + timedelta(minutes=1)).isoformat()}
    ).get()
    assert outcome["retried_sent"] == 1
    delivery.refresh_from_db()
    assert delivery.state == SENT and delivery.attempts == 2


# --- Pages ------------------------------------------------------------------------------------


def test_a_manager_gets_answers_and_finds_this_weeks_exercise(manager_client, manager):
    response = manager_client.get(reverse("coach:exercise_list"))
    assert response.status_code == 200
    assert "Recevoir mon exercice maintenant" in response.content.decode()

    response = manager_client.post(reverse("coach:exercise_start"))
    exercise = Exercise.objects.get(user=manager)
    assert response.status_code == 302
    assert response["Location"] == reverse("coach:exercise_detail", args=[exercise.pk])

    page = manager_client.get(response["Location"]).content.decode()
    assert exercise.question.replace("’", "&#x27;") in page or exercise.question in page
    assert exercises.exercise_actions(exercise)[0][:20] in page.replace("&#x27;", "'")

    response = manager_client.post(
        reverse("coach:exercise_detail", args=[exercise.pk]),
        {"answer": "  J’ai délégué le planning à Sam.  "},
        follow=True,
    )
    assert "Votre réponse est enregistrée" in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.answer == "J’ai délégué le planning à Sam."
    assert exercise.answered_at is not None


def test_an_empty_or_too_long_answer_is_refused_in_french_and_the_text_kept(
    manager_client, manager
):
    exercise = exercises.exercise_for_week(user=manager, week=timezone.localdate())
    url = reverse("coach:exercise_detail", args=[exercise.pk])
    response = manager_client.post(url, {"answer": "   "})
    assert response.status_code == 200
    assert "Écrivez votre réponse avant de l’enregistrer." in response.content.decode()
    long = "é" * 4001
    response = manager_client.post(url, {"answer": long})
    page = response.content.decode()
    assert "Votre réponse est trop longue (4000 caractères au plus" in page
    assert long in page
    exercise.refresh_from_db()
    assert exercise.answer == ""


def test_history_lists_past_exercises_with_answers_paginated(manager_client, manager):
    this_week = exercises.week_of(timezone.localdate())
    for n in range(1, 13):
        e = exercises.exercise_for_week(user=manager, week=this_week - timedelta(weeks=n))
        exercises.exercise_answer(exercise=e, answer=f"Réponse de la semaine {n}")
    page = manager_client.get(reverse("coach:exercise_list")).content.decode()
    assert "Réponse de la semaine 1" in page and "Page 1 sur 2" in page
    page2 = manager_client.get(reverse("coach:exercise_list") + "?page=2").content.decode()
    assert "Réponse de la semaine 12" in page2


def test_another_manager_gets_404_on_an_exercise(client, manager, outsider):
    exercise = exercises.exercise_for_week(user=manager, week=MONDAY)
    colleague = ManagerFactory(organism=manager.organism)
    for user in (outsider, colleague):
        client.force_login(user)
        url = reverse("coach:exercise_detail", args=[exercise.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"answer": "intrusion"}).status_code == 404
    exercise.refresh_from_db()
    assert exercise.answer == ""


def test_pages_need_a_login(client):
    for name in ("coach:exercise_list", "coach:exercise_preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_preferences_are_saved(manager_client, manager):
    response = manager_client.post(
        reverse("coach:exercise_preferences"),
        {
            "enabled": "on",
            "slack_webhook_url": "https://hooks.slack.com/services/T0/B0/abc",
            "theme_slugs": ["feedback", "remote"],
            "action": "save",
        },
    )
    assert response.status_code == 302
    preference = ExercisePreference.objects.get(user=manager)
    assert preference.enabled and not preference.email
    assert preference.slack_webhook_url == "https://hooks.slack.com/services/T0/B0/abc"
    assert preference.theme_slugs == ["feedback", "remote"]
    page = manager_client.get(reverse("coach:exercise_preferences")).content.decode()
    assert 'value="feedback" id="id_theme_slugs_1" checked' in page or "checked" in page


def test_a_webhook_of_an_unknown_host_is_refused_in_french(manager_client, manager):
    response = manager_client.post(
        reverse("coach:exercise_preferences"),
        {
            "enabled": "on",
            "teams_webhook_url": "http://intranet.example.org/hook",
            "theme_slugs": ["nope"],
            "action": "save",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "doit commencer par https://" in page
    assert "Ce thème n’existe pas." in page or "Ce thème n&#x27;existe pas." in page
    assert "http://intranet.example.org/hook" in page
    assert not ExercisePreference.objects.filter(user=manager).exists()


def test_the_test_button_posts_to_the_webhook_and_reports(manager_client, manager, hooks):
    url = hooks.url + "/me/teams"
    response = manager_client.post(
        reverse("coach:exercise_preferences"),
        {"teams_webhook_url": url, "action": "test_teams"},
    )
    page = response.content.decode()
    assert "Message de test envoyé sur Microsoft Teams" in page
    (received,) = hooks.to("/me/teams")
    assert received.body["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert url in page  # kept in the form, not saved by a test
    assert not ExercisePreference.objects.filter(user=manager).exists()

    hooks.script("/me/slack", 404)
    response = manager_client.post(
        reverse("coach:exercise_preferences"),
        {"slack_webhook_url": hooks.url + "/me/slack", "action": "test_slack"},
    )
    assert "Slack a refusé le message (réponse HTTP 404)" in response.content.decode()
    response = manager_client.post(reverse("coach:exercise_preferences"), {"action": "test_slack"})
    assert "Indiquez d’abord l’adresse du webhook à tester." in response.content.decode()


def test_the_open_action_of_the_real_self_diagnosis_plan_is_preferred(manager):
    from selfdiag.models import Action, ActionStatus

    done, planned = Practice.objects.filter(primary_theme__slug="decision")[:2]
    Action.objects.create(owner=manager, practice=done, title="Fait", status=ActionStatus.DONE)
    Action.objects.create(owner=manager, practice=planned, title="À faire")
    opt_in(manager, theme_slugs=["meetings"])
    assert exercises.exercise_for_week(user=manager, week=MONDAY).practice_id == planned.pk
