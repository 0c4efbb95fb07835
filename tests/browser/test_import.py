"""An HR admin imports the directory in Chromium; a real Celery worker does the work."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from campus.models import User
from tests.browser.test_pages import HR_ADMIN_EMAIL, assert_accessible, login


def _upload(page, live_server, tmp_path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    page.goto(live_server.url + reverse("people_import"))
    page.get_by_label("Fichier à importer").set_input_files(str(path))


def test_hr_admin_imports_people_and_watches_the_progress(
    page, live_server, demo, celery_worker_process, tmp_path, screenshot, page_errors
):
    login(page, live_server, HR_ADMIN_EMAIL)
    csv = (
        b"email;prenom;nom;organisme;equipe;equipe_dirigee;niveau;manager_email\n"
        b"nadia.keller@cpam-du-rhone.demo.campus.test;Nadia;Keller;cpam-du-rhone;plateforme;plateforme;proximite;\n"
        b"tom.roux@cpam-du-rhone.demo.campus.test;Tom;Roux;cpam-du-rhone;plateforme;;;nadia.keller@cpam-du-rhone.demo.campus.test\n"
    )
    _upload(page, live_server, tmp_path, "annuaire.csv", csv)
    page.get_by_role("button", name="Lancer l’import").click()

    expect(page).to_have_url(re.compile(r"/taches/"))
    expect(page.locator(".job-state")).to_have_text("Terminé", timeout=60_000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    assert_accessible(page, "import-done")
    screenshot(page, "import-done")
    nadia = User.objects.get(email="nadia.keller@cpam-du-rhone.demo.campus.test")
    assert list(nadia.reports.values_list("last_name", flat=True)) == ["Roux"]
    assert nadia.managed_teams.get().code == "plateforme"
    assert page_errors == []


def test_a_file_with_errors_changes_nothing_and_offers_the_report(
    page, live_server, demo, celery_worker_process, tmp_path, screenshot
):
    login(page, live_server, HR_ADMIN_EMAIL)
    before = User.objects.count()
    csv = (
        b"email;prenom;nom;organisme;manager_email\n"
        b"a@campus.test;Anne;A;cpam-du-rhone;inconnu@campus.test\n"
        b"b@campus.test;Bruno;B;organisme-fantome;\n"
    )
    _upload(page, live_server, tmp_path, "erreurs.csv", csv)
    page.get_by_role("button", name="Lancer l’import").click()

    expect(page.locator(".job-state")).to_have_text("Échec", timeout=60_000)
    expect(page.locator(".job-message")).to_contain_text("rien n’a été importé")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("rapport", re.IGNORECASE)).first.click()
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "inconnu@campus.test" in report
    assert "organisme-fantome" in report
    assert User.objects.count() == before
    assert_accessible(page, "import-failed")
    screenshot(page, "import-failed")


def test_a_file_that_is_not_utf8_gets_a_french_message_on_the_form(
    page, live_server, demo, tmp_path, screenshot
):
    login(page, live_server, HR_ADMIN_EMAIL)
    _upload(
        page,
        live_server,
        tmp_path,
        "latin1.csv",
        "email;prenom;nom;organisme\né@x.fr;Zoé;Ü;x\n".encode("latin-1"),
    )
    page.get_by_label("Vérifier seulement (ne rien importer)").check()
    page.get_by_role("button", name="Lancer l’import").click()

    expect(page.locator(".errorlist")).to_contain_text("UTF-8")
    expect(page.get_by_label("Vérifier seulement (ne rien importer)")).to_be_checked()
    assert_accessible(page, "import-bad-encoding")
    screenshot(page, "import-bad-encoding")
