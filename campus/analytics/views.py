from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from campus.analytics.charts import bar_chart, line_chart, stacked_bar_chart
from campus.analytics.forms import ThresholdForm
from campus.analytics.selectors import (
    DEVICES,
    EVOLUTIONS,
    SCORE_BANDS,
    Dashboard,
    get_analytics_organisation_for_user,
)
from campus.analytics.tables import (
    adoption_from_params,
    filters_describe,
    filters_query,
    outcomes_from_params,
)
from campus.models import Organisation, User

#: SVG pattern of each device in the stacked bars: the series differ by more than colour.
DEVICE_PATTERNS = {"desktop": "", "mobile": "motif-mobile"}


def get_threshold_organisation_for_user(user: User) -> Organisation:
    """HR admins set their organisation's threshold; analysts (and anyone else): 404."""
    if not getattr(user, "is_authenticated", False) or not user.is_hr_admin:
        raise Http404
    return user.organisation


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Adoption: active managers, uses by feature and action, devices, cohorts and 180°
    campaigns; HR analysts and admins only."""
    organisation = get_analytics_organisation_for_user(request.user)
    form, data = adoption_from_params(organisation, request.GET.dict())
    return render(
        request,
        "campus/analytics/dashboard.html",
        {
            "form": form,
            "dashboard": data,
            "chart": bar_chart([(m.short_label, m.label, m.active.shown) for m in data.months]),
            "share_chart": line_chart(
                [(m.short_label, m.label, m.share) for m in data.months],
                top_value=100,
                unit=" %",
            ),
            "device_chart": _device_chart(data),
            "usage_rows": _usage_rows(data),
            "usage_columns": [label for _code, label in data.features],
            "action_rows": _action_rows(data),
            "action_columns": [label for _key, label in data.actions],
            "query": filters_query(data.scope, data.period),
            "filters": filters_describe(form, data.scope, data.period),
            "can_set_threshold": request.user.is_hr_admin,
        },
    )


def _usage_rows(data: Dashboard) -> list[tuple[str, list[object], object]]:
    return [
        (month.label, cells, total)
        for month, cells, total in zip(
            data.months, data.usage.cells, data.usage.row_totals, strict=True
        )
    ]


def _action_rows(data: Dashboard) -> list[tuple[str, list[object], object]]:
    grid = data.action_grid
    return [
        (month.label, cells, total)
        for month, cells, total in zip(data.months, grid.cells, grid.row_totals, strict=True)
    ]


def _device_chart(data: Dashboard):
    return stacked_bar_chart(
        [
            (month.short_label, month.label, [c.shown for c in cells])
            for month, cells in zip(data.months, data.devices.cells, strict=True)
        ],
        [(str(label), DEVICE_PATTERNS[code]) for code, label in DEVICES],
    )


@login_required
@require_GET
def outcomes(request: HttpRequest) -> HttpResponse:
    """Outcomes: aggregates of the self-diagnoses, the 180° participation, the most evoked
    practices and the coach's themes; never one manager's result, never a conversation."""
    organisation = get_analytics_organisation_for_user(request.user)
    form, data = outcomes_from_params(organisation, request.GET.dict())
    return render(
        request,
        "campus/analytics/outcomes.html",
        {
            "form": form,
            "data": data,
            "campaign_chart": stacked_bar_chart(
                [
                    (r.short_label, r.label, [r.opened.shown, r.closed.shown])
                    for r in data.campaigns
                ],
                [(_("Ouvertes"), ""), (_("Clôturées"), "motif-cloture")],
            ),
            "bands": [label for _key, label, _low, _high in SCORE_BANDS],
            "evolutions": EVOLUTIONS,
            "level_rows": [
                {
                    "label": level.label,
                    "people": level.people,
                    "values": [level.medians.get(code) for code, _l in data.competencies],
                }
                for level in data.levels
            ],
            "query": filters_query(data.scope, data.period),
            "filters": filters_describe(form, data.scope, data.period),
            "can_set_threshold": request.user.is_hr_admin,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def threshold(request: HttpRequest) -> HttpResponse:
    """The organisation's analytics threshold (k): HR admins only."""
    organisation = get_threshold_organisation_for_user(request.user)
    form = ThresholdForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request,
            _("Seuil enregistré : les chiffres calculés sur moins de %(k)d personnes sont masqués.")
            % {"k": organisation.analytics_min_people},
        )
        return redirect("analytics:threshold")
    return render(
        request,
        "campus/analytics/threshold.html",
        {"form": form, "organisation": organisation},
        status=400 if form.errors else 200,
    )
