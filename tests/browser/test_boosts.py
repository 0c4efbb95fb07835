"""Browser: a host creates a boost, a manager registers and gets the .ics, joins the live room
and asks a question that another manager upvotes, answers a poll; the host sees the results
and the attendance; after the boost, the satisfaction survey. axe-core on every page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from boosts import middleware as live_middleware
from boosts.models import Boost, Registration, Satisfaction
from campus.demo import DEMO_LOGINS
from tests.browser.test_pages import HR_ADMIN_EMAIL, MANAGER_EMAIL, assert_accessible, login

DIRECTOR_EMAIL = dict(DEMO_LOGINS)["Directrice"]


@pytest.fixture(autouse=True)
def _library(transactional_db):
    from mallette.corpus import corpus_load
    from mallette.models import Practice, Theme

    corpus_load(theme_model=Theme, practice_model=Practice)


@pytest.fixture
def person(browser, browser_context_args, live_server):
    contexts = []

    def open_as(email: str):
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        login(page, live_server, email)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_host_creates_manager_registers_joins_live_room_and_answers_the_survey(
    page, live_server, demo, screenshot, page_errors, external_requests, person, monkeypatch
):
    from boosts.demo import demo_boosts_seed
    from campus.models import User

    host_user = User.objects.get(email=HR_ADMIN_EMAIL)
    demo_boosts_seed(host_user.organisation)  # the demo catalogue (also makes them a host)

    # 1. The host creates a boost starting in 10 minutes (the room opens 15 minutes before).
    login(page, live_server, HR_ADMIN_EMAIL)
    page.goto(live_server.url + reverse("boosts:host"))
    assert_accessible(page, "boosts-host")
    page.get_by_role("link", name="Créer un boost").click()
    start = timezone.localtime() + timedelta(minutes=10)
    page.get_by_label("Titre").fill("Oser le feedback positif")
    page.get_by_label("Description").fill("Un boost de 30 minutes, avec vos questions en direct.")
    page.locator("#id_themes input[type=checkbox]").first.check()
    page.get_by_label("Date").fill(start.date().isoformat())
    page.get_by_label("Heure de début (heure de Paris)").fill(start.strftime("%H:%M"))
    page.get_by_label("Durée (minutes)").fill("30")
    page.get_by_label("Lien de la réunion en ligne").fill("https://teams.example.test/r/42")
    page.get_by_label("Nombre de places").fill("2")
    assert_accessible(page, "boosts-form")
    screenshot(page, "boosts-01-form")
    page.get_by_role("button", name="Créer le boost").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Oser le feedback positif")
    boost = Boost.objects.get(title="Oser le feedback positif")
    assert timezone.localtime(boost.starts_at).strftime("%H:%M") == start.strftime("%H:%M")
    assert_accessible(page, "boosts-manage-empty")

    # The host prepares and launches a poll in the live room.
    page.get_by_role("link", name="Salle en direct").click()
    page.get_by_label("Type de sondage").select_option("single")
    page.locator("#id_prompt").fill("Votre dernier feedback positif date de…")
    page.get_by_label("Réponses proposées (une par ligne)").fill(
        "Cette semaine\nCe mois-ci\nJe ne sais plus"
    )
    page.get_by_role("button", name="Préparer le sondage").click()
    page.get_by_role("button", name="Lancer").click()
    assert_accessible(page, "boosts-live-host")

    # 2. A manager registers and downloads the .ics.
    manager = person(MANAGER_EMAIL)
    manager.goto(live_server.url + reverse("boosts:index"))
    expect(manager.locator("#boost-results")).to_contain_text("Donner un feedback qui fait grandir")
    assert_accessible(manager, "boosts-catalogue")
    screenshot(manager, "boosts-02-catalogue")
    manager.get_by_role("link", name="Oser le feedback positif").first.click()
    manager.get_by_role("button", name="M’inscrire").click()
    expect(manager.get_by_text("Vous êtes inscrit.").first).to_be_visible()
    assert_accessible(manager, "boosts-detail-registered")
    screenshot(manager, "boosts-03-detail")
    with manager.expect_download() as download_info:
        manager.get_by_role("link", name="Ajouter à mon agenda (.ics)").click()
    content = download_info.value.path().read_bytes().decode("utf-8")
    assert content.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:boost-{boost.uid}@campus" in content and "METHOD:REQUEST" in content

    # 3. The manager joins the live room (check-in) and asks a question.
    polls: list[tuple[str | None, str | None]] = []
    manager.on(
        "response",
        lambda r: (
            polls.append((r.request.headers.get("x-live-pass"), r.headers.get("x-live-fast")))
            if r.url.endswith("/live/updates/") and r.request.method == "GET"
            else None
        ),
    )
    manager.get_by_role("link", name="Entrer dans la salle en direct").click()
    manager.get_by_label("Votre question").fill("Comment féliciter sans paraître artificiel ?")
    manager.get_by_role("button", name="Envoyer ma question").click()
    expect(manager.locator("#live-questions")).to_contain_text(
        "Comment féliciter sans paraître artificiel ?"
    )
    expect(manager.get_by_label("Votre question")).to_have_value("")

    # 4. Another manager upvotes it.
    director = person(DIRECTOR_EMAIL)
    director.goto(live_server.url + reverse("boosts:live", args=[boost.pk]))
    director.get_by_role("button", name=re.compile("^Moi aussi")).click()
    expect(director.locator("#live-questions")).to_contain_text("1 vote")
    # The first manager sees the vote arrive by polling, without reloading.
    expect(manager.locator("#live-questions")).to_contain_text("1 vote", timeout=10_000)

    # 5. The manager answers the poll.
    manager.get_by_label("Cette semaine").check()
    manager.get_by_role("button", name="Répondre").click()
    expect(manager.locator("#live-poll")).to_contain_text("Réponse enregistrée.")
    assert_accessible(manager, "boosts-live-participant")
    screenshot(manager, "boosts-04-live-participant")

    # 6. The host sees the results live and the attendance.
    expect(page.locator("#live-poll")).to_contain_text("Résultats (1 réponse)", timeout=10_000)
    expect(page.locator("#live-questions")).to_contain_text("Comment féliciter")
    page.get_by_role("button", name="Marquer répondu").click()
    expect(page.locator("#live-questions")).to_contain_text("Répondu")
    page.get_by_role("button", name="Montrer les résultats").click()
    assert_accessible(page, "boosts-live-host-results")
    screenshot(page, "boosts-05-live-host")
    expect(manager.locator("#live-poll")).to_contain_text("Résultats (1 réponse)", timeout=10_000)
    # htmx sent the room pass with every poll; with the browser's own session, the fast
    # path answers an unchanged poll (a 304 revalidated by the browser cache is not visible
    # to the page, hence the direct request from the same browser context).
    assert polls and all(room_pass for room_pass, _fast in polls)
    updates = live_server.url + reverse("boosts:live_updates", args=[boost.pk])
    headers = {"HX-Request": "true", "X-Live-Pass": polls[-1][0]}
    first = manager.request.get(updates, headers=headers)
    again = manager.request.get(
        updates, headers={**headers, "If-None-Match": first.headers["etag"]}
    )
    assert again.status == 304 and again.headers.get("x-live-fast") == "1"
    # Every couple of minutes a poll takes the full path, which checks access again and
    # renews the pass; boosts.js gives the next polls the renewed pass. Here passes go stale
    # at once, then stay fresh again.
    renewals: list[str] = []
    manager.on(
        "response",
        lambda r: (
            renewals.append(r.headers["x-live-pass"])
            if r.url.endswith("/live/updates/") and "x-live-pass" in r.headers
            else None
        ),
    )
    monkeypatch.setattr(live_middleware, "PASS_FRESH_SECONDS", -1)
    with manager.expect_response(
        lambda r: r.url.endswith("/live/updates/") and "x-live-pass" in r.headers, timeout=10_000
    ):
        pass
    monkeypatch.setattr(live_middleware, "PASS_FRESH_SECONDS", 120)
    with manager.expect_request(lambda r: r.url.endswith("/live/updates/"), timeout=10_000) as nxt:
        pass
    assert renewals and renewals[0] != polls[0][0]
    assert nxt.value.headers["x-live-pass"] in renewals
    page.goto(live_server.url + reverse("boosts:manage", args=[boost.pk]))
    expect(page.locator("table")).to_contain_text("Présent")
    assert Registration.objects.filter(boost=boost, checked_in_at__isnull=False).count() == 2
    expect(page.get_by_text("100 % des inscrits")).to_be_visible()
    assert_accessible(page, "boosts-manage")
    screenshot(page, "boosts-06-manage")

    # 7. After the boost (the clock moves on): the satisfaction survey.
    Boost.objects.filter(pk=boost.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    manager.goto(live_server.url + reverse("boosts:detail", args=[boost.pk]))
    manager.get_by_role("button", name="Envoyer mon avis").click()
    expect(manager.get_by_role("alert")).to_contain_text("Répondez aux trois questions.")
    manager.locator("fieldset").filter(has_text="Dans l’ensemble").get_by_label("5").check()
    manager.locator("fieldset").filter(has_text="Allez-vous").get_by_label("4").check()
    manager.get_by_label("Oui").check()
    assert_accessible(manager, "boosts-satisfaction")
    screenshot(manager, "boosts-07-satisfaction")
    manager.get_by_role("button", name="Envoyer mon avis").click()
    expect(manager.get_by_text("Merci ! Vos réponses sont anonymes.")).to_be_visible()
    assert Satisfaction.objects.filter(boost=boost).count() == 1
    page.goto(live_server.url + reverse("boosts:stats"))
    assert_accessible(page, "boosts-stats")

    # The only console message allowed: the survey sent empty answers 400 (form errors).
    manager_errors = [e for e in manager.errors if "400 (Bad Request)" not in e]
    assert page_errors == [] and manager_errors == [] and director.errors == []
    assert external_requests == []
