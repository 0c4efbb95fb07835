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
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from campus.analytics.forms import FilterForm
from campus.analytics.selectors import (
    EVOLUTIONS,
    PERIOD_CHOICES,
    PERIOD_RANGE,
    SCORE_BANDS,
    CampaignRow,
    Dashboard,
    Outcomes,
    Period,
    Scope,
    adoption_dashboard,
    outcomes,
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


def masked(value: object, hidden: bool) -> object:
    """A derived figure (a share, a rate, a median): "masqué" when its count is hidden."""
    return _("masqué") if hidden else value


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
    tables = [months, usage]
    if dashboard.action_grid is not None:
        grid = dashboard.action_grid
        action_rows: list[list[object]] = [
            [month.month.strftime("%Y-%m"), *cells, total]
            for month, cells, total in zip(
                dashboard.months, grid.cells, grid.row_totals, strict=True
            )
        ]
        action_rows.append([_("Total sur la période"), *grid.col_totals, grid.grand])
        tables.append(
            Table(
                key="actions",
                title=_("Utilisations par mois et par action"),
                columns=[
                    _("Mois"),
                    *[label for _key, label in dashboard.actions],
                    _("Total des utilisations"),
                ],
                rows=action_rows,
                note=_("Une utilisation : une personne, une action, un jour."),
            )
        )
    if dashboard.devices is not None:
        device_rows = []
        for (label, cells, total, share), month in zip(
            dashboard.device_rows, [*dashboard.months, None], strict=True
        ):
            device_rows.append(
                [
                    month.month.strftime("%Y-%m") if month else label,
                    *cells,
                    total,
                    masked(share, share is None and total.value > 0),
                ]
            )
        tables.append(
            Table(
                key="appareils",
                title=_("Activité sur ordinateur et sur mobile"),
                columns=[
                    _("Mois"),
                    _("Ordinateur"),
                    _("Mobile"),
                    _("Total"),
                    _("Part du mobile (%)"),
                ],
                rows=device_rows,
                note=_("Une personne, une action, un jour, selon l’appareil utilisé."),
            )
        )
    width = dashboard.cohort_width
    tables.append(
        Table(
            key="cohortes",
            title=_("Cohortes : part des managers actifs n mois après leur première activité"),
            columns=[
                _("Mois de la première activité"),
                _("Managers"),
                *[_("Mois %(n)s (%%)") % {"n": n} for n in range(width)],
            ],
            rows=[
                [
                    c.month.strftime("%Y-%m"),
                    c.size,
                    *[masked(share, cell.hidden) for cell, share in c.cells],
                    *[None] * (width - len(c.cells)),
                ]
                for c in dashboard.cohorts
            ],
            note=_(
                "Première activité enregistrée : l’activité est conservée 13 mois, le mois le "
                "plus ancien n’est donc pas une cohorte."
            ),
        )
    )
    tables.append(campaigns_table(dashboard.campaigns, dashboard.campaigns_total))
    return tables


def campaigns_table(rows: list[CampaignRow], total: CampaignRow | None) -> Table:
    lines = [*rows, *([total] if total else [])]
    return Table(
        key="campagnes-180",
        title=_("Campagnes de feedback 180° par mois"),
        columns=[
            _("Mois"),
            _("Campagnes ouvertes"),
            _("Campagnes clôturées"),
            _("Taux de réponse des campagnes clôturées (%)"),
        ],
        rows=[[r.label, r.opened, r.closed, masked(r.rate, r.rate_hidden)] for r in lines],
        note=_("Nombres de campagnes seulement : jamais le résultat d’un manager."),
    )


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
            _("Données arrêtées le"),
            date_format(timezone.localtime(dashboard.refreshed_at), "DATETIME_FORMAT")
            if dashboard.refreshed_at
            else "",
        ),
        (
            _("Seuil"),
            _("chiffres calculés sur moins de %(k)s personnes masqués") % {"k": dashboard.k},
        ),
    ]


