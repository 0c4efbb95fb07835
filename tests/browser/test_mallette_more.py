"""The practice page in Chromium: comments, share link, mentions; the "most evoked" page and
the organisation's book; axe-core on each."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campus.models import User
from mallette.corpus import themes_load
from mallette.models import Mention, Practice, Theme
from mallette.services import practices_index
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login


@pytest.fixture
def practices(demo):
    Practice.objects.all().delete()
    themes_load(theme_model=Theme)
    manager = User.objects.get(email=MANAGER_EMAIL)
    made = []
    for slug, title, theme, n in [
        ("deleguer-un-dossier", "Déléguer un dossier complexe", "delegation", 4),
        ("remercier-precisement", "Remercier précisément", "recognition", 2),
    ]:
        t = Theme.objects.get(slug=theme)
        p = Practice.objects.create(
            slug=slug,
            title=title,
            summary="Une pratique concrète pour les équipes de gestion.",
            situation="Dans une équipe de gestion des prestations.",
            body="- **Planifiez** un point de quinze minutes.\n- Demandez à l’agent de reformuler.",
            pitfalls="- Tout contrôler à sa place.",
            primary_theme=t,
            status="published",
        )
        p.themes.set([t])
        for i in range(n):
            Mention.objects.create(
                practice=p,
                organisation=manager.organisation,
                organism=manager.organism,
                source="coach",
                source_ref=f"coach.exchange:{p.pk}{i}",
                similarity=0.9,
                day=timezone.localdate(),
            )
        made.append(p)
    practices_index()
    return made


def test_manager_comments_shares_and_sees_the_most_evoked(
    page, live_server, practices, screenshot, page_errors, external_requests
):
    practice = practices[0]
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("mallette:practice", args=[practice.pk, practice.slug]))
    expect(page.get_by_text("Évoquée 4 fois en 90 jours")).to_be_visible()
    share = page.get_by_label("Lien de la pratique (sélectionnez-le pour le copier)")
    expect(share).to_have_value(
        live_server.url + reverse("mallette:practice", args=[practice.pk, practice.slug])
    )
    assert (
        page.get_by_role("link", name="Partager par courriel")
        .get_attribute("href")
        .startswith("mailto:?subject=D%C3%A9l%C3%A9guer")
    )
    assert_accessible(page, "practice-page")

    # An empty comment: a French error, announced, nothing posted.
    page.get_by_role("button", name="Publier le commentaire").click()
    expect(page.get_by_text("Écrivez votre commentaire avant de le publier.")).to_be_visible()
    box = page.get_by_label("Votre commentaire")
    box.fill("Je l’applique avec **mon équipe** de Lyon depuis un mois.")
    page.get_by_role("button", name="Publier le commentaire").click()
    comment = page.locator(".comment").first
    expect(comment).to_contain_text("Je l’applique avec mon équipe de Lyon")
    expect(comment.locator("strong", has_text="mon équipe")).to_be_visible()
    expect(page.get_by_role("heading", name="1 commentaire")).to_be_visible()
    assert_accessible(page, "practice-commented")
    screenshot(page, "mallette-practice-comments")

    page.goto(live_server.url + reverse("mallette:most_evoked"))
    items = page.locator(".evoked-item h3")
    expect(items).to_have_count(2)
    expect(items.first).to_have_text("Déléguer un dossier complexe")
    expect(page.locator(".evoked-item").first).to_contain_text("4 mentions")
    assert_accessible(page, "most-evoked")
    screenshot(page, "mallette-most-evoked")
    page.get_by_label("Période").select_option("90")
    expect(page.locator("#classement-titre")).to_contain_text("sur 90 jours")
    expect(page).to_have_url(re.compile(r"period=90"))
    page.get_by_label("Périmètre").select_option("organisme")
    expect(page.locator("#classement-titre")).to_contain_text("Dans mon organisme")
    expect(items).to_have_count(2)

    page.goto(live_server.url + reverse("mallette:book_print"))
    expect(page.get_by_role("heading", level=1, name="Livre des pratiques")).to_be_visible()
    assert_accessible(page, "book-print")
    screenshot(page, "mallette-book-print")
    page.goto(live_server.url + reverse("mallette:book"))
    assert_accessible(page, "book")
    assert page_errors == []
    assert external_requests == []
