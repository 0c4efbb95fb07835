"""Leftovers of the HR analytics exports: the filters in the dashboard's words on the export
pages, no nearly empty page in the PDF reports, the outcomes page reading the mentions once."""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import subprocess
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campus.analytics import export_services, exports
from campus.analytics.models import Activity, ExportLog
from campus.analytics.services import month_start, months_back
from campus.analytics.tables import report_for
from campus.models import Branch, Level, Role, User
from tests.factories import BranchFactory, OrganismFactory

pytestmark = pytest.mark.django_db

#: (feature, action, probability in an active month), as the benchmark draws them.
ACTIONS = [
    ("selfdiag", "start", 0.1),
    ("selfdiag", "submit", 0.08),
    ("feedback180", "open", 0.05),
    ("feedback180", "close", 0.04),
    ("mallette", "view", 0.6),
    ("mallette", "contribute", 0.05),
    ("coach", "question", 0.4),
    ("boosts", "register", 0.25),
    ("boosts", "attend", 0.2),
    ("communities", "post", 0.2),
]
LEVELS = [Level.PROXIMITY, Level.PROXIMITY, Level.MIDDLE, Level.STRATEGIC]


# --- The filters of an export, in words ----------------------------------------------------


@pytest.fixture
def analyst_client(client, hr_analyst):
    client.force_login(hr_analyst)
    return client


def start(client, page: str = "adoption", fmt: str = "pdf", **params: str) -> ExportLog:
    """Click an export button of a page with these filters (the job waits: the test's
    transaction never commits, so it is never enqueued)."""
    url = reverse("analytics:export_start", args=[page]) + f"?{urlencode(params)}"
    response = client.post(url, {"format": fmt})
    assert response.status_code == 302, response
    return ExportLog.objects.latest("pk")


def month_words(month: dt.date) -> str:
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


MONTH_NAMES = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def test_a_running_export_shows_its_filters_as_chosen_on_the_dashboard(analyst_client, organism):
    row = start(analyst_client, perimetre=f"branch:{organism.branch_id}", periode="6")
    assert row.job.state == "pending"
    html = analyst_client.get(reverse("analytics:export_detail", args=[row.pk])).content.decode()
    assert 'id="job-' in html  # the progress bar, polling
    current = month_start(timezone.localdate())
    six = f"Les 6 derniers mois ({month_words(months_back(current, 5))} – {month_words(current)})"
    assert "<dt>Branche</dt><dd>Maladie</dd>" in html
    assert f"<dt>Période</dt><dd>{six}</dd>" in html
    # Never the raw keys and ids of the query string.
    for raw in ("perimetre", "periode", f"branch:{organism.branch_id}"):
        assert raw not in html.split("<main")[1]
    # The log of exports says it in the same words, on one line.
    listing = analyst_client.get(reverse("analytics:export_list")).content.decode()
    assert f"Branche : Maladie · Période : {six}" in listing
    # And so does the dashboard these filters came from.
    dashboard = analyst_client.get(
        reverse("analytics:dashboard"),
        {"perimetre": f"branch:{organism.branch_id}", "periode": "6"},
    ).content.decode()
    assert "<strong>Branche :</strong> Maladie" in dashboard
    assert f"<strong>Période :</strong> {six}" in dashboard


def test_every_filter_is_described_in_french(analyst_client, organism, hr_analyst):
    current = month_start(timezone.localdate())
    first, last = months_back(current, 4), months_back(current, 2)
    cases = [
        ({}, [("Périmètre", "Toute l’organisation"), ("Période", "Les 12 derniers mois")]),
        ({"perimetre": f"organism:{organism.pk}"}, [("Organisme", organism.name)]),
        (
            {"perimetre": f"level:{Level.STRATEGIC}", "periode": "3"},
            [("Niveau managérial", "Manager stratégique"), ("Période", "Les 3 derniers mois")],
        ),
        (
            {"periode": "mois", "debut": f"{first:%Y-%m}", "fin": f"{last:%Y-%m}"},
            [("Période", f"{month_words(first)} – {month_words(last)}")],
        ),
    ]
    for params, expected in cases:
        row = ExportLog.objects.create(
            organisation=organism.organisation,
            user=hr_analyst,
            page="outcomes",
            format="csv",
            params=params,
        )
        described = dict(export_services.export_filters(row))
        for label, value in expected:
            assert described[label].startswith(value), (params, described)


