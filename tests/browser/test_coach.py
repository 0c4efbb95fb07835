"""Coach Liza in Chromium: ask, read the cited practices, rate, history, delete; privacy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campus import ai
from coach.models import Conversation
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login
from tests.coach.conftest import corpus_subset, memo_embed

OTHER_MANAGER_EMAIL = "isabelle.lefevre@demo.campus.test"


@pytest.fixture
def library(demo, monkeypatch):
    monkeypatch.setattr(ai, "embed", memo_embed)
    return corpus_subset(per_theme=2)


@pytest.mark.browser
def test_manager_asks_rates_finds_history_and_deletes(
    page, live_server, library, screenshot, page_errors
):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("coach:index"))
    expect(page.get_by_text("Aucune conversation pour l’instant")).to_be_visible()
    assert_accessible(page, "coach-vide")

    box = page.get_by_label("Votre question")
    box.focus()
    page.keyboard.type("Mon équipe reste silencieuse en réunion, comment la faire participer ?")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the "Demander à Liza" button, by keyboard
    answer = page.locator(".exchange").first
    # The first question of the process loads the scrubber and embedding models.
    expect(answer.get_by_role("heading", name="Pratiques citées")).to_be_visible(timeout=60_000)
    link = answer.locator(".sources a").first
    expect(link).to_have_attribute("href", re.compile(r"^/mallette/pratiques/\d+/"))
    expect(box).to_have_value("")  # ready for the next question
    page.wait_for_url("**/coach/conversations/**")
    assert_accessible(page, "coach-reponse")

    answer.get_by_role("button", name="Utile", exact=False).first.click()
    expect(answer.get_by_text("Vous avez trouvé cette réponse utile.")).to_be_visible()
    assert page_errors == []
    screenshot(page, "coach-reponse")

    page.goto(live_server.url + reverse("coach:index"))
    history = page.locator(".conversation-list a").first
    expect(history).to_contain_text("silencieuse en réunion")
    history.click()
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.get_by_text("Vous avez trouvé cette réponse utile.")).to_be_visible()
    conversation_url = page.url

    page.get_by_role("button", name="Supprimer cette conversation").click()
    expect(page.get_by_text("La conversation a été supprimée.")).to_be_visible()
    expect(page.get_by_text("Aucune conversation pour l’instant")).to_be_visible()
    assert page.goto(conversation_url).status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()


@pytest.mark.browser
def test_another_manager_gets_a_404_on_a_conversation(page, live_server, library):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("coach:index"))
    page.get_by_label("Votre question").fill("Comment déléguer un dossier à un agent ?")
    page.get_by_role("button", name="Demander à Liza").click()
    page.wait_for_url("**/coach/conversations/**", timeout=60_000)
    conversation = Conversation.objects.get()
    page.context.clear_cookies()
    login(page, live_server, OTHER_MANAGER_EMAIL)
    response = page.goto(live_server.url + reverse("coach:conversation", args=[conversation.pk]))
    assert response.status == 404


@pytest.mark.browser
def test_an_llm_answer_appears_progressively_then_with_its_sources(
    page, live_server, library, fake_openai, page_errors
):
    from campus.models import Organisation
    from tests.campus.ai.fake_openai import CHAT, Reply

    Organisation.objects.update(ai_monthly_budget_eur=100)
    practice = library["faire-participer-une-equipe-qui-reste-silencieuse-en-reunion"]
    fake_openai.enqueue(
        CHAT,
        Reply(
            f"Ouvrez la réunion par un tour rapide [P{practice.pk}]. Laissez deux minutes de "
            "réflexion avant de demander des idées. Confiez un point à un agent différent.",
            chunk_delay=0.15,
        ),
    )
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("coach:index"))
    page.get_by_label("Votre question").fill(
        "Mon équipe reste silencieuse en réunion, comment la faire participer ?"
    )
    page.get_by_role("button", name="Demander à Liza").click()
    stream = page.locator(".answer-stream-text")
    expect(stream).to_contain_text("Ouvrez la réunion", timeout=60_000)  # words as they come
    answer = page.locator(".exchange").first
    expect(answer.get_by_role("heading", name="Pratiques citées")).to_be_visible(timeout=30_000)
    expect(answer.locator(".answer-text")).to_contain_text("tour rapide [1]")
    expect(answer.locator(".sources a").first).to_have_text(practice.title)
    expect(answer.get_by_text("Réponse rédigée par un modèle de langue")).to_be_visible()
    assert page_errors == []
