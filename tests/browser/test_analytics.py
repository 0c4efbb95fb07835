"""HR analytics in Chromium: an HR analyst filters the dashboard, exports it as XLSX and PDF
(jobs run by a real Celery worker: progress, then download), and the files hold the page's
figures with the small cells masked; a manager gets 404 on every analytics URL; axe-core on
every page. Screenshots and the files go to /tmp/analytics-shots/ for a human to look at."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone
from playwright.sync_api import expect

from campus.analytics import urls as analytics_urls
from campus.analytics.models import Activity, ExportLog, Feature, ReportSubscription
from campus.analytics.services import month_start
from campus.demo import DEMO_LOGINS
from campus.models import Level, Role, User
from tests.browser.test_pages import MANAGER_EMAIL, assert_accessible, login

ANALYST_EMAIL = dict(DEMO_LOGINS)["Analyste RH"]
SHOTS = Path("/tmp/analytics-shots")
LEVEL_LABEL = "Manager de proximité"


@pytest.fixture
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def activity(demo):
    """This month, among the proximity managers: 15 asked the coach, 12 opened a practice,
    3 joined a boost (fewer than k = 10: masked, and the practices with it so that the total
    does not give it back). Returns the expected figures."""
    analyst = User.objects.get(email=ANALYST_EMAIL)
    organisation = analyst.organisation
    Activity.objects.filter(organisation=organisation).delete()
    managers = list(
        User.objects.filter(
            organisation=organisation,
            is_active=True,
            roles__contains=[Role.MANAGER],
            level=Level.PROXIMITY,
        ).order_by("pk")
    )
    assert len(managers) >= 30, "the demo needs enough proximity managers"
    month = month_start(timezone.localdate())

    def add(user, feature):
        Activity.objects.create(
            user=user,
            organisation=organisation,
            organism=user.organism,
            level=user.level,
            feature=feature,
            action="use",
            day=month,
            month=month,
        )

    for m in managers[:15]:
        add(m, Feature.COACH)
    for m in managers[:12]:
        add(m, Feature.MALLETTE)
    for m in managers[:3]:
        add(m, Feature.BOOSTS)
    try:  # the dashboard reads a rollup of the activity, refreshed by beat
        from campus.analytics.rollups import rollup_refresh
    except ImportError:  # pragma: no cover
        pass
    else:
        rollup_refresh(organisation=organisation)
    return {"month": f"{month:%Y-%m}", "coach": 15, "boosts": 3}


def run_export(page, button: str, fmt: str) -> Path:
    """Click an export button, watch the progress page until the worker is done, download."""
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r"/analyses/exports/\d+/$"))
    expect(page.locator(".job-state")).to_have_text("Terminé", timeout=60_000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    link = page.get_by_role("link", name=f"Télécharger le fichier ({fmt.upper()})")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(f".{fmt}")
    path = SHOTS / f"export.{fmt}"
    download.save_as(path)
    return path


def test_an_hr_analyst_filters_the_dashboard_and_exports_it(
    page, live_server, activity, celery_worker_process, shots, page_errors, external_requests
):
    month = activity["month"]
    login(page, live_server, ANALYST_EMAIL)
    page.goto(live_server.url + reverse("analytics:dashboard"))
    expect(page.get_by_role("heading", level=1, name="Adoption du campus")).to_be_visible()
    assert_accessible(page, "dashboard")

    # Filter: one dimension, the managerial level.
    page.get_by_label("Périmètre").select_option(label=LEVEL_LABEL)
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"perimetre=level%3Aproximity"))
    usage = page.locator(
        "table",
        has=page.locator(
            "caption", has_text=re.compile(r"^Utilisations par mois et par fonctionnalité$")
        ),
    )
    headers = usage.locator("thead th").all_inner_texts()
    current = usage.locator("tbody tr").last
    cells = [current.locator("th").inner_text(), *current.locator("td").all_inner_texts()]
    assert cells[headers.index("Coach")] == "15"
    assert cells[headers.index("Boosts")] == "masqué"  # 3 people < k
    assert "masqué" in cells[1 : headers.index("Coach")] + cells[headers.index("Coach") + 1 :]
    assert_accessible(page, "dashboard-filtered")
    shots(page, "dashboard-filtered")
    dashboard_url = page.url
    # The dashboard's own console errors are checked at the end, apart from the exports'.
    dashboard_errors = list(page_errors)
    page_errors.clear()

    # XLSX: one sheet per table, the same figures, the small cell masked.
    xlsx = run_export(page, "Classeur XLSX", "xlsx")
    assert_accessible(page, "export-done")
    shots(page, "export-xlsx-done")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    sheet = book["Utilisations par mois et par fo"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:2] == ["Périmètre", LEVEL_LABEL]
    header = next(r for r in rows if r[0] == "Mois")
    line = next(r for r in rows if r[0] == month)
    assert line[header.index("Coach")] == 15
    assert line[header.index("Boosts")] == "masqué"
    assert line[header.index("Mallette des pratiques")] == "masqué"
    assert all(
        r[header.index("Boosts")] in (0, "masqué", None) for r in rows[rows.index(header) + 1 :]
    )

    # PDF: progress, then download; the same figures, the threshold stated.
    page.goto(dashboard_url)
    dashboard_errors += page_errors
    page_errors.clear()
    pdf = run_export(page, "Rapport PDF", "pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
        ).stdout
        lines = text.splitlines()
        start = next(
            i
            for i, t in enumerate(lines)
            if t.strip() == "Utilisations par mois et par fonctionnalité"
        )
        row = next(t for t in lines[start:] if t.strip().startswith(month)).split()
        assert "15" in row and row.count("masqué") >= 2 and "3" not in row
        assert "moins de 10 personnes" in " ".join(text.split())
        assert LEVEL_LABEL in text
    if shutil.which("pdftoppm"):  # page images, for a human to look at
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(SHOTS / "report-page")], check=True
        )

    # The log of exports; the monthly report subscription.
    page.get_by_role("link", name="Tous mes exports").click()
    expect(page.get_by_role("heading", level=1, name="Exports des analyses")).to_be_visible()
    expect(page.locator("caption")).to_contain_text("2 exports")
    expect(page.get_by_role("link", name=re.compile("^Télécharger"))).to_have_count(2)
    page.get_by_role("button", name="Recevoir le rapport mensuel").click()
    expect(page.get_by_text("vous sera envoyé par courriel")).to_be_visible()
    assert ReportSubscription.objects.filter(user__email=ANALYST_EMAIL).exists()
    assert_accessible(page, "exports")
    shots(page, "exports")

    # An expired file: a French page and a button to make it again.
    expired = ExportLog.objects.filter(format="xlsx").get()
    ExportLog.objects.filter(pk=expired.pk).update(expired=True)
    page.goto(live_server.url + reverse("analytics:export_download", args=[expired.pk]))
    expect(page.get_by_role("heading", level=1, name="Ce fichier a expiré")).to_be_visible()
    assert_accessible(page, "export-expired")
    shots(page, "export-expired")
    page.get_by_role("button", name="Générer à nouveau").click()
    expect(page.locator(".job-state")).to_have_text("Terminé", timeout=60_000)
    assert ExportLog.objects.filter(format="xlsx").count() == 2
    # The expired download answers 410 Gone on purpose; Chromium logs any 4xx as an error.
    assert [e for e in page_errors if "status of 410" not in e] == []
    assert external_requests == []
    assert dashboard_errors == [], "dashboard: " + "; ".join(sorted(set(dashboard_errors))[:3])


def analytics_urls_for(export_pk: int) -> list[str]:
    """Every URL of the analytics namespace (the dashboard pages and the exports)."""
    samples = {"int": export_pk, "slug": "adoption", "str": "adoption", "uuid": None}
    found = []
    for pattern in analytics_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {
            name: samples[type(conv).__name__.replace("Converter", "").lower()]
            for name, conv in pattern.pattern.converters.items()
        }
        found.append(reverse(f"analytics:{pattern.name}", kwargs=kwargs))
    return found


def test_a_manager_gets_404_on_every_analytics_url(page, live_server, demo, shots):
    analyst = User.objects.get(email=ANALYST_EMAIL)
    export = ExportLog.objects.create(
        organisation=analyst.organisation, user=analyst, page="adoption", format="csv"
    )
    urls = analytics_urls_for(export.pk)
    assert len(urls) >= 8
    login(page, live_server, MANAGER_EMAIL)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for url in urls:
        response = page.request.get(live_server.url + url, max_redirects=0)
        if response.status == 405:  # POST only: post, with a valid CSRF token
            response = page.request.post(
                live_server.url + url,
                form={"format": "csv", "subscribe": "1"},
                headers={"X-CSRFToken": token},
            )
        assert response.status == 404, url
    page.goto(live_server.url + reverse("analytics:dashboard"))
    assert_accessible(page, "analytics-404")
    shots(page, "manager-404")
    assert ExportLog.objects.count() == 1
    assert not ReportSubscription.objects.exists()


def test_outcomes_page_and_the_threshold_setting(
    page, live_server, activity, shots, page_errors, external_requests
):
    from tests.browser.test_pages import HR_ADMIN_EMAIL

    login(page, live_server, HR_ADMIN_EMAIL)
    page.goto(live_server.url + reverse("analytics:outcomes"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "outcomes")
    shots(page, "outcomes")
    # The HR admin sets the threshold: a value under 10 is refused in French, kept in the field.
    page.goto(live_server.url + reverse("analytics:threshold"))
    field = page.get_by_label(re.compile("Seuil", re.I)).first
    field.fill("4")
    page.get_by_role("button", name="Enregistrer le seuil").click()
    expect(page.get_by_role("alert").first).to_contain_text("n’a pas été enregistré")
    expect(field).to_have_value("4")
    assert_accessible(page, "threshold-error")
    shots(page, "threshold-error")
    field.fill("12")
    page.get_by_role("button", name="Enregistrer le seuil").click()
    expect(page.locator("body")).to_contain_text("12")
    analyst = User.objects.get(email=ANALYST_EMAIL)
    analyst.organisation.refresh_from_db()
    assert analyst.organisation.analytics_min_people == 12
    # The refused form answers 400 on purpose; Chromium logs any 4xx as an error.
    assert [e for e in page_errors if "status of 400" not in e] == []
    assert external_requests == []
