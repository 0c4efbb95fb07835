"""Exports of the HR analytics as jobs, their log, expiry, and the monthly report by email.

* :func:`export_start` logs the request (:class:`ExportLog`) and starts a job; the job
  (:func:`export_build`) writes the file under ``MEDIA_ROOT/analytics/exports/``, outside any
  public URL: it is served only by the access-checked download view.
* Files live :data:`EXPORT_DAYS` days; :func:`exports_purge` (daily beat) deletes them and
  marks the log rows ``expired``. The log rows stay: who exported what, when.
* Who sees which export (:func:`exports_visible_to`): an HR admin sees every export of their
  organisation; an HR analyst sees their own and the organisation's monthly reports. Anyone
  else, or someone who lost the role, gets 404.
* :func:`monthly_reports_send` (beat) builds the previous month's PDF once per organisation
  and emails it to each subscribed analyst. ``ReportSubscription.last_sent_month`` is claimed
  before sending (never twice, even with two runs at once) and released when the email fails,
  so that the next run retries it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from campus.analytics import exports
from campus.analytics.models import EXPORT_DAYS, ExportFormat, ExportLog, ReportSubscription
from campus.analytics.selectors import get_analytics_organisation_for_user, scope_choices
from campus.analytics.services import month_start, months_back
from campus.analytics.tables import REPORTS, Report, filters_describe_params, report_for
from campus.jobs import JobError, JobReporter, job_create
from campus.models import Job, Organisation, Role, User

logger = logging.getLogger(__name__)

EXPORT_JOB_KIND = "analytics_export"
EXPORT_TASK_NAME = "campus.analytics.tasks.export_build"
#: The ``page`` of the monthly report in the log: every page of ``REPORTS`` for one month.
MONTHLY_PAGE = "rapport-mensuel"
#: Query parameters kept from a page's address (the report builder validates them again).
PARAMS_MAX = 10
PARAM_KEY_MAX = 40
PARAM_VALUE_MAX = 200
IGNORED_PARAMS = {"page", "format", "csrfmiddlewaretoken"}


def analyst_filter(prefix: str = "") -> Q:
    """People who hold the HR analyst role (HR admins and superusers included), in SQL."""
    return (
        Q(**{f"{prefix}roles__contains": [Role.HR_ANALYST]})
        | Q(**{f"{prefix}roles__contains": [Role.HR_ADMIN]})
        | Q(**{f"{prefix}is_superuser": True})
    )


# --- Paths and names --------------------------------------------------------------------------


def export_path(export: ExportLog) -> Path:
    """Outside any public URL: served only through the access-checked download view."""
    return Path(settings.MEDIA_ROOT) / "analytics" / "exports" / f"{export.pk}.{export.format}"


def export_download_name(export: ExportLog, created: dt.datetime | None = None) -> str:
    when = timezone.localtime(created or export.created_at or timezone.now())
    if export.page == MONTHLY_PAGE:
        return f"rapport-mensuel-{export.params.get('mois', '')}.{export.format}"
    return f"analyses-{export.page}-{when:%Y-%m-%d-%H%M}.{export.format}"


def export_is_available(export: ExportLog, now: dt.datetime | None = None) -> bool:
    """The file may be downloaded: not expired (by the purge or by the date)."""
    now = now or timezone.now()
    return not export.expired and (export.expires_at is None or export.expires_at > now)


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)  # atomic: a download never reads half a file


# --- Access -----------------------------------------------------------------------------------


def exports_visible_to(user: User) -> QuerySet[ExportLog]:
    """HR admins: every export of their organisation. HR analysts: their own exports and
    the organisation's monthly reports. Anyone else: 404."""
    organisation = get_analytics_organisation_for_user(user)
    exports_ = ExportLog.objects.filter(organisation=organisation)
    if not user.is_hr_admin:
        exports_ = exports_.filter(Q(user=user) | Q(user__isnull=True, page=MONTHLY_PAGE))
    return exports_


