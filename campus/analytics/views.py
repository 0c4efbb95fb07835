from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campus.analytics.charts import bar_chart
from campus.analytics.exports import report_csv
from campus.analytics.forms import ScopeForm
from campus.analytics.selectors import Dashboard, get_analytics_organisation_for_user
from campus.analytics.tables import adoption_from_params, report_for


def _dashboard(request: HttpRequest) -> tuple[ScopeForm, Dashboard]:
    organisation = get_analytics_organisation_for_user(request.user)
    # An unknown scope (stale link, tampering) falls back to the whole organisation.
    return adoption_from_params(organisation, request.GET.dict())


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Adoption: monthly active managers and feature uses, HR analysts and admins only."""
    form, data = _dashboard(request)
    chart = bar_chart(
        [(m.short_label, m.label, m.active.shown) for m in data.months],
    )
    return render(
        request,
        "campus/analytics/dashboard.html",
        {
            "form": form,
            "dashboard": data,
            "chart": chart,
            "usage_rows": _usage_rows(data),
            # The filters as shown, for the export links.
            "query": urlencode({"perimetre": data.scope.key}) if data.scope.key else "",
        },
    )


def _usage_rows(data: Dashboard) -> list[tuple[str, list[object], object]]:
    return [
        (month.label, cells, total)
        for month, cells, total in zip(
            data.months, data.usage.cells, data.usage.row_totals, strict=True
        )
    ]


@login_required
@require_GET
def dashboard_export_csv(request: HttpRequest) -> HttpResponse:
    organisation = get_analytics_organisation_for_user(request.user)
    report = report_for("adoption", organisation, request.GET.dict())
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    filename = f"adoption-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
