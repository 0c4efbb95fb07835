"""The mallette in Chromium: live search while typing, filters, practice page, axe."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from mallette.corpus import themes_load
from mallette.models import Practice, Theme
from mallette.services import practices_index
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login

SAMPLE = [
    (
        "deleguer-un-dossier",
        "Déléguer un dossier complexe",
        "Confiez un dossier en précisant le résultat attendu, les marges de manœuvre et les points d’étape.",
        ("delegation",),
    ),
    (
        "garder-le-lien-a-distance",
        "Garder le lien avec une équipe à distance",
        "Un rituel court en visio les jours de télétravail entretient la cohésion.",
        ("remote", "meetings"),
    ),
    (
        "remercier-precisement",
        "Remercier précisément",
        "Un merci qui cite le fait et l’effet sur le service motive plus qu’un bravo général.",
        ("recognition",),
    ),
    (
        "desamorcer-une-tension",
        "Désamorcer une tension entre deux agents",
        "Recevez chacun séparément puis ensemble, en vous en tenant aux faits.",
        ("conflict",),
    ),
]


@pytest.fixture
def practices(demo):
    Practice.objects.all().delete()
    themes_load(theme_model=Theme)  # a transactional test before this one flushed them
    for slug, title, summary, themes in SAMPLE:
        theme_objs = [Theme.objects.get(slug=s) for s in themes]
        p = Practice.objects.create(
            slug=slug,
            title=title,
            summary=summary,
            situation="Dans une équipe de gestion des prestations.",
            body="- **Planifiez** un point de quinze minutes.\n- Demandez à l’agent de reformuler.",
            pitfalls="- Tout contrôler à sa place.",
            primary_theme=theme_objs[0],
            status="published",
        )
        p.themes.set(theme_objs)
    practices_index()


def test_manager_searches_the_mallette_while_typing(
    page, live_server, practices, screenshot, page_errors
):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("mallette:index"))
    expect(page.get_by_role("heading", level=2, name="4 pratiques")).to_be_visible()
    assert_accessible(page, "mallette")
    screenshot(page, "mallette")

    page.get_by_label("Rechercher une pratique").fill("mon équipe travaille à distance")
    # htmx swaps the results without a page load and updates the address.
    expect(page.locator("#resultats-titre")).to_contain_text(
        "pour « mon équipe travaille à distance »"
    )
    expect(page).to_have_url(re.compile(r"q=mon"))
    first = page.locator(".practice-item h3 a").first
    expect(first).to_have_text("Garder le lien avec une équipe à distance")
    expect(page.locator(".practice-item mark").first).to_be_visible()
    assert_accessible(page, "mallette-search")
    screenshot(page, "mallette-search")

    page.get_by_label("Thème", exact=True).select_option("recognition")
    expect(page.locator(".practice-item")).to_have_count(1)

    page.get_by_label("Thème", exact=True).select_option("")
    expect(page.locator(".practice-item")).to_have_count(4)  # wait for htmx's swap
    page.locator(".practice-item h3 a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Garder le lien avec une équipe à distance"
    )
    expect(page.locator("strong", has_text="Planifiez")).to_be_visible()
    assert_accessible(page, "practice")
    screenshot(page, "practice")
    assert page_errors == []


def test_the_search_works_without_javascript(browser, live_server, practices):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("mallette:index"))
    page.get_by_label("Rechercher une pratique").fill("dire merci à un agent")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".practice-item h3 a").first).to_have_text("Remercier précisément")
    context.close()