def test_unknown_or_deleted_filter_values_read_sensibly(analyst_client, organism, hr_analyst):
    """A branch deleted since the export was asked for, a tampered scope or period, a monthly
    report of no valid month: the pages still open and say what the file holds."""
    famille = BranchFactory(organisation=organism.organisation, code="famille", name="Famille")
    asked = {"perimetre": f"branch:{famille.pk}"}
    row = ExportLog.objects.create(
        organisation=organism.organisation,
        user=hr_analyst,
        page="adoption",
        format="pdf",
        params=asked,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    assert export_services.export_filters(row)[0] == ("Branche", "Famille")
    Branch.objects.filter(pk=famille.pk).delete()
    scopes = {
        f"branch:{famille.pk}": "Toute l’organisation (branche supprimée ou inconnue)",
        "organism:999999": "Toute l’organisation (organisme supprimé ou inconnu)",
        "level:nope": "Toute l’organisation (niveau inconnu)",
        "x" * 200: "Toute l’organisation (périmètre inconnu)",
    }
    for key, words in scopes.items():
        row.params = {"perimetre": key, "periode": "7"}
        row.save(update_fields=["params"])
        described = export_services.export_filters(row)
        assert described[0] == ("Périmètre", words)
        assert described[1][1].startswith("Les 12 derniers mois (")
        assert described[1][1].endswith(", la période demandée n’étant pas valide")
        for url in ("analytics:export_detail", "analytics:export_list"):
            args = [row.pk] if url.endswith("detail") else []
            response = analyst_client.get(reverse(url, args=args))
            assert response.status_code == 200
            assert words in response.content.decode()
    monthly = ExportLog.objects.create(
        organisation=organism.organisation,
        page=export_services.MONTHLY_PAGE,
        format="pdf",
        params={"mois": "2026-13"},
    )
    assert export_services.export_filters(monthly) == [("Mois", "mois non valide")]
    monthly.params = {"mois": "2026-02"}
    assert export_services.export_filters(monthly) == [("Mois", "février 2026")]
    assert analyst_client.get(reverse("analytics:export_list")).status_code == 200


def test_an_old_export_is_described_as_of_the_day_it_was_asked_for(organism, hr_analyst):
    row = ExportLog.objects.create(
        organisation=organism.organisation,
        user=hr_analyst,
        page="adoption",
        format="csv",
        params={},
    )
    asked = timezone.now() - dt.timedelta(days=62)
    ExportLog.objects.filter(pk=row.pk).update(created_at=asked)
    row.refresh_from_db()
    last = month_start(timezone.localdate(asked))
    period = dict(export_services.export_filters(row))["Période"]
    assert period.endswith(f"– {month_words(last)})")


def test_the_expired_page_says_which_filters_a_new_file_will_use(
    analyst_client, organism, hr_analyst
):
    row = ExportLog.objects.create(
        organisation=organism.organisation,
        user=hr_analyst,
        page="adoption",
        format="csv",
        params={"perimetre": f"organism:{organism.pk}"},
        expired=True,
    )
    response = analyst_client.get(reverse("analytics:export_download", args=[row.pk]))
    assert response.status_code == 410
    assert f"<dt>Organisme</dt><dd>{organism.name}</dd>" in response.content.decode()


def test_the_log_describes_a_page_of_exports_with_a_constant_number_of_queries(
    client, hr_admin, organism, django_assert_max_num_queries
):
    client.force_login(hr_admin)
    other = OrganismFactory(branch=organism.branch)

    def make(n: int) -> None:
        for i in range(n):
            ExportLog.objects.create(
                organisation=organism.organisation,
                user=hr_admin,
                page="adoption",
                format="csv",
                params={"perimetre": f"organism:{(organism, other)[i % 2].pk}"},
            )

    make(2)
    with django_assert_max_num_queries(9) as few:
        assert client.get(reverse("analytics:export_list")).status_code == 200
    make(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("analytics:export_list")).content.decode()
    assert html.count(f"Organisme : {other.name}") == 11


# --- PDF: no nearly empty page --------------------------------------------------------------


@pytest.fixture
def realistic(organism):
    """An organisation as the PDF sees it in production, at a small scale: 400 managers in
    four organisms of two branches, 13 months of activity on every feature and device, 180°
    campaigns and self-diagnoses (two for a third of the managers)."""
    from feedback180.models import Campaign
    from selfdiag.models import Diagnosis
    from selfdiag.services import questionnaire_default_ensure

    rng = random.Random(7)
    organisation = organism.organisation
    retraite = BranchFactory(organisation=organisation, code="retraite", name="Retraite")
    organisms = [
        organism,
        OrganismFactory(branch=organism.branch),
        OrganismFactory(branch=retraite),
        OrganismFactory(branch=retraite),
    ]
    users = User.objects.bulk_create(
        [
            User(
                email=f"manager{i}@realiste.test",
                last_name=f"Manager {i}",
                organisation=organisation,
                organism=organisms[i % len(organisms)],
                level=LEVELS[i % len(LEVELS)],
                roles=[Role.MANAGER],
                password="!",  # noqa: S106  (unusable)
            )
            for i in range(400)
        ]
    )
    today = timezone.localdate()
    current = month_start(today)
    months = [months_back(current, n) for n in range(12, -1, -1)]
    rows = []
    for user in users:
        start = rng.randint(-4, 12)
        for index in range(max(0, start), len(months)):
            if index > start and rng.random() > 0.55:
                continue
            month = months[index]
            day = month.replace(day=min(today.day, 5) if month == current else 5)
            device = "mobile" if rng.random() < 0.3 else "desktop"
            items = [("login", "login")]
            items += [(f, a) for f, a, p in ACTIONS if rng.random() < p]
            rows += [
                Activity(
                    user=user,
                    organisation=organisation,
                    organism_id=user.organism_id,
                    level=user.level,
                    feature=feature,
                    action=action,
                    month=month,
                    day=day,
                    device=device,
                )
                for feature, action in items
            ]
    Activity.objects.bulk_create(rows, batch_size=5000)

    now = timezone.now()
    tz = timezone.get_current_timezone()
    campaigns = []
    for user in rng.sample(users, 120):
        month = rng.choice(months[1:-1])
        opened = dt.datetime(month.year, month.month, 3, 10, tzinfo=tz)
        campaigns.append(
            Campaign(
                organisation=organisation,
                manager=user,
                organism_id=user.organism_id,
                status="closed",
                closes_on=(opened + dt.timedelta(days=21)).date(),
                opened_at=opened,
                closed_at=opened + dt.timedelta(days=21),
                response_count=6,
            )
        )
    Campaign.objects.bulk_create(campaigns)

    questionnaire = questionnaire_default_ensure()
    codes = list(questionnaire.competencies.values_list("code", flat=True))
    diagnoses = []
    for user in users:
        count = 2 if rng.random() < 0.35 else 1
        for n in range(count):
            scores = {c: round(min(5, max(1, rng.gauss(3.2 + 0.3 * n, 0.7))), 2) for c in codes}
            diagnoses.append(
                Diagnosis(
                    user=user,
                    organisation=organisation,
                    questionnaire=questionnaire,
                    status="submitted",
                    submitted_at=now - dt.timedelta(days=300 - 200 * n),
                    latest=n == count - 1,
                    level=user.level,
                    organism_id=user.organism_id,
                    scores=scores,
                    overall=round(sum(scores.values()) / len(scores), 2),
                )
            )
    Diagnosis.objects.bulk_create(diagnoses)
    return organisation


# --- PDF --------------------------------------------------------------------------------------


def _poppler(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:  # pragma: no cover - poppler-utils is on the CI image
        pytest.skip(f"{name} (poppler-utils) is needed to read the PDF")
    return exe


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF."""
    assert data.startswith(b"%PDF")
    result = subprocess.run(
        [_poppler("pdftotext"), "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8").split("\f")[:-1]


def page_fills(data: bytes) -> list[float]:
    """How far down each page of a PDF its content goes, between the running header and the
    footer (0: nothing but them, 1: down to the footer), from the text's boxes (the charts'
    labels and values are text too)."""
    assert data.startswith(b"%PDF")
    result = subprocess.run(
        [_poppler("pdftotext"), "-bbox-layout", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    margin_top, margin_bottom = 18 * 72 / 25.4, 20 * 72 / 25.4  # the @page margins, in pt
    fills = []
    for page in re.findall(r"<page (.*?)</page>", result.stdout.decode("utf-8"), re.S):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        bottom = height - margin_bottom
        ends = [
            float(y)
            for y in re.findall(
                r'<block xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)"', page
            )
            if margin_top < float(y) < bottom
        ]
        fills.append((max(ends) - margin_top) / (bottom - margin_top) if ends else 0.0)
    return fills


def test_the_pdf_reports_have_no_nearly_empty_page(realistic):
    """13 months of every table: the wide ones (actions, cohorts) on a landscape page of their
    own, each table in one piece with its chart. Before, a table split across pages left its
    last rows (or a report's title) alone on a page: 13 pages, three of them under a quarter
    full."""
    month = month_start(timezone.localdate())
    monthly = export_services.monthly_report_pdf(realistic, month)
    fills = page_fills(monthly)
    assert len(fills) <= 11, fills
    assert min(fills) > 0.4, fills
    pages = pdf_pages(monthly)
    assert len(pages) == len(fills)
    # The wide tables are in one piece on the page of their title: header, every month, total.
    current = f"{month:%Y-%m}"
    for title, header, last in (
        ("Utilisations par mois et par action", "Autodiagnos", "Total sur la période"),
        ("Cohortes : part des managers actifs", "Mois 0 (%)", current),
    ):
        (page,) = [p for p in pages if title in p]
        assert header in page and last in page and f"{months_back(month, 11):%Y-%m}" in page

    adoption = report_for("adoption", realistic, {})
    html = exports.report_pdf_html(
        reports=[adoption],
        organisation_name=realistic.name,
        title=adoption.title,
        generated_at=timezone.localtime(),
    )
    fills = page_fills(exports.report_pdf(html))
    assert len(fills) <= 7 and min(fills) > 0.4, fills


def test_only_tables_with_many_columns_get_a_landscape_page(realistic):
    views = [exports.report_view(report_for(p, realistic, {})) for p in ("adoption", "outcomes")]
    wide = [t.table.key for v in views for t in v.tables if t.wide]
    dense = [t.table.key for v in views for t in v.tables if t.dense and not t.wide]
    assert wide == ["actions", "cohortes"]
    assert dense == ["scores", "scores-niveaux"]


# --- The outcomes page: the mentions read once -------------------------------------------------


def mention_practices(organisation, count: int, themes: int, prefix: str = "Pratique") -> list:
    """``count`` practices over ``themes`` themes (practice n in theme n modulo themes)."""
    from mallette.models import Practice, PracticeStatus, Theme

    theme_ids = list(Theme.objects.order_by("slug").values_list("pk", flat=True)[:themes])
    return Practice.objects.bulk_create(
        [
            Practice(
                slug=f"{prefix.lower()}-{organisation.pk}-{n}",
                title=f"{prefix} évoquée {n:03d}",
                summary="Résumé.",
                body="- Corps.",
                primary_theme_id=theme_ids[n % len(theme_ids)],
                status=PracticeStatus.PUBLISHED,
            )
            for n in range(count)
        ]
    )


def mention(practices, organism, counts: list[int], start: int = 0) -> int:
    from mallette.models import Mention

    today = timezone.localdate()
    rows = [
        Mention(
            practice=practice,
            organisation=organism.organisation,
            organism=organism,
            source="coach",
            source_ref=f"coach.exchange:{start + i}-{n}",
            similarity=0.8,
            day=today,
        )
        for practice, n in zip(practices, counts, strict=True)
        for i in range(n)
    ]
    Mention.objects.bulk_create(rows)
    return len(rows)


def uncached_outcomes(client, params: dict | None = None):
    cache.clear()  # the diagnosis figures too: the first view of the day
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/analyses/resultats/", params or {})
    assert response.status_code == 200
    return response.context["data"], queries


def test_the_outcomes_page_reads_the_mentions_once_in_one_query(analyst_client, organism):
    """The practices and the themes most evoked come from one count of the mentions by
    practice (it was two queries, each joining every mention to its practice and theme)."""
    practices = mention_practices(organism.organisation, 4, themes=2)
    mention(practices, organism, [14, 12, 3, 9])
    data, few = uncached_outcomes(analyst_client)
    assert [(p.label, p.count) for p in data.practices] == [
        ("Pratique évoquée 000", 14),
        ("Pratique évoquée 001", 12),
    ]
    # Practices 0 and 2 share a theme (17 texts), 1 and 3 the other (21).
    assert [t.count for t in data.themes] == [21, 17]
    assert data.hidden_themes == 0
    assert [q["sql"].count("mallette_mention") > 0 for q in few].count(True) == 1
    assert len(few) <= 14  # 15 when the mentions took two queries

    # Many more practices, themes and texts: the same queries.
    more = mention_practices(organism.organisation, 40, themes=16, prefix="Autre")
    mention(more, organism, [n % 13 for n in range(40)], start=1000)
    data, many = uncached_outcomes(analyst_client)
    assert len(many) == len(few)
    assert len(data.practices) == 10
    assert (data.practices[0].label, data.practices[0].count) == ("Pratique évoquée 000", 14)


def test_the_mentions_of_a_branch_or_an_organism_only(analyst_client, organism):
    elsewhere = OrganismFactory(
        branch=BranchFactory(organisation=organism.organisation, code="retraite", name="Retraite")
    )
    practices = mention_practices(organism.organisation, 2, themes=1)
    mention(practices[:1], organism, [11])
    mention(practices[1:], elsewhere, [12], start=100)
    by_branch, _q = uncached_outcomes(analyst_client, {"perimetre": f"branch:{organism.branch_id}"})
    assert [(p.label, p.count) for p in by_branch.practices] == [("Pratique évoquée 000", 11)]
    assert [t.count for t in by_branch.themes] == [11]
    by_organism, _q = uncached_outcomes(analyst_client, {"perimetre": f"organism:{elsewhere.pk}"})
    assert [(p.label, p.count) for p in by_organism.practices] == [("Pratique évoquée 001", 12)]
    everyone, _q = uncached_outcomes(analyst_client)
    assert [t.count for t in everyone.themes] == [23]


def test_a_finished_export_adds_its_summary_without_repeating_the_filters(analyst_client, organism):
    row = start(analyst_client, perimetre=f"branch:{organism.branch_id}", periode="6")
    row.job.state = "succeeded"
    row.job.result = {
        "meta": [
            ["Périmètre", "Branche Maladie"],
            ["Managers du périmètre", "1 234"],
            ["Période", "2026-06 – 2026-11"],
            ["Seuil", "chiffres calculés sur moins de 10 personnes masqués"],
        ]
    }
    row.job.save(update_fields=["state", "result"])
    html = analyst_client.get(reverse("analytics:export_detail", args=[row.pk])).content.decode()
    assert "<dt>Branche</dt><dd>Maladie</dd>" in html
    assert "<dt>Managers du périmètre</dt><dd>1 234</dd>" in html
    assert "<dt>Seuil</dt>" in html
    assert "<dt>Périmètre</dt>" not in html and html.count("<dt>Période</dt>") == 1
