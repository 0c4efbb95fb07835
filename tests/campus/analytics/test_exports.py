"""Analytics exports as jobs: the files (CSV, XLSX, PDF) with suppression and formula
escaping, the export log, access, expiry. Jobs run in this process through their Celery task
(``apply``); the enqueue after commit is captured, not sent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from campus.analytics import export_services, tasks
from campus.analytics.models import Activity, ExportLog, Feature
from campus.analytics.services import month_start, months_back
from campus.analytics.tables import report_for
from campus.models import Job, Level, Role
from tests.factories import HrAnalystFactory, ManagerFactory, OrganismFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/analyses/exports/"


def add(user, feature: str, months_ago: int = 0) -> None:
    month = months_back(month_start(timezone.localdate()), months_ago)
    Activity.objects.create(
        user=user,
        organisation=user.organisation,
        organism=user.organism,
        level=user.level,
        feature=feature,
        action="use",
        day=month,
        month=month,
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def managers(organism):
    return ManagerFactory.create_batch(30, organism=organism)


@pytest.fixture
def figures(managers):
    """This month: 20 managers on the coach, 12 on the practices, 3 on the boosts (a small
    cell, masked, and the practices masked with it)."""
    for m in managers[:20]:
        add(m, Feature.COACH)
    for m in managers[:12]:
        add(m, Feature.MALLETTE)
    for m in managers[:3]:
        add(m, Feature.BOOSTS)
    return managers


@pytest.fixture
def analyst_client(client, hr_analyst):
    client.force_login(hr_analyst)
    return client


@pytest.fixture
def export(django_capture_on_commit_callbacks):
    """``export(client, fmt, query="")``: click the export button of the adoption page, run
    the job, return the log row (refreshed)."""

    def run(client, fmt: str, query: str = "", page: str = "adoption") -> ExportLog:
        url = reverse("analytics:export_start", args=[page]) + (f"?{query}" if query else "")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(url, {"format": fmt})
        assert response.status_code == 302, response
        row = ExportLog.objects.latest("pk")
        assert response["Location"] == reverse("analytics:export_detail", args=[row.pk])
        assert len(callbacks) == 1  # the job is enqueued after commit
        tasks.export_build.apply(kwargs={"job_id": str(row.job_id)})
        row.refresh_from_db()
        return row

    return run


def download(client, row: ExportLog) -> bytes:
    response = client.get(reverse("analytics:export_download", args=[row.pk]))
    assert response.status_code == 200, response
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def sheet_rows(sheet) -> list[list[object]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def titles_at(rows: list[list[object]], title: str) -> int:
    return next(i for i, r in enumerate(rows) if r and r[0] == title)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    exe = shutil.which("pdftotext")
    if exe is None:  # pragma: no cover - poppler-utils is on the CI image
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF's text")
    result = subprocess.run([exe, "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


# --- Files ------------------------------------------------------------------------------------


def test_the_xlsx_job_writes_one_sheet_per_table_with_suppressed_cells_masked(
    analyst_client, hr_analyst, figures, export
):
    row = export(analyst_client, "xlsx")
    job = row.job
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.progress == 100
    assert job.result_url == reverse("analytics:export_download", args=[row.pk])
    assert job.title == "Export XLSX · Adoption du campus"
    assert row.user == hr_analyst and row.user_email == hr_analyst.email
    assert row.page == "adoption" and row.format == "xlsx" and row.params == {}
    assert row.file_name.endswith(".xlsx") and not row.expired
    assert timedelta(days=6, hours=23) < row.expires_at - row.created_at <= timedelta(days=7)
    assert export_services.export_path(row).is_file()

    page = analyst_client.get(reverse("analytics:export_detail", args=[row.pk]))
    assert "Télécharger le fichier (XLSX)" in page.content.decode()

    book = openpyxl.load_workbook(io.BytesIO(download(analyst_client, row)))
    report = report_for("adoption", hr_analyst.organisation, {})
    assert len(book.sheetnames) == len(report.tables)  # one sheet per table of the page
    assert book.sheetnames[0] == "Managers actifs par mois"
    usage_name = "Utilisations par mois et par fo"  # 31 characters at most
    assert report.tables[1].title.startswith(usage_name)
    active, usage = sheet_rows(book.worksheets[0]), sheet_rows(book[usage_name])
    # The report's context on top: title, scope, threshold.
    assert active[0][0] == "Adoption du campus"
    labels = [r[0] for r in active[:8]]
    assert "Périmètre" in labels and "Seuil" in labels
    threshold = next(r[1] for r in active if r[0] == "Seuil")
    assert "moins de 10 personnes" in threshold

    header_at = next(i for i, r in enumerate(usage) if r[0] == "Mois")
    header = usage[header_at]
    assert all(c.font.b for c in book[usage_name][header_at + 1] if c.value)
    body = usage[header_at + 1 :]
    current, totals = body[-2], body[-1]
    assert current[header.index("Coach")] == 20  # a number, not text
    assert current[header.index("Boosts")] == "masqué"
    assert current[header.index("Mallette des pratiques")] == "masqué"
    assert totals[0] == "Total sur la période"
    assert totals[header.index("Boosts")] == "masqué"
    # The masked figures (3 boost uses, 12 practice uses) appear nowhere in the sheet.
    for r in body:
        assert r[header.index("Boosts")] in (0, "masqué")
        assert r[header.index("Mallette des pratiques")] in (0, "masqué")

    months_at = next(i for i, r in enumerate(active) if r[0] == "Mois")
    assert active[months_at + 12][1] == 20 and len(active) == months_at + 13
    assert isinstance(active[months_at + 12][2], float)  # the share, as a number


def test_the_xlsx_escapes_text_that_a_spreadsheet_would_run(analyst_client, managers, export):
    branch = managers[0].organism.branch
    evil = OrganismFactory(branch=branch, name='=HYPERLINK("http://x";"clic")')
    for m in ManagerFactory.create_batch(12, organism=evil):
        add(m, Feature.COACH)
    row = export(analyst_client, "xlsx", f"perimetre=organism:{evil.pk}")
    assert row.params == {"perimetre": f"organism:{evil.pk}"}
    book = openpyxl.load_workbook(io.BytesIO(download(analyst_client, row)))
    for sheet in book.worksheets:
        scope = next(r for r in sheet_rows(sheet) if r[0] == "Périmètre")
        assert scope[1] == "'" + evil.name
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    months = sheet_rows(book.worksheets[0])
    assert months[-1][1] == 12  # the filter applies: 12 active managers in that organism


def test_the_csv_job_writes_every_table(analyst_client, hr_analyst, figures, export):
    row = export(analyst_client, "csv")
    assert row.job.state == Job.State.SUCCEEDED, row.job.message
    text = download(analyst_client, row).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    report = report_for("adoption", hr_analyst.organisation, {})
    titles = [r[0] for r in rows if len(r) == 1]
    assert titles == [t.title for t in report.tables]  # every table of the page
    at = titles_at(rows, "Utilisations par mois et par fonctionnalité")
    header, body = rows[at + 1], rows[at + 2 : at + 2 + len(report.tables[1].rows)]
    assert body[-2][header.index("Boosts")] == "masqué"
    assert body[-2][header.index("Coach")] == "20"
    assert body[-1][0] == "Total sur la période"


def test_the_pdf_job_holds_key_figures_charts_and_tables(
    analyst_client, hr_analyst, figures, export
):
    row = export(analyst_client, "pdf")
    assert row.job.state == Job.State.SUCCEEDED, row.job.message
    text = pdf_text(download(analyst_client, row))
    flat = " ".join(text.split())
    assert hr_analyst.organisation.name in flat
    assert "Adoption du campus" in flat
    assert "Généré le" in flat
    assert "Chiffres clés" in flat
    assert "moins de 10 personnes" in flat  # the threshold, stated
    assert "Managers actifs par mois" in flat
    assert "Utilisations par mois et par fonctionnalité" in flat
    assert "masqué" in flat
    # The current month's line of the uses table: practices and boosts masked, coach shown.
    month = timezone.localdate().strftime("%Y-%m")
    lines = text.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.strip() == "Utilisations par mois et par fonctionnalité"
    )
    usage_line = next(line for line in lines[start:] if line.strip().startswith(month))
    assert usage_line.split() == [month, "0", "0", "masqué", "20", "masqué", "0", "35"]


def test_the_pdf_draws_the_series_as_svg_bar_charts(figures, hr_analyst):
    from campus.analytics.exports import report_pdf_html, table_chart
    from campus.analytics.tables import report_for

    report = report_for("adoption", hr_analyst.organisation, {})
    active, usage = report.tables[:2]
    chart = table_chart(active)
    assert chart is not None and len(chart.chart.bars) == 12
    assert chart.chart.bars[-1].value == "20"
    assert chart.chart.bars[-1].label == timezone.localdate().strftime("%m/%y")
    # The uses table is drawn by its total column, without the total row.
    usage_chart = table_chart(usage)
    assert usage_chart is not None and len(usage_chart.chart.bars) == 12
    assert "Total des utilisations" in usage_chart.title
    html = report_pdf_html(
        reports=[report],
        organisation_name="Sécurité sociale",
        title=report.title,
        generated_at=timezone.localtime(),
    )
    assert html.count("<svg") == sum(table_chart(t) is not None for t in report.tables) >= 2
    assert "<script" not in html


def test_an_unknown_page_or_format_is_404_and_logs_nothing(analyst_client):
    for page, fmt in [("nope", "csv"), ("adoption", "docx"), ("adoption", "")]:
        url = reverse("analytics:export_start", args=[page])
        assert analyst_client.post(url, {"format": fmt}).status_code == 404
    assert not ExportLog.objects.exists()


def test_a_second_click_while_it_runs_reuses_the_same_export(
    analyst_client, django_capture_on_commit_callbacks
):
    url = reverse("analytics:export_start", args=["adoption"]) + "?perimetre=level:proximity"
    with django_capture_on_commit_callbacks(execute=False):
        first = analyst_client.post(url, {"format": "xlsx"})
        second = analyst_client.post(url, {"format": "xlsx"})
        other = analyst_client.post(url, {"format": "pdf"})
    assert first["Location"] == second["Location"] != other["Location"]
    assert ExportLog.objects.count() == 2
    assert Job.objects.count() == 2


def test_an_export_of_someone_who_lost_the_role_fails(
    analyst_client, hr_analyst, export, django_capture_on_commit_callbacks
):
    url = reverse("analytics:export_start", args=["adoption"])
    with django_capture_on_commit_callbacks(execute=False):
        analyst_client.post(url, {"format": "csv"})
    row = ExportLog.objects.get()
    hr_analyst.roles = [Role.MANAGER]
    hr_analyst.save()
    tasks.export_build.apply(kwargs={"job_id": str(row.job_id)})
    row.job.refresh_from_db()
    assert row.job.state == Job.State.FAILED
    assert "plus accès" in row.job.message
    assert not export_services.export_path(row).exists()


# --- Access -----------------------------------------------------------------------------------


def export_urls(pk: int) -> list[tuple[str, str]]:
    return [
        ("get", LIST_URL),
        ("post", reverse("analytics:export_start", args=["adoption"])),
        ("post", reverse("analytics:report_subscription")),
        ("get", reverse("analytics:export_detail", args=[pk])),
        ("get", reverse("analytics:export_download", args=[pk])),
        ("post", reverse("analytics:export_regenerate", args=[pk])),
    ]


@pytest.mark.parametrize("persona", ["manager", "outsider"])
def test_managers_and_outsiders_get_404_on_every_export_url(
    client, request, persona, analyst_client, export
):
    row = export(analyst_client, "csv")
    client.force_login(request.getfixturevalue(persona))
    for method, url in export_urls(row.pk):
        assert getattr(client, method)(url, {"format": "csv"}).status_code == 404, url
    assert ExportLog.objects.count() == 1


def test_an_analyst_of_another_organisation_gets_404(client, analyst_client, outsider, export):
    row = export(analyst_client, "csv")
    other = HrAnalystFactory(organism=outsider.organism)
    client.force_login(other)
    for method, url in export_urls(row.pk)[3:]:
        assert getattr(client, method)(url).status_code == 404, url
    page = client.get(LIST_URL)
    assert page.status_code == 200 and "Aucun export" in page.content.decode()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_analysts_see_their_own_exports_and_admins_everyones(
    client, analyst_client, hr_analyst, hr_admin, organism, export
):
    mine = export(analyst_client, "csv")
    colleague = HrAnalystFactory(organism=organism, email="collegue@campus.test")
    client.force_login(colleague)
    theirs = export(client, "xlsx")
    # The colleague sees their export only, and cannot open the analyst's.
    page = client.get(LIST_URL).content.decode()
    assert reverse("analytics:export_detail", args=[theirs.pk]) in page
    assert reverse("analytics:export_detail", args=[mine.pk]) not in page
    assert client.get(reverse("analytics:export_download", args=[mine.pk])).status_code == 404
    # The HR admin sees both, with who asked, and may download them.
    client.force_login(hr_admin)
    page = client.get(LIST_URL).content.decode()
    assert hr_analyst.email in page and colleague.email in page
    assert "Demandé par" in page
    assert download(client, mine).startswith(b"\xef\xbb\xbf")


def test_the_exports_page_lists_downloads_and_expired_files(analyst_client, export):
    fresh = export(analyst_client, "csv")
    old = export(analyst_client, "xlsx")
    ExportLog.objects.filter(pk=old.pk).update(expired=True)
    html = analyst_client.get(LIST_URL).content.decode()
    assert reverse("analytics:export_download", args=[fresh.pk]) in html
    assert reverse("analytics:export_download", args=[old.pk]) not in html
    assert "expiré" in html
    assert "7 jours" in html
    assert "Journal des exports" in html and "2 exports" in html


def test_the_exports_page_is_paginated(analyst_client, hr_analyst):
    ExportLog.objects.bulk_create(
        ExportLog(
            organisation=hr_analyst.organisation,
            user=hr_analyst,
            user_email=hr_analyst.email,
            page="adoption",
            format="csv",
            expires_at=timezone.now() + timedelta(days=7),
        )
        for _ in range(30)
    )
    first = analyst_client.get(LIST_URL).content.decode()
    assert "Page 1 sur 2" in first and 'rel="next"' in first
    second = analyst_client.get(LIST_URL, {"page": 2}).content.decode()
    assert "Page 2 sur 2" in second


def test_the_exports_page_makes_a_constant_number_of_queries(
    client, hr_admin, organism, django_assert_max_num_queries
):
    client.force_login(hr_admin)

    def make(n: int) -> None:
        for _ in range(n):
            user = HrAnalystFactory(organism=organism)
            job = Job.objects.create(
                owner=user,
                organisation=user.organisation,
                kind=export_services.EXPORT_JOB_KIND,
                title="Export CSV · Adoption du campus",
                task_name=export_services.EXPORT_TASK_NAME,
                state=Job.State.SUCCEEDED,
                result={"meta": [["Périmètre", "Toute l’organisation"]]},
            )
            ExportLog.objects.create(
                organisation=user.organisation,
                user=user,
                user_email=user.email,
                page="adoption",
                format="csv",
                job=job,
                expires_at=timezone.now() + timedelta(days=7),
            )

    make(3)
    with django_assert_max_num_queries(7):
        assert client.get(LIST_URL).status_code == 200
    make(30)
    with django_assert_max_num_queries(7):
        assert client.get(LIST_URL).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(LIST_URL, {"page": 2}).status_code == 200


def test_the_dashboard_offers_the_three_exports_as_post_forms(analyst_client):
    response = analyst_client.get("/analyses/", {"perimetre": f"level:{Level.STRATEGIC}"})
    html = response.content.decode()
    assert "perimetre=level%3Astrategic" in response.context["query"]
    action = reverse("analytics:export_start", args=["adoption"]) + "?" + response.context["query"]
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'name="format" value="{fmt}"' in html
    form = html.split('class="export-buttons"')[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form and f'action="{action}"' in form
    assert 'name="csrfmiddlewaretoken"' in html


# --- Expiry -----------------------------------------------------------------------------------


def test_files_are_deleted_after_seven_days_by_the_daily_purge(analyst_client, export):
    row = export(analyst_client, "xlsx")
    path = export_services.export_path(row)
    assert path.is_file()
    assert tasks.exports_purge.apply().get() == 0  # not yet
    ExportLog.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.exports_purge.apply().get() == 1
    row.refresh_from_db()
    assert row.expired and not path.exists()
    assert tasks.exports_purge.apply().get() == 0  # idempotent


def test_a_download_after_expiry_says_so_and_offers_to_regenerate(
    analyst_client, export, django_capture_on_commit_callbacks
):
    row = export(analyst_client, "xlsx", "perimetre=level:proximity")
    # Past its date: expired even before the purge has run.
    ExportLog.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = analyst_client.get(reverse("analytics:export_download", args=[row.pk]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Ce fichier a expiré" in html
    assert reverse("analytics:export_regenerate", args=[row.pk]) in html
    assert "Générer à nouveau" in html
    with django_capture_on_commit_callbacks(execute=False):
        response = analyst_client.post(reverse("analytics:export_regenerate", args=[row.pk]))
    new = ExportLog.objects.latest("pk")
    assert new.pk != row.pk
    assert response["Location"] == reverse("analytics:export_detail", args=[new.pk])
    assert (new.page, new.format, new.params) == ("adoption", "xlsx", row.params)
    assert new.job.state == Job.State.PENDING


def test_a_download_before_the_job_ends_goes_to_the_progress_page(
    analyst_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        analyst_client.post(reverse("analytics:export_start", args=["adoption"]), {"format": "pdf"})
    row = ExportLog.objects.get()
    response = analyst_client.get(reverse("analytics:export_download", args=[row.pk]))
    assert response["Location"] == reverse("analytics:export_detail", args=[row.pk])
    page = analyst_client.get(response["Location"]).content.decode()
    assert "job-progress" in page and "En attente" in page


def test_the_export_log_is_read_only_in_the_admin(client, hr_admin, analyst_client, export):
    row = export(analyst_client, "csv")
    client.force_login(hr_admin)
    changelist = client.get("/admin/campus/exportlog/")
    assert changelist.status_code == 200
    assert row.user_email in changelist.content.decode()
    assert client.get("/admin/campus/exportlog/add/").status_code == 403


def test_report_month_parameters_are_validated():
    with pytest.raises(Exception, match="mois"):
        export_services._month_of({"mois": "2026-13"})
    assert export_services._month_of({"mois": "2026-02"}) == dt.date(2026, 2, 1)
