"""Views of the analytics exports: start a job, follow it, download the file, the log of
exports, the monthly report subscription. HR analysts and HR admins of the organisation only
(anyone else: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campus.analytics import export_services as services
from campus.analytics.exports import CONTENT_TYPES
from campus.analytics.models import EXPORT_DAYS, ReportSubscription
from campus.analytics.selectors import get_analytics_organisation_for_user
from campus.models import Job

EXPORTS_PAGE_SIZE = 25


@login_required
@require_POST
def export_start(request: HttpRequest, page: str) -> HttpResponse:
    """Start the export of an analytics page: the format comes from the button, the filters
    from the page's query string (validated again by the report builder)."""
    export = services.export_start(
        user=request.user,
        page=page,
        fmt=request.POST.get("format", ""),
        params=request.GET.dict(),
    )
    return redirect("analytics:export_detail", pk=export.pk)


@login_required
@require_GET
@never_cache
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress of an export (polled by htmx), then its download button."""
    export = services.get_export_for_user(request.user, pk)
    filters = services.export_filters(export)
    # Once the file is made, its summary too (managers counted, data as of, threshold),
    # without repeating the filters already described above.
    described = {str(label) for label, _value in filters} | {_("Périmètre"), _("Période")}
    result = export.job.result if export.job and isinstance(export.job.result, dict) else {}
    summary = [
        (label, value) for label, value in result.get("meta") or [] if label not in described
    ]
    return render(
        request,
        "campus/analytics/export_detail.html",
        {
            "export": export,
            "summary": summary,
            # The progress fragment polls the job, which only its owner may read.
            "job": export.job if export.job and export.job.owner_id == request.user.pk else None,
            "available": services.export_is_available(export),
            "filters": filters,
            "export_days": EXPORT_DAYS,
        },
    )


@login_required
@require_GET
@never_cache
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = services.get_export_for_user(request.user, pk)
    path = services.export_path(export)
    if not services.export_is_available(export):
        return render(
            request,
            "campus/analytics/export_expired.html",
            {
                "export": export,
                "filters": services.export_filters(export),
                "export_days": EXPORT_DAYS,
            },
            status=410,
        )
    if export.job and export.job.state != Job.State.SUCCEEDED:
        return redirect("analytics:export_detail", pk=export.pk)
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=export.file_name or path.name,
        content_type=CONTENT_TYPES[export.format],
    )


@login_required
@require_POST
def export_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new export of the same page, format and filters (after the file expired)."""
    export = services.get_export_for_user(request.user, pk)
    new = services.export_start(
        user=request.user, page=export.page, fmt=export.format, params=export.params
    )
    return redirect("analytics:export_detail", pk=new.pk)


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """The log of exports: an HR admin sees the whole organisation's, an HR analyst their own
    and the monthly reports. A constant number of queries."""
    exports_ = services.exports_visible_to(request.user).select_related(
        "job", "user", "organisation"
    )
    page = Paginator(exports_.order_by("-created_at", "-pk"), EXPORTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    listed = list(page.object_list)
    rows = [
        (e, services.export_is_available(e, now), filters)
        for e, filters in zip(listed, services.exports_filters(listed), strict=True)
    ]
    return render(
        request,
        "campus/analytics/exports.html",
        {
            "page": page,
            "rows": rows,
            "subscription": ReportSubscription.objects.filter(user=request.user).first(),
            "everyone": request.user.is_hr_admin,
            "export_days": EXPORT_DAYS,
            "monthly_page": services.MONTHLY_PAGE,
        },
    )


@login_required
@require_POST
def report_subscription(request: HttpRequest) -> HttpResponse:
    """Subscribe to the monthly report by email, or leave it."""
    get_analytics_organisation_for_user(request.user)
    subscribed = request.POST.get("subscribe") == "1"
    services.subscription_set(user=request.user, subscribed=subscribed)
    if subscribed:
        messages.success(
            request,
            _(
                "C’est noté : le rapport mensuel (PDF) vous sera envoyé par courriel le 1er de "
                "chaque mois."
            ),
        )
    else:
        messages.success(request, _("Vous ne recevrez plus le rapport mensuel par courriel."))
    return redirect("analytics:export_list")