def get_export_for_user(user: User, pk: object) -> ExportLog:
    try:
        return exports_visible_to(user).select_related("job", "organisation").get(pk=pk)
    except (ExportLog.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def export_params_clean(params: Mapping[str, str]) -> dict[str, str]:
    """The page's filters as given in its address, bounded (the report builder validates
    their values: an unknown one falls back to the whole organisation)."""
    clean: dict[str, str] = {}
    for key, value in params.items():
        if key in IGNORED_PARAMS or not key or len(key) > PARAM_KEY_MAX or not value:
            continue
        clean[key] = str(value)[:PARAM_VALUE_MAX]
        if len(clean) >= PARAMS_MAX:
            break
    return clean


def export_filters(
    export: ExportLog, *, choices: list[tuple[str, object]] | None = None
) -> list[tuple[str, str]]:
    """What the export was asked for, in the dashboard's words (``filters_describe``): its
    filters as of the day it was asked for (a branch deleted since says so), or the month of a
    monthly report. ``choices``: the organisation's scope choices when already read."""
    if export.page == MONTHLY_PAGE:
        try:
            month = month_label(_month_of(export.params))
        except JobError:
            month = _("mois non valide")
        return [(_("Mois"), month)]
    asked = timezone.localdate(export.created_at) if export.created_at else None
    return filters_describe_params(export.organisation, export.params, asked, choices=choices)


def exports_filters(exports_: list[ExportLog]) -> list[list[tuple[str, str]]]:
    """:func:`export_filters` of each export of a page of the log (their organisation
    selected with them): the scope choices are read once per organisation (two queries), and
    not at all for monthly reports only."""
    choices: dict[int, list[tuple[str, object]]] = {}
    described = []
    for export in exports_:
        if export.page != MONTHLY_PAGE and export.organisation_id not in choices:
            choices[export.organisation_id] = scope_choices(export.organisation)
        described.append(export_filters(export, choices=choices.get(export.organisation_id)))
    return described


# --- Starting and building an export -----------------------------------------------------------


def _job_title(page: str, fmt: str, report_title: str = "") -> str:
    """Until the job has built the report (and knows its title), a generic title."""
    if not report_title:
        if page == MONTHLY_PAGE:
            report_title = _("Rapport mensuel")
        else:
            report_title = _("tableaux en préparation")
    return _("Export %(format)s · %(page)s") % {"format": fmt.upper(), "page": report_title}


@transaction.atomic
def export_start(*, user: User, page: str, fmt: str, params: Mapping[str, str]) -> ExportLog:
    """Log the export and start its job. The same export already waiting or running for the
    same person is reused (a double click starts one job). Raises ``Http404`` for an unknown
    page or a user without access."""
    organisation = get_analytics_organisation_for_user(user)
    if (page not in REPORTS and page != MONTHLY_PAGE) or fmt not in ExportFormat.values:
        raise Http404
    if page == MONTHLY_PAGE and fmt != ExportFormat.PDF:
        raise Http404
    params = export_params_clean(params)
    running = (
        ExportLog.objects.filter(
            organisation=organisation,
            user=user,
            page=page,
            format=fmt,
            params=params,
            job__state__in=[Job.State.PENDING, Job.State.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )
    if running:
        return running
    now = timezone.now()
    export = ExportLog.objects.create(
        organisation=organisation,
        user=user,
        user_email=user.email,
        page=page,
        format=fmt,
        params=params,
        expires_at=now + timedelta(days=EXPORT_DAYS),
    )
    export.file_name = export_download_name(export, now)
    export.job = job_create(
        owner=user,
        kind=EXPORT_JOB_KIND,
        title=_job_title(page, fmt),
        task_name=EXPORT_TASK_NAME,
        task_kwargs={"export_id": export.pk},
    )
    export.save(update_fields=["job", "file_name"])
    return export


def month_label(month: dt.date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


def monthly_reports(organisation: Organisation, month: dt.date) -> list[Report]:
    """Every page of the analytics for the whole organisation, as seen at the end of
    ``month``."""
    next_month = months_back(month, -1)
    last_day = next_month - timedelta(days=1)
    return [report_for(page, organisation, {}, last_day) for page in REPORTS]


def _month_of(params: Mapping[str, Any]) -> dt.date:
    try:
        year, month = str(params.get("mois", "")).split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise JobError(_("Le mois de ce rapport n’est pas valide.")) from None


def monthly_report_pdf(organisation: Organisation, month: dt.date) -> bytes:
    html = exports.report_pdf_html(
        reports=monthly_reports(organisation, month),
        organisation_name=organisation.name,
        title=_("Rapport mensuel du campus"),
        subtitle=month_label(month).capitalize(),
        generated_at=timezone.localtime(),
    )
    return exports.report_pdf(html)


def export_content(
    export: ExportLog, reporter: JobReporter | None = None
) -> tuple[bytes, str, list[tuple[str, str]]]:
    """The file of ``export``, the title and the context lines (scope, period…) of what it
    holds."""
    organisation = export.organisation
    if export.page == MONTHLY_PAGE:
        month = _month_of(export.params)
        if reporter:
            reporter.progress(20, _("Calcul des tableaux du mois…"), force=True)
        title = _("Rapport mensuel · %(month)s") % {"month": month_label(month)}
        return monthly_report_pdf(organisation, month), title, [(_("Mois"), month_label(month))]
    try:
        report = report_for(export.page, organisation, export.params)
    except KeyError:
        raise JobError(_("Cette page des analyses n’existe plus.")) from None
    if reporter:
        reporter.progress(40, _("Écriture du fichier…"), force=True)
    if export.format == ExportFormat.CSV:
        return exports.report_csv(report), report.title, report.meta
    if export.format == ExportFormat.XLSX:
        return exports.report_xlsx(report), report.title, report.meta
    html = exports.report_pdf_html(
        reports=[report],
        organisation_name=organisation.name,
        title=report.title,
        generated_at=timezone.localtime(),
    )
    if reporter:
        reporter.progress(60, _("Mise en page du PDF…"), force=True)
    return exports.report_pdf(html), report.title, report.meta


def export_build(job: Job, reporter: JobReporter, *, export_id: int) -> dict[str, Any]:
    """The job of an export: compute the report, write the file, point at the download."""
    export = ExportLog.objects.select_related("organisation", "user").filter(pk=export_id).first()
    if export is None or export.job_id != job.pk:
        raise JobError(_("Cet export n’existe plus."))
    user = export.user
    if (
        user is None
        or not user.is_active
        or not user.is_hr_analyst
        or user.organisation_id != export.organisation_id
    ):
        raise JobError(_("Votre compte n’a plus accès aux analyses : l’export est annulé."))
    reporter.progress(10, _("Calcul des tableaux…"), force=True)
    content, title, meta = export_content(export, reporter)
    reporter.progress(95, _("Enregistrement…"), force=True)
    _write(export_path(export), content)
    Job.objects.filter(pk=job.pk).update(title=_job_title(export.page, export.format, title)[:200])
    size = _("%(kb)d Ko") % {"kb": max(1, len(content) // 1024)}
    expires = timezone.localtime(export.expires_at) if export.expires_at else None
    return {
        "message": _("Le fichier est prêt (%(size)s). Il peut être téléchargé jusqu’au %(date)s.")
        % {"size": size, "date": date_format(expires, "DATETIME_FORMAT") if expires else "—"},
        "result_url": reverse("analytics:export_download", args=[export.pk]),
        "result_label": _("Télécharger le fichier (%(format)s)")
        % {"format": export.format.upper()},
        # What the file holds, in words, for the log (the params are the raw filters).
        "result": {
            "title": title,
            "meta": [[str(k), str(v)] for k, v in meta],
            "bytes": len(content),
        },
    }


# --- Expiry -----------------------------------------------------------------------------------


def exports_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the files of exports past their date and mark them ``expired`` (the log rows
    stay). Idempotent. Returns the number of exports expired."""
    now = now or timezone.now()
    due = list(
        ExportLog.objects.filter(expired=False, expires_at__lte=now).values_list("pk", "format")
    )
    for pk, fmt in due:
        export_path(ExportLog(pk=pk, format=fmt)).unlink(missing_ok=True)
    ExportLog.objects.filter(pk__in=[pk for pk, _f in due]).update(expired=True)
    if due:
        logger.info("analytics exports purge: %d files deleted", len(due))
    return len(due)


# --- Monthly report by email ------------------------------------------------------------------


def subscription_set(*, user: User, subscribed: bool) -> ReportSubscription | None:
    """Subscribe to (or leave) the monthly report. A new subscriber's first email is the
    next month's report: the current one can be exported right away."""
    get_analytics_organisation_for_user(user)
    if not subscribed:
        ReportSubscription.objects.filter(user=user).delete()
        return None
    subscription, _created = ReportSubscription.objects.get_or_create(
        user=user,
        defaults={"last_sent_month": months_back(month_start(timezone.localdate()), 1)},
    )
    return subscription


def monthly_report_build(*, organisation: Organisation, month: dt.date) -> tuple[ExportLog, bytes]:
    """The organisation's report of ``month``: the file made by an earlier run when it is
    still there (one build per organisation and month), else a new one, logged."""
    key = f"{month:%Y-%m}"
    existing = (
        ExportLog.objects.filter(
            organisation=organisation,
            page=MONTHLY_PAGE,
            params__mois=key,
            user__isnull=True,
            expired=False,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )
    if existing is not None and export_path(existing).is_file():
        return existing, export_path(existing).read_bytes()
    pdf = monthly_report_pdf(organisation, month)
    now = timezone.now()
    export = ExportLog.objects.create(
        organisation=organisation,
        page=MONTHLY_PAGE,
        format=ExportFormat.PDF,
        params={"mois": key},
        expires_at=now + timedelta(days=EXPORT_DAYS),
    )
    export.file_name = export_download_name(export, now)
    export.save(update_fields=["file_name"])
    _write(export_path(export), pdf)
    return export, pdf


def _due(month: dt.date) -> Q:
    return Q(last_sent_month__isnull=True) | Q(last_sent_month__lt=month)


def monthly_reports_send(*, today: dt.date | None = None) -> dict[str, int]:
    """Email last month's report to every subscribed analyst who has not received it. Runs
    daily: on the 1st it sends the month's reports; later runs only retry failed emails (one
    query when there is nothing to do). Inactive people and people who lost the analyst role
    (or their organisation) receive nothing."""
    from campus.notify import NotificationError, absolute_url, email_send

    month = months_back(month_start(today or timezone.localdate()), 1)
    due = list(
        ReportSubscription.objects.filter(_due(month))
        .filter(user__is_active=True, user__organisation__isnull=False)
        .filter(analyst_filter("user__"))
        .select_related("user", "user__organisation")
        .order_by("user__organisation_id", "pk")
    )
    sent = failed = 0
    for _org_id, group in groupby(due, key=lambda s: s.user.organisation_id):
        subscriptions = list(group)
        organisation = subscriptions[0].user.organisation
        try:
            export, pdf = monthly_report_build(organisation=organisation, month=month)
        except Exception:
            logger.exception("monthly report of organisation %s not built", organisation.pk)
            failed += len(subscriptions)
            continue
        for subscription in subscriptions:
            previous = subscription.last_sent_month
            # Claim first: a second run at the same time finds nothing to send.
            claimed = (
                ReportSubscription.objects.filter(pk=subscription.pk)
                .filter(_due(month))
                .update(last_sent_month=month)
            )
            if not claimed:
                continue
            user = subscription.user
            try:
                email_send(
                    to=user.email,
                    subject=_("Rapport mensuel du campus · %(month)s")
                    % {"month": month_label(month)},
                    template="campus/analytics/emails/monthly_report",
                    context={
                        "user": user,
                        "organisation": organisation,
                        "month": month_label(month),
                        "exports_url": absolute_url(reverse("analytics:export_list")),
                        "dashboard_url": absolute_url(reverse("analytics:dashboard")),
                    },
                    attachments=[(export.file_name, pdf, "application/pdf")],
                )
            except Exception as exc:
                # Released: the next run retries this person.
                ReportSubscription.objects.filter(pk=subscription.pk).update(
                    last_sent_month=previous
                )
                if not isinstance(exc, NotificationError):
                    logger.exception("monthly report email to user %s failed", user.pk)
                failed += 1
                continue
            sent += 1
    return {"sent": sent, "failed": failed}
