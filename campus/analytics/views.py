from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campus.analytics.charts import bar_chart
from campus.analytics.exports import dashboard_csv
from campus.analytics.forms import ScopeForm
from campus.analytics.selectors import (
    Dashboard,
    adoption_dashboard,
    get_analytics_organisation_for_user,
    scope_choices,
    scope_from_key,
)


def _dashboard(request: HttpRequest) -> tuple[ScopeForm, Dashboard]:
    organisation = get_analytics_organisation_for_user(request.user)
    choices = scope_choices(organisation)
    form = ScopeForm(request.GET or None, choices=choices)
    # An unknown scope (stale link, tampering) falls back to the whole organisation.
    key = form.cleaned_data["perimetre"] if form.is_valid() else ""
    dashboard = adoption_dashboard(organisation=organisation, scope=scope_from_key(key, choices))
    return form, dashboard


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
        {"form": form, "dashboard": data, "chart": chart, "usage_rows": _usage_rows(data)},
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
    _form, data = _dashboard(request)
    response = HttpResponse(dashboard_csv(data), content_type="text/csv; charset=utf-8")
    filename = f"adoption-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
