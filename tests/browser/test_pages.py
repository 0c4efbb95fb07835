"""A real Chromium visits every page that exists, checks axe-core finds no violation,
no request leaves the origin, no console/CSP error occurs, and saves screenshots."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from campus.demo import DEMO_LOGINS
from campus.models import Job, User

AXE = Axe()
MANAGER_EMAIL = dict((label, email) for label, email in DEMO_LOGINS)["Manager de proximité"]
HR_ADMIN_EMAIL = dict((label, email) for label, email in DEMO_LOGINS)["Administrateur RH"]

MANAGER_PAGES = [
    ("home", reverse("home")),
    ("selfdiag", reverse("selfdiag:index")),
    ("feedback180", reverse("feedback180:index")),
    ("mallette", reverse("mallette:index")),
    ("coach", reverse("coach:index")),
    ("boosts", reverse("boosts:index")),
    ("communities", reverse("communities:index")),
    ("accessibility", reverse("accessibility")),
    ("privacy", reverse("privacy")),
    ("password-change", reverse("account_change_password")),
]


def assert_accessible(page, name: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def running_job(title: str, *, progress: int, message: str) -> Job:
    """A job of the demo manager, shown as running."""
    manager = User.objects.get(email=MANAGER_EMAIL)
    return Job.objects.create(
        owner=manager,
        organisation=manager.organisation,
        kind="demo",
        title=title,
        task_name="campus.tasks.ping",
        state=Job.State.RUNNING,
        progress=progress,
        message=message,
    )


def login(page, live_server, email: str) -> None:
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_label("Adresse e-mail professionnelle").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(settings.CAMPUS_DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/$"))


def test_login_page_is_accessible_and_self_contained(
    page, live_server, demo, screenshot, page_errors, external_requests
):
    page.goto(live_server.url + reverse("account_login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion au campus")
    assert_accessible(page, "login")
    screenshot(page, "login")
    for path in (reverse("account_request_login_code"), reverse("account_reset_password")):
        page.goto(live_server.url + path)
        assert_accessible(page, path)
    assert page_errors == []
    assert external_requests == []


def test_demo_manager_logs_in_and_every_page_passes_axe(
    page, live_server, demo, screenshot, page_errors, external_requests
):
    login(page, live_server, MANAGER_EMAIL)
    for name, path in MANAGER_PAGES:
        response = page.goto(live_server.url + path)
        assert response.status == 200, name
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page, name)
        screenshot(page, name)
    job = running_job("Import de démonstration", progress=40, message="Vérification des lignes…")
    page.goto(live_server.url + reverse("job_status", args=[job.pk]))
    assert_accessible(page, "job")
    screenshot(page, "job")
    page.goto(live_server.url + reverse("home"))
    expect(page.get_by_role("link", name="Import de démonstration")).to_be_visible()
    assert_accessible(page, "home-with-job")
    assert page_errors == []
    assert external_requests == []


def test_hr_admin_pages_pass_axe(page, live_server, demo, screenshot, page_errors):
    login(page, live_server, HR_ADMIN_EMAIL)
    for name, path in [
        ("import", reverse("people_import")),
        ("admin", reverse("admin:index")),
        ("admin-people", reverse("admin:campus_user_changelist") + "?role=manager"),
        ("admin-organisms", reverse("admin:campus_organism_changelist")),
    ]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, name
        assert_accessible(page, name)
        screenshot(page, name)
    assert page_errors == []


def test_keyboard_only_navigation(page, live_server, demo):
    login(page, live_server, MANAGER_EMAIL)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The user menu opens and its logout button works from the keyboard.
    page.locator(".user-menu summary").focus()
    page.keyboard.press("Enter")
    logout = page.get_by_role("button", name="Se déconnecter")
    expect(logout).to_be_visible()
    logout.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/comptes/login/"))


def test_home_fits_a_phone_screen(page, live_server, demo, screenshot):
    login(page, live_server, MANAGER_EMAIL)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + reverse("home"))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert_accessible(page, "home-phone")
    screenshot(page, "home-phone")


def test_job_progress_bar_updates_live(page, live_server, demo):
    login(page, live_server, MANAGER_EMAIL)
    job = running_job("Traitement suivi", progress=10, message="Début")
    page.goto(live_server.url + reverse("job_status", args=[job.pk]))
    expect(page.locator("progress")).to_have_attribute("value", "10")
    Job.objects.filter(pk=job.pk).update(progress=70, message="Presque fini")
    expect(page.locator("progress")).to_have_attribute("value", "70", timeout=5000)
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.SUCCEEDED, progress=100, message="Terminé.", result_url="/"
    )
    expect(page.get_by_role("link", name="Voir le résultat")).to_be_visible(timeout=5000)