def filters_from_params(
    organisation: Organisation,
    params: Mapping[str, str],
    today: dt.date | None = None,
    *,
    choices: list[tuple[str, object]] | None = None,
) -> tuple[FilterForm, Scope, Period]:
    """The validated filters of a page: an unknown scope falls back to the whole organisation,
    an invalid period to the last 12 months (the form keeps what was typed, with errors).
    ``choices``: the organisation's scope choices when already read (two queries)."""
    if choices is None:
        choices = scope_choices(organisation)
    data = {k: v for k, v in dict(params).items() if k in ("perimetre", "periode", "debut", "fin")}
    form = FilterForm(data or None, choices=choices, today=today)
    form.is_valid()
    # An unknown scope (stale link, tampering) falls back to the whole organisation.
    key = "" if not form.is_bound or form.scope_invalid else form.cleaned_data["perimetre"]
    return form, scope_from_key(key, choices), form.period()


#: The name of each scope dimension, as the groups of the dashboard's scope select say it.
SCOPE_DIMENSIONS = {
    "branch": _lazy("Branche"),
    "organism": _lazy("Organisme"),
    "level": _lazy("Niveau managérial"),
}
#: Why a scope in a link or a logged export is not applied (deleted since, or tampered with).
SCOPE_UNKNOWN = {
    "branch": _lazy("branche supprimée ou inconnue"),
    "organism": _lazy("organisme supprimé ou inconnu"),
    "level": _lazy("niveau inconnu"),
}


def filters_describe(form: FilterForm, scope: Scope, period: Period) -> list[tuple[str, str]]:
    """The filters applied, in the dashboard's words: ``[("Branche", "Maladie"), ("Période",
    "Les 12 derniers mois (décembre 2025 – novembre 2026)")]``. The only description of the
    filters: the pages' context line, the export's progress page and the log of exports.

    What cannot be applied reads as what is shown instead, and why: a branch deleted since
    the export was asked for, a period that is not valid."""
    if scope.dimension:
        scope_line = (str(SCOPE_DIMENSIONS.get(scope.dimension, _("Périmètre"))), scope.label)
    elif form.scope_invalid:
        asked = str(form.data.get("perimetre", "")).partition(":")[0]
        reason = SCOPE_UNKNOWN.get(asked, _("périmètre inconnu"))
        scope_line = (
            _("Périmètre"),
            _("%(scope)s (%(reason)s)") % {"scope": scope.label, "reason": reason},
        )
    else:
        scope_line = (_("Périmètre"), scope.label)
    first = date_format(period.first, "YEAR_MONTH_FORMAT")
    months = f"{first} – {date_format(period.last, 'YEAR_MONTH_FORMAT')}"
    if period.choice == PERIOD_RANGE:
        value = months
    else:
        choice = dict(PERIOD_CHOICES).get(period.choice, _("Les 12 derniers mois"))
        value = _("%(choice)s (%(months)s)") % {"choice": choice, "months": months}
    if form.period_errors:
        value = _("%(period)s, la période demandée n’étant pas valide") % {"period": value}
    return [scope_line, (_("Période"), value)]


def filters_describe_params(
    organisation: Organisation,
    params: Mapping[str, str],
    today: dt.date | None = None,
    *,
    choices: list[tuple[str, object]] | None = None,
) -> list[tuple[str, str]]:
    """The filters of a page's query string (or of a logged export, as of the day it was
    asked for), described by :func:`filters_describe`."""
    return filters_describe(*filters_from_params(organisation, params, today, choices=choices))


def filters_query(scope: Scope, period: Period) -> str:
    """The filters as applied, url-encoded: for the export links."""
    params = {"perimetre": scope.key} if scope.key else {}
    params.update(period.params())
    return urlencode(params)


