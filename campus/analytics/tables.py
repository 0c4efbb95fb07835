"""The analytics as tables: what a page shows is what the CSV, XLSX and PDF exports write.

A page of the analytics declares a *report* builder in :data:`REPORTS`: from the analyst's
organisation and the page's query parameters (validated here, never trusted) it returns a
:class:`Report`: a title, a few context lines (scope, period, threshold) and its tables. The
export jobs (``campus.analytics.exports``) only know this interface, so a new table on a page
is exported without touching them.

Values in a row are ``Cell`` (suppression applies: a hidden cell is written "masqué"), int,
float, str or ``None`` (an empty cell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from campus.analytics.forms import ScopeForm
from campus.analytics.selectors import (
    Dashboard,
    adoption_dashboard,
    scope_choices,
    scope_from_key,
)
from campus.analytics.suppression import Cell
from campus.models import Organisation


@dataclass
class Table:
    key: str  # a slug: file and sheet names
    title: str
    columns: list[str]  # the header row; the first column holds the row labels
    rows: list[list[object]]
    note: str = ""


@dataclass
class Report:
    page: str
    title: str
    meta: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def plain(value: object) -> object:
    """A value as written in a file: hidden cells say so, ``None`` is an empty cell."""
    if isinstance(value, Cell):
        return _("masqué") if value.hidden else value.value
    if value is None:
        return ""
    return value


def adoption_tables(dashboard: Dashboard) -> list[Table]:
    months = Table(
        key="managers-actifs",
        title=_("Managers actifs par mois"),
        columns=[_("Mois"), _("Managers actifs"), _("Part des managers (%)")],
        rows=[
            [
                m.month.strftime("%Y-%m"),
                m.active,
                _("masqué") if m.active.hidden else m.share,
            ]
            for m in dashboard.months
        ],
    )
    usage_rows: list[list[object]] = [
        [month.month.strftime("%Y-%m"), *cells, total]
        for month, cells, total in zip(
            dashboard.months, dashboard.usage.cells, dashboard.usage.row_totals, strict=True
        )
    ]
    usage_rows.append(
        [_("Total sur la période"), *dashboard.usage.col_totals, dashboard.usage.grand]
    )
    usage = Table(
        key="utilisations",
        title=_("Utilisations par mois et par fonctionnalité"),
        columns=[
            _("Mois"),
            *[label for _code, label in dashboard.features],
            _("Total des utilisations"),
        ],
        rows=usage_rows,
        note=_("Une utilisation : une personne, une action, un jour."),
    )
    return [months, usage]


def _meta(dashboard: Dashboard) -> list[tuple[str, str]]:
    managers = dashboard.managers
    return [
        (_("Périmètre"), dashboard.scope.label),
        (_("Managers du périmètre"), str(plain(managers))),
        (
            _("Période"),
            f"{dashboard.first_month:%Y-%m} – {dashboard.last_month:%Y-%m}",
        ),
        (
            _("Seuil"),
            _("chiffres calculés sur moins de %(k)s personnes masqués") % {"k": dashboard.k},
        ),
    ]


def adoption_from_params(
    organisation: Organisation, params: Mapping[str, str], today: dt.date | None = None
) -> tuple[ScopeForm, Dashboard]:
    """The adoption dashboard for the page's query parameters (an unknown scope falls back to
    the whole organisation)."""
    choices = scope_choices(organisation)
    form = ScopeForm(dict(params) or None, choices=choices)
    key = form.cleaned_data["perimetre"] if form.is_valid() else ""
    dashboard = adoption_dashboard(
        organisation=organisation, scope=scope_from_key(key, choices), today=today
    )
    return form, dashboard


def adoption_report(
    organisation: Organisation, params: Mapping[str, str], today: dt.date | None = None
) -> Report:
    _form, dashboard = adoption_from_params(organisation, params, today)
    return Report(
        page="adoption",
        title=_("Adoption du campus"),
        meta=_meta(dashboard),
        tables=adoption_tables(dashboard),
    )


#: page key -> report builder ``(organisation, params, today=None) -> Report``.
REPORTS: dict[str, Callable[..., Report]] = {"adoption": adoption_report}


def report_for(
    page: str,
    organisation: Organisation,
    params: Mapping[str, str],
    today: dt.date | None = None,
) -> Report:
    """Raises ``KeyError`` for an unknown page."""
    return REPORTS[page](organisation, params, today)
