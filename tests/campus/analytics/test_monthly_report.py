"""The monthly analytics report: subscription, one PDF per organisation and month, emailed
once to each subscribed analyst, failures retried, nobody who lost the role."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from campus.analytics import export_services, tasks
from campus.analytics.models import ExportLog, Feature, ReportSubscription
from campus.analytics.services import month_start, months_back
from campus.models import Role
from tests.campus.analytics.test_exports import add, pdf_text
from tests.factories import HrAnalystFactory, ManagerFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/analyses/exports/"
TODAY = dt.date(2026, 3, 1)
MONTH = dt.date(2026, 2, 1)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message (the SMTP seam, not our code)."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("refused")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def subscribe(user, last_sent: dt.date | None = None) -> ReportSubscription:
    return ReportSubscription.objects.create(user=user, last_sent_month=last_sent)


@pytest.fixture
def subscribers(hr_analyst, hr_admin):
    return [subscribe(hr_analyst), subscribe(hr_admin, last_sent=dt.date(2026, 1, 1))]


def test_an_analyst_subscribes_and_unsubscribes_on_the_exports_page(client, hr_analyst):
    client.force_login(hr_analyst)
    page = client.get(LIST_URL).content.decode()
    assert "Recevoir le rapport mensuel" in page
    response = client.post(reverse("analytics:report_subscription"), {"subscribe": "1"})
    assert response["Location"] == LIST_URL
    subscription = ReportSubscription.objects.get(user=hr_analyst)
    # The first email is next month's: the last report can be exported right away.
    assert subscription.last_sent_month == months_back(month_start(timezone.localdate()), 1)
    page = client.get(LIST_URL).content.decode()
    assert "le rapport mensuel (PDF) vous sera envoyé" in page
    assert "Ne plus recevoir le rapport mensuel" in page
    client.post(reverse("analytics:report_subscription"), {"subscribe": "1"})  # idempotent
    assert ReportSubscription.objects.count() == 1
    client.post(reverse("analytics:report_subscription"), {"subscribe": "0"})
    assert not ReportSubscription.objects.exists()
    assert "Vous ne recevrez plus" in client.get(LIST_URL).content.decode()


def test_managers_cannot_subscribe(client, manager):
    client.force_login(manager)
    response = client.post(reverse("analytics:report_subscription"), {"subscribe": "1"})
    assert response.status_code == 404
    assert not ReportSubscription.objects.exists()


def test_the_report_is_built_once_and_emailed_once_with_the_pdf_attached(
    organism, subscribers, hr_analyst, hr_admin, outsider
):
    managers = ManagerFactory.create_batch(25, organism=organism)
    for m in managers[:15]:
        add(m, Feature.COACH, months_ago=0)
    # Last month (relative to the real today): what the report of the previous month shows.
    other = HrAnalystFactory(organism=outsider.organism, email="rh@autre.test")
    subscribe(other)
    gone = HrAnalystFactory(organism=organism, is_active=False)
    subscribe(gone)
    demoted = HrAnalystFactory(organism=organism, roles=[Role.MANAGER])
    subscribe(demoted)
    HrAnalystFactory(organism=organism)  # not subscribed
    already = HrAnalystFactory(organism=organism)
    subscribe(already, last_sent=MONTH)

    result = export_services.monthly_reports_send(today=TODAY)
    assert result == {"sent": 3, "failed": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [hr_analyst.email, hr_admin.email, other.email]
    )
    message = next(m for m in mail.outbox if m.to == [hr_analyst.email])
    assert message.subject == "Rapport mensuel du campus · février 2026"
    assert "pièce jointe" in message.body and "février 2026" in message.body
    assert "/analyses/exports/" in message.body  # how to unsubscribe
    [(name, content, mimetype)] = message.attachments
    assert name == "rapport-mensuel-2026-02.pdf" and mimetype == "application/pdf"
    text = " ".join(pdf_text(content).split())
    assert hr_analyst.organisation.name in text
    assert "Rapport mensuel du campus" in text and "Février 2026" in text
    assert "moins de 10 personnes" in text

    # One build per organisation, logged as an automatic export of the whole organisation.
    logs = ExportLog.objects.filter(page=export_services.MONTHLY_PAGE)
    assert logs.count() == 2
    log = logs.get(organisation=hr_analyst.organisation)
    assert log.user is None and log.params == {"mois": "2026-02"} and log.format == "pdf"
    assert export_services.export_path(log).read_bytes() == content
    for s in ReportSubscription.objects.filter(user__in=[hr_analyst, hr_admin, other]):
        assert s.last_sent_month == MONTH
    assert ReportSubscription.objects.get(user=gone).last_sent_month is None
    assert ReportSubscription.objects.get(user=demoted).last_sent_month is None

    # A second run the same day (or the next days) sends nothing again.
    mail.outbox.clear()
    assert export_services.monthly_reports_send(today=TODAY) == {"sent": 0, "failed": 0}
    assert export_services.monthly_reports_send(today=dt.date(2026, 3, 2))["sent"] == 0
    assert mail.outbox == []
    assert ExportLog.objects.filter(page=export_services.MONTHLY_PAGE).count() == 2
    # Next month, the next report (for the one who had February's already too).
    assert export_services.monthly_reports_send(today=dt.date(2026, 4, 1))["sent"] == 4


def test_the_monthly_report_shows_the_previous_months_figures(organism, hr_analyst):
    subscribe(hr_analyst)
    managers = ManagerFactory.create_batch(25, organism=organism)
    for m in managers[:15]:
        add(m, Feature.COACH, months_ago=1)
    for m in managers[:4]:
        add(m, Feature.COACH, months_ago=0)  # this month: not in last month's report
    today = timezone.localdate()
    export_services.monthly_reports_send(today=today)
    [message] = mail.outbox
    text = pdf_text(message.attachments[0][1])
    last_month = months_back(month_start(today), 1)
    rows = [line.split() for line in text.splitlines() if line.strip()]
    active = next(r for r in rows if r[0] == f"{last_month:%Y-%m}")
    assert active[1] == "15"
    assert not any(r[0] == f"{month_start(today):%Y-%m}" for r in rows)
    # Every page of the analytics is in the report.
    from campus.analytics.tables import REPORTS, report_for

    flat = " ".join(text.split())
    for page in REPORTS:
        assert report_for(page, hr_analyst.organisation, {}).title in flat


def test_a_failed_email_is_retried_by_the_next_run_without_rebuilding(
    settings, subscribers, hr_analyst, hr_admin
):
    settings.EMAIL_BACKEND = "tests.campus.analytics.test_monthly_report.RefusingBackend"
    assert export_services.monthly_reports_send(today=TODAY) == {"sent": 0, "failed": 2}
    assert not ReportSubscription.objects.filter(last_sent_month=MONTH).exists()
    assert ReportSubscription.objects.get(user=hr_admin).last_sent_month == dt.date(2026, 1, 1)
    log = ExportLog.objects.get(page=export_services.MONTHLY_PAGE)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert export_services.monthly_reports_send(today=TODAY) == {"sent": 2, "failed": 0}
    assert len(mail.outbox) == 2
    assert ExportLog.objects.get(page=export_services.MONTHLY_PAGE) == log  # not rebuilt


def test_the_beat_task_sends_last_months_report(subscribers):
    assert tasks.monthly_reports_send.apply().get() == {"sent": 2, "failed": 0}
    assert len(mail.outbox) == 2
    assert tasks.monthly_reports_send.apply().get() == {"sent": 0, "failed": 0}


def test_analysts_see_the_monthly_reports_and_download_them(client, subscribers, hr_analyst):
    export_services.monthly_reports_send(today=TODAY)
    log = ExportLog.objects.get(page=export_services.MONTHLY_PAGE)
    colleague = HrAnalystFactory(organism=hr_analyst.organism)
    client.force_login(colleague)
    page = client.get(LIST_URL).content.decode()
    assert "Rapport mensuel · 2026-02" in page and "Envoi automatique" not in page
    response = client.get(reverse("analytics:export_download", args=[log.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "rapport-mensuel-2026-02.pdf" in response["Content-Disposition"]


def test_a_regenerated_monthly_report_is_a_job_of_the_analyst(
    client, subscribers, hr_analyst, django_capture_on_commit_callbacks
):
    export_services.monthly_reports_send(today=TODAY)
    log = ExportLog.objects.get(page=export_services.MONTHLY_PAGE)
    ExportLog.objects.filter(pk=log.pk).update(expired=True)
    client.force_login(hr_analyst)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("analytics:export_regenerate", args=[log.pk]))
    new = ExportLog.objects.latest("pk")
    assert (new.user, new.page, new.params) == (hr_analyst, log.page, {"mois": "2026-02"})
    tasks.export_build.apply(kwargs={"job_id": str(new.job_id)})
    new.refresh_from_db()
    assert new.job.state == "succeeded", new.job.message
    assert "février 2026" in new.job.title
    assert export_services.export_path(new).read_bytes().startswith(b"%PDF")


def test_email_attachments_keep_their_name_on_one_line(db):
    from campus.notify import email_send

    email_send(
        to="rh@campus.test",
        subject="Rapport",
        template="campus/analytics/emails/monthly_report",
        context={"user": None, "organisation": None, "month": "mars 2026"},
        attachments=[("rapport\r\nBcc: x@y.z/../a.pdf", b"%PDF-1.7", "application/pdf")],
    )
    [(name, content, mimetype)] = mail.outbox[0].attachments
    assert name == "rapport Bcc: x@y.z-..-a.pdf"
    assert content == b"%PDF-1.7" and mimetype == "application/pdf"
    assert "Bcc" not in mail.outbox[0].message().as_string().split("\n\n", 1)[0]