def adoption_from_params(
    organisation: Organisation, params: Mapping[str, str], today: dt.date | None = None
) -> tuple[FilterForm, Dashboard]:
    """The adoption dashboard for the page's query parameters."""
    form, scope, period = filters_from_params(organisation, params, today)
    dashboard = adoption_dashboard(
        organisation=organisation, scope=scope, today=today, period=period
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


def outcomes_from_params(
    organisation: Organisation, params: Mapping[str, str], today: dt.date | None = None
) -> tuple[FilterForm, Outcomes]:
    form, scope, period = filters_from_params(organisation, params, today)
    return form, outcomes(organisation=organisation, scope=scope, today=today, period=period)


def outcomes_tables(data: Outcomes) -> list[Table]:
    tables = [
        Table(
            key="scores",
            title=_("Scores d’autodiagnostic par compétence (dernier autodiagnostic)"),
            columns=[
                _("Compétence"),
                _("Managers"),
                _("1er quartile"),
                _("Médiane"),
                _("3e quartile"),
                *[str(label) for _key, label, _l, _h in SCORE_BANDS],
            ],
            rows=[
                [
                    r.label,
                    r.people,
                    *(list(r.quartiles) if r.quartiles else [_("masqué")] * 3),
                    *r.bands,
                ]
                for r in data.scores
            ],
            note=_("Score moyen des énoncés de la compétence, de 1 à 5. Managers par tranche."),
        )
    ]
    if data.levels:
        tables.append(
            Table(
                key="scores-niveaux",
                title=_("Score médian par compétence et niveau managérial"),
                columns=[
                    _("Niveau managérial"),
                    _("Managers"),
                    *[label for _c, label in data.competencies],
                ],
                rows=[
                    [
                        lv.label,
                        lv.people,
                        *[
                            masked(lv.medians.get(code), lv.people.hidden)
                            for code, _l in data.competencies
                        ],
                    ]
                    for lv in data.levels
                ],
            )
        )
    tables.append(
        Table(
            key="evolution",
            title=_("Évolution entre le premier et le dernier autodiagnostic"),
            columns=[
                _("Compétence"),
                _("Managers (au moins 2 autodiagnostics)"),
                _("Évolution moyenne du score"),
                *[str(label) for _key, label in EVOLUTIONS],
            ],
            rows=[
                [r.label, r.people, masked(r.mean, r.people.hidden), *r.parts]
                for r in data.evolution
            ],
            note=_("Stable : moins de 0,25 point d’écart sur l’échelle de 1 à 5."),
        )
    )
    tables.append(campaigns_table(data.campaigns, data.campaigns_total))
    if data.mentions_available:
        tables.append(
            Table(
                key="pratiques-evoquees",
                title=_("Pratiques les plus évoquées"),
                columns=[_("Pratique"), _("Thème"), _("Textes qui l’évoquent")],
                rows=[[r.label, r.theme, r.count] for r in data.practices],
                note=_("Seules les pratiques évoquées dans au moins %(k)s textes figurent ici.")
                % {"k": data.k},
            )
        )
        tables.append(
            Table(
                key="themes-evoques",
                title=_("Thèmes les plus évoqués"),
                columns=[_("Thème"), _("Textes")],
                rows=[[r.label, r.count] for r in data.themes],
                note=_("%(n)s thème(s) évoqué(s) dans moins de %(k)s textes : non affiché(s).")
                % {"n": data.hidden_themes, "k": data.k},
            )
        )
    tables.append(
        Table(
            key="coach-themes",
            title=_("Questions au coach par thème"),
            columns=[_("Thème"), _("Questions"), _("Managers")],
            rows=[[r.label, r.count, r.people] for r in data.coach],
            note=_("%(n)s thème(s) abordé(s) par moins de %(k)s managers : non affiché(s).")
            % {"n": data.hidden_coach_themes, "k": data.k},
        )
    )
    return tables


def outcomes_report(
    organisation: Organisation, params: Mapping[str, str], today: dt.date | None = None
) -> Report:
    _form, data = outcomes_from_params(organisation, params, today)
    return Report(
        page="outcomes",
        title=_("Résultats du campus"),
        meta=[
            (_("Périmètre"), data.scope.label),
            (_("Période"), data.period.label),
            (
                _("Seuil"),
                _("chiffres calculés sur moins de %(k)s personnes masqués") % {"k": data.k},
            ),
        ],
        tables=outcomes_tables(data),
    )


#: page key -> report builder ``(organisation, params, today=None) -> Report``.
REPORTS: dict[str, Callable[..., Report]] = {
    "adoption": adoption_report,
    "outcomes": outcomes_report,
}


def report_for(
    page: str,
    organisation: Organisation,
    params: Mapping[str, str],
    today: dt.date | None = None,
) -> Report:
    """Raises ``KeyError`` for an unknown page."""
    return REPORTS[page](organisation, params, today)
