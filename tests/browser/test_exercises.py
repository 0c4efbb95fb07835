"""Browser: a manager gets this week's exercise, answers it, finds it in the history, and sets
their preferences; axe-core finds no violation; screenshots are saved."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campus.models import User
from coach import exercises
from coach.models import Exercise, ExercisePreference
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login


@pytest.fixture(autouse=True)
def _library(transactional_db):
    """Transactional tests flush every table when they end: put the themes and practices
    back (idempotent) so that exercises have something to choose from."""
    from mallette.corpus import corpus_load
    from mallette.models import Practice, Theme

    corpus_load(theme_model=Theme, practice_model=Practice)


def test_manager_answers_the_weekly_exercise_and_finds_it_in_history(
    page, live_server, demo, screenshot, page_errors, external_requests
):
    manager = User.objects.get(email=MANAGER_EMAIL)
    this_week = exercises.week_of(timezone.localdate())
    past = exercises.exercise_for_week(user=manager, week=this_week - timedelta(weeks=1))
    login(page, live_server, MANAGER_EMAIL)

    page.goto(live_server.url + reverse("coach:exercise_list"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes exercices de la semaine")
    assert_accessible(page, "exercises-empty-week")
    screenshot(page, "exercises-list-before")

    page.get_by_role("button", name="Recevoir mon exercice maintenant").click()
    current = Exercise.objects.get(user=manager, week=this_week)
    expect(page).to_have_url(
        re.compile(re.escape(reverse("coach:exercise_detail", args=[current.pk])) + "$")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(current.title)
    expect(page.get_by_text(current.question)).to_be_visible()
    assert_accessible(page, "exercise-detail")

    page.get_by_role("button", name="Enregistrer ma réponse").click()  # empty: French error
    expect(page.get_by_text("Écrivez votre réponse avant de l’enregistrer.").first).to_be_visible()
    assert_accessible(page, "exercise-detail-error")
    screenshot(page, "exercise-detail-error")

    page.get_by_label("Votre réponse").fill("J’ai confié le planning à l’équipe du matin.")
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.get_by_text("Votre réponse est enregistrée dans votre historique.")).to_be_visible()
    expect(page.get_by_label("Votre réponse")).to_have_value(
        "J’ai confié le planning à l’équipe du matin."
    )
    screenshot(page, "exercise-detail-answered")

    page.get_by_role("link", name="Retour à mes exercices").click()
    expect(page.locator(".exercise-current").get_by_text("Répondu")).to_be_visible()
    history = page.locator(".exercise-history")
    history.get_by_role("link", name=past.title).click()
    page.get_by_label("Votre réponse").fill("La semaine dernière, j’ai essayé et ça a marché.")
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    page.get_by_role("link", name="Retour à mes exercices").click()
    expect(history.get_by_text("La semaine dernière, j’ai essayé et ça a marché.")).to_be_visible()
    assert_accessible(page, "exercises-list")
    screenshot(page, "exercises-list")
    assert page_errors == []
    assert external_requests == []


def test_manager_sets_exercise_preferences(page, live_server, demo, screenshot, page_errors):
    manager = User.objects.get(email=MANAGER_EMAIL)
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("coach:exercise_preferences"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes préférences d’exercices")
    assert_accessible(page, "exercise-preferences")

    page.get_by_label("Recevoir un exercice chaque lundi").check()
    page.get_by_label("Webhook Slack personnel").fill("http://intranet.example.org/hook")
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(page.get_by_text("doit commencer par https://").first).to_be_visible()
    assert_accessible(page, "exercise-preferences-error")
    screenshot(page, "exercise-preferences-error")

    page.get_by_label("Webhook Slack personnel").fill("https://hooks.slack.com/services/T0/B0/x")
    page.get_by_label(re.compile(r"^Réunions et rituels")).check()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(page.get_by_text("Vos préférences sont enregistrées.")).to_be_visible()
    screenshot(page, "exercise-preferences")
    preference = ExercisePreference.objects.get(user=manager)
    assert preference.enabled and preference.theme_slugs == ["meetings"]
    assert page_errors == []
