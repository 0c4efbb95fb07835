"""A demo manager completes a self-diagnosis with the keyboard only, reads the results, adds a
practice to the action plan and downloads the PDF; axe finds no violation on any page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from selfdiag.models import Action, Diagnosis
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_pages import HR_ADMIN_EMAIL, MANAGER_EMAIL, assert_accessible, login


@pytest.fixture
def library(demo):
    """Transactional tests flush every table when they end: make sure the editorial library
    (a data migration) is there for the recommendations."""
    from mallette.corpus import corpus_load
    from mallette.models import Practice, Theme

    corpus_load(theme_model=Theme, practice_model=Practice)


def answer_step_with_keyboard(page, answers: list[int]) -> None:
    """Each item is a radio group: Space checks the first option, → moves the choice, Tab goes
    to the next group, and after the last group to "Suivant"."""
    page.locator("fieldset.sd-item input[type=radio]").first.focus()
    for value in answers:
        page.keyboard.press("Space")
        for _ in range(value - 1):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Tab")


def test_manager_completes_a_diagnosis_with_the_keyboard_and_acts_on_it(
    page, live_server, library, screenshot, page_errors, external_requests
):
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("selfdiag:index"))
    assert_accessible(page, "selfdiag-index")
    screenshot(page, "selfdiag-index")
    page.get_by_role("button", name="Commencer le diagnostic").focus()
    page.keyboard.press("Enter")

    step = 1
    while True:
        expect(page.locator("#progress-label")).to_contain_text(f"Étape {step} sur 10")
        if page.locator("fieldset.sd-item").count() == 0:
            break
        groups = page.locator("fieldset.sd-item").count()
        # Delegation (step 2) is the weakest competency, "sens" (step 1) the strongest.
        value = 1 if step == 2 else (5 if step == 1 else 4)
        if step == 1:
            assert_accessible(page, "selfdiag-step")
            # "Suivant" with nothing answered: French errors, nothing lost.
            page.get_by_role("button", name="Suivant").focus()
            page.keyboard.press("Enter")
            expect(page.get_by_role("alert")).to_contain_text("Il manque des réponses")
            assert_accessible(page, "selfdiag-step-errors")
            screenshot(page, "selfdiag-step-errors")
        answer_step_with_keyboard(page, [value] * groups)
        if step == 1:
            expect(page.locator("#autosave-status")).to_contain_text("Réponses enregistrées")
            screenshot(page, "selfdiag-step")
        expect(page.get_by_role("button", name="Suivant")).to_be_focused()
        page.keyboard.press("Enter")
        step += 1

    assert_accessible(page, "selfdiag-open-questions")
    page.locator("textarea").first.focus()
    page.keyboard.type("Je reprends souvent les dossiers que je délègue, par manque de temps.")
    page.keyboard.press("Tab")
    page.keyboard.type("Mieux déléguer et faire confiance à mon équipe.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Voir mes résultats")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Mes résultats")
    expect(page.locator("svg.sd-radar")).to_be_visible()
    expect(
        page.get_by_role("img", name="Graphique radar de vos scores par compétence")
    ).to_be_visible()
    expect(page.locator(".sd-strengths")).to_contain_text("Donner du sens et communiquer")
    expect(page.locator(".sd-improvements")).to_contain_text("Déléguer et responsabiliser")
    area = page.locator(".sd-area").filter(has_text="Déléguer et responsabiliser")
    expect(area.locator(".sd-practice").first).to_be_visible()
    assert area.locator(".sd-practice").count() >= 3
    assert_accessible(page, "selfdiag-result")
    screenshot(page, "selfdiag-result")

    # Add the first recommended practice to the action plan (htmx swaps the button).
    first = area.locator(".sd-practice").first
    title = first.locator("h4").inner_text()
    first.get_by_role("button", name=re.compile("Ajouter à mon plan d’action")).focus()
    page.keyboard.press("Enter")
    expect(first.get_by_text("Ajoutée à mon plan d’action")).to_be_visible()
    assert Action.objects.filter(title=title, source="selfdiag").count() == 1
    assert_accessible(page, "selfdiag-result-added")

    # Download the PDF.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger en PDF").focus()
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename.startswith("autodiagnostic-")
    pdf_path = SCREENSHOTS.parent / "selfdiag-result.pdf"
    download.save_as(str(pdf_path))
    assert pdf_path.read_bytes().startswith(b"%PDF")

    # The plan shows the practice; the manager marks it in progress without JavaScript help.
    page.goto(live_server.url + reverse("selfdiag:plan"))
    row = page.locator(".sd-action").filter(has_text=title)
    expect(row).to_be_visible()
    row.get_by_label(re.compile("^Statut")).select_option("doing")
    row.get_by_role("button", name=re.compile("^Enregistrer")).focus()
    page.keyboard.press("Enter")
    expect(
        page.locator(".sd-action").filter(has_text=title).get_by_text("Enregistré.")
    ).to_be_visible()
    assert_accessible(page, "selfdiag-plan")
    screenshot(page, "selfdiag-plan")

    page.goto(live_server.url + reverse("selfdiag:history"))
    assert_accessible(page, "selfdiag-history")
    screenshot(page, "selfdiag-history")
    assert Diagnosis.objects.filter(status="submitted").count() == 1
    assert page_errors == []
    assert external_requests == []


def test_history_with_several_diagnoses_and_hr_page_pass_axe(
    page, live_server, library, screenshot, page_errors
):
    from campus.models import User
    from selfdiag import services
    from selfdiag.selectors import questionnaire_structure

    manager = User.objects.get(email=MANAGER_EMAIL)
    for base in (2, 3, 4):
        diagnosis = services.diagnosis_start(user=manager)
        structure = questionnaire_structure(diagnosis.questionnaire)
        services.diagnosis_save(
            diagnosis=diagnosis,
            answers={
                item.pk: min(5, base + (ci % 2))
                for ci, c in enumerate(structure.competencies)
                for item in c.items.all()
            },
        )
        services.diagnosis_submit(diagnosis=diagnosis)
    login(page, live_server, MANAGER_EMAIL)
    page.goto(live_server.url + reverse("selfdiag:history"))
    expect(page.locator("svg.sd-spark").first).to_be_visible()
    assert_accessible(page, "selfdiag-history-evolution")
    screenshot(page, "selfdiag-history-evolution")
    page.get_by_role("link", name=re.compile("Diagnostic du")).first.click()
    expect(page.get_by_role("columnheader", name="Évolution")).to_be_visible()
    expect(page.locator(".sd-practice").first).to_be_visible()
    assert_accessible(page, "selfdiag-result-evolution")
    page.set_viewport_size({"width": 375, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "selfdiag-result-phone")

    page.context.clear_cookies()
    login(page, live_server, HR_ADMIN_EMAIL)
    page.goto(live_server.url + reverse("selfdiag:analytics"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques de l’autodiagnostic")
    assert_accessible(page, "selfdiag-analytics")
    screenshot(page, "selfdiag-analytics")
    assert page_errors == []
