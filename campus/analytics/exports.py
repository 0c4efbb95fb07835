"""The adoption table as CSV (a few dozen cells: built in the request). Suppressed figures
stay suppressed; text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from campus.analytics.selectors import Dashboard
from campus.spreadsheets import safe_cell


def dashboard_rows(dashboard: Dashboard) -> list[list[object]]:
    hidden = _("masqué")

    def shown(value: object | None) -> object:
        return hidden if value is None else value

    header = [
        _("Mois"),
        _("Managers actifs"),
        _("Part des managers (%)"),
        *[label for _code, label in dashboard.features],
        _("Total des utilisations"),
    ]
    rows: list[list[object]] = [header]
    for month, cells, total in zip(
        dashboard.months, dashboard.usage.cells, dashboard.usage.row_totals, strict=True
    ):
        rows.append(
            [
                month.month.strftime("%Y-%m"),
                shown(month.active.shown),
                shown(None if month.share is None else str(month.share).replace(".", ",")),
                *[shown(c.shown) for c in cells],
                shown(total.shown),
            ]
        )
    rows.append(
        [
            _("Total sur la période"),
            "",
            "",
            *[shown(c.shown) for c in dashboard.usage.col_totals],
            shown(dashboard.usage.grand.shown),
        ]
    )
    return rows


def dashboard_csv(dashboard: Dashboard) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([safe_cell(_("Périmètre")), safe_cell(dashboard.scope.label)])
    writer.writerow(
        [
            safe_cell(_("Managers du périmètre")),
            _("masqué") if dashboard.managers.hidden else dashboard.managers.value,
        ]
    )
    writer.writerow(
        [
            safe_cell(_("Seuil")),
            _("chiffres calculés sur moins de %(k)s personnes masqués") % {"k": dashboard.k},
        ]
    )
    writer.writerow([])
    for row in dashboard_rows(dashboard):
        writer.writerow([safe_cell(v) for v in row])
    # A BOM so that spreadsheets open the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
