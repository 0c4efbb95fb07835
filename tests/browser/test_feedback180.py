"""The whole 180° loop in a real Chromium with the demo data: the manager opens a campaign,
five collaborators answer through their one-time links (one edits the anonymised preview),
the manager closes, a real Celery worker processes, the debrief shows and the plan is made."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from campus.models import User
from feedback180.models import Campaign, Response
from selfdiag.models import Action, ActionSource
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login
from tests.feedback180.conftest import LINK

SHOTS = Path(
    os.environ.get("CAMPUS_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "test-results" / "screens"
)


@pytest.fixture
def eager_tasks():
    from campus.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"feedback180-{name}.png"), full_page=True)


def answer(page, base: str, url: str, *, value: str, keep: str, edit_to: str | None = None):
    page.goto(base + url)
    expect(page.get_by_role("heading", name="Comment votre anonymat est protégé")).to_be_visible()
    for fieldset in page.locator("fieldset.fb-item").all():
        fieldset.get_by_label(value, exact=True).check()
    page.get_by_label("Que devrait continuer à faire votre manager ?").fill(keep)
    page.get_by_label("Que devrait commencer à faire votre manager ?").fill(
        "Donner plus d’autonomie sur les dossiers."
    )
    page.get_by_role("button", name="Relire la version anonymisée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Relire avant d’envoyer")
    if edit_to is not None:
        box = page.get_by_label("Que devrait continuer à faire votre manager ?")
        assert "Alice" not in box.input_value()
        assert_accessible(page, "respond-review")
        shot(page, "respond-review")
        box.fill(edit_to)
    page.get_by_role("button", name="Envoyer ma réponse anonyme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre réponse")


def test_the_whole_180_loop(
    page, browser, live_server, demo, eager_tasks, celery_worker_process, page_errors
):
    manager = User.objects.get(email=MANAGER_EMAIL)
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("feedback180:index"))
    assert_accessible(page, "feedback180-index")
    page.get_by_role("button", name="Préparer ma campagne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Préparer mon feedback 180°")
    raters = page.get_by_label("Personnes invitées").input_value().split()
    assert len(raters) >= 5
    assert_accessible(page, "feedback180-edit")
    shot(page, "edit")

    page.get_by_role("link", name="Répondez aux mêmes énoncés sur vous-même").click()
    for fieldset in page.locator("fieldset.fb-item").all():
        fieldset.get_by_label("Toujours ou presque", exact=True).check()
    assert_accessible(page, "feedback180-self")
    page.get_by_role("button", name="Enregistrer mon autoévaluation").click()
    expect(page.get_by_text("Autoévaluation faite")).to_be_visible()

    mail.outbox.clear()
    page.get_by_role("button", name="Ouvrir et envoyer les invitations").click()
    expect(page.locator(".fb-count")).to_contain_text(f"sur {len(raters)} personnes invitées")
    links = [LINK.search(m.body).group(0) for m in mail.outbox]
    assert len(links) == len(raters)

    rater = browser.new_page()  # no account, no session of the manager
    rater.on(
        "console",
        lambda msg: (
            page_errors.append(msg.text)
            if msg.type == "error" and "404" not in msg.text  # the used link, on purpose
            else None
        ),
    )
    answer(
        rater,
        live_server.url,
        links[0],
        value="Souvent",
        keep="Alice Durand dit qu’il remercie chacun pour le travail accompli.",
        edit_to="Il remercie chacun pour le travail accompli, en réunion d’équipe.",
    )
    for n, link in enumerate(links[1:5]):
        if n == 0:
            rater.goto(live_server.url + link)
            assert_accessible(rater, "respond")
            shot(rater, "respond")
        answer(
            rater,
            live_server.url,
            link,
            value=["Parfois", "Souvent", "Rarement", "Souvent"][n],
            keep="Il remercie chacun pour le travail accompli.",
        )
    assert_accessible(rater, "thanks")
    rater.goto(live_server.url + links[0])
    expect(rater.get_by_role("heading", level=1)).to_have_text("Ce lien n’est plus valide")
    rater.close()
    assert Response.objects.count() == 5
    assert "Alice" not in str(list(Response.objects.values_list("raw_comments", flat=True)))

    page.reload()
    expect(
        page.get_by_text(f"5 réponses reçues sur {len(raters)} personnes invitées")
    ).to_be_visible()
    page.get_by_role("button", name="Clôturer maintenant et lancer le traitement").click()
    expect(page.locator(".job-progress")).to_be_visible()
    assert_accessible(page, "feedback180-processing")
    shot(page, "processing")
    page.get_by_role("link", name="Voir le débrief").click(timeout=120_000)

    expect(page.get_by_role("heading", level=1)).to_have_text("Débrief de mon feedback 180°")
    expect(page.get_by_role("heading", name="3 points forts")).to_be_visible()
    expect(page.locator("svg.fb-bars")).to_be_visible()
    assert_accessible(page, "feedback180-debrief")
    campaign = Campaign.objects.get(manager=manager)
    assert campaign.released and campaign.response_count == 5
    assert not Response.objects.exclude(raw_comments={}).exists()

    page.get_by_label("Sur quoi voulez-vous progresser en priorité").fill("Déléguer davantage.")
    page.get_by_role("button", name="Enregistrer ma réflexion").click()
    options = page.get_by_label("Une pratique suggérée").locator("option").all_text_contents()
    if len(options) > 1:
        page.get_by_label("Une pratique suggérée").select_option(label=options[1])
    else:
        page.get_by_label("Ou votre propre action").fill("Un point d’équipe hebdomadaire")
    page.get_by_role("button", name="Ajouter à mon plan").click()
    page.get_by_label("Ou votre propre action").fill("Déléguer un dossier complet à l’équipe")
    page.get_by_role("button", name="Ajouter à mon plan").click()
    expect(page.get_by_text("Déléguer un dossier complet à l’équipe")).to_be_visible()
    assert Action.objects.filter(owner=manager, source=ActionSource.FEEDBACK180).count() == 2
    assert_accessible(page, "feedback180-debrief-plan")
    shot(page, "debrief")
    assert page_errors == []
    assert re.search(r"/feedback-180/campagnes/\d+/debrief/", page.url)


def test_hr_pages_and_form_errors_pass_axe(page, live_server, demo, page_errors):
    from tests.browser.test_pages import HR_ADMIN_EMAIL

    login(page, live_server, HR_ADMIN_EMAIL)
    page.goto(live_server.url + reverse("feedback180:hr"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi RH du feedback 180°")
    page.get_by_role("button", name="Préparer les campagnes").click()
    expect(page.get_by_text("Choisissez un organisme.")).to_be_visible()
    assert_accessible(page, "feedback180-hr")
    shot(page, "hr")
    page.get_by_label("Organisme").select_option(index=1)
    page.get_by_role("button", name="Préparer les campagnes").click()
    expect(page.get_by_text("campagnes préparées")).to_be_visible()
    assert page_errors == []


def test_manager_form_errors_keep_input_and_pass_axe(page, live_server, demo, page_errors):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("feedback180:index"))
    page.get_by_role("button", name="Préparer ma campagne").click()
    page.get_by_label("Personnes invitées").fill("quelqu-un@demo.test\npas une adresse@")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Adresses non valides")).to_be_visible()
    assert "quelqu-un@demo.test" in page.get_by_label("Personnes invitées").input_value()
    assert_accessible(page, "feedback180-edit-errors")
    shot(page, "edit-errors")
    assert page_errors == []
