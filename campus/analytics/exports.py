"""Analytics export files: CSV, XLSX and the PDF report of :class:`~campus.analytics.tables.Report`.

Only the report interface of ``tables.py`` is used, so every table of every page is written
without this module knowing the pages. Suppressed figures stay suppressed (written "masqué");
text that a spreadsheet would run as a formula is neutralised with
:func:`campus.spreadsheets.safe_cell`; numbers stay numbers in the XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from campus.analytics.charts import BarChart, bar_chart
from campus.analytics.suppression import Cell
from campus.analytics.tables import Report, Table, plain
from campus.spreadsheets import safe_cell

#: MIME type of each export format.
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
#: A table is drawn as a bar chart in the PDF when it has this many rows at most (a chart of
#: 300 organisms would be unreadable; the table next to it is enough).
CHART_MAX_BARS = 24
#: At most this many headline figures per report in the PDF.
KEY_FIGURES_MAX = 6
#: Tables with more columns than this get a smaller font in the PDF...
DENSE_COLUMNS = 8
#: ... and with more than this, a landscape page of their own (the actions and the cohorts;
#: the scores by competency and level stay on the portrait pages).
WIDE_COLUMNS = 11


# --- CSV --------------------------------------------------------------------------------------


def report_csv(report: Report) -> bytes:
    """Every table of the report one after the other, separated by an empty row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for label, value in report.meta:
        writer.writerow([safe_cell(label), safe_cell(value)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([safe_cell(_csv_value(plain(v))) for v in row])
    # A BOM so that spreadsheets open the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: object) -> object:
    # French spreadsheets read a decimal comma.
    return str(value).replace(".", ",") if isinstance(value, float) else value


# --- XLSX -------------------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_MAX = 31  # Excel's limit


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip(" '") or _("Tableau")
    base = base[:SHEET_TITLE_MAX].strip()
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
        n += 1
    used.add(name.lower())
    return name


def _xlsx_text(value: object) -> object:
    """Text as a spreadsheet must receive it: control characters removed (openpyxl refuses
    them), formula starts neutralised."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _xlsx_value(value: object) -> object:
    value = plain(value)
    if value == "":
        return None
    if isinstance(value, bool):  # a bool is an int: say it in words
        return _("oui") if value else _("non")
    if isinstance(value, int | float):
        return value
    return _xlsx_text(str(value))


def report_xlsx(report: Report) -> bytes:
    """One sheet per table: the report's title and context lines on top (scope, period,
    threshold), the table's title and note, then a bold header row and the figures."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    tables = report.tables or [Table(key="rapport", title=report.title, columns=[], rows=[])]
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        sheet.append([_xlsx_text(report.title)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)
        for label, value in report.meta:
            sheet.append([_xlsx_text(label), _xlsx_text(value)])
        sheet.append([])
        sheet.append([_xlsx_text(table.title)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        if table.note:
            sheet.append([_xlsx_text(table.note)])
        if table.columns:
            sheet.append([_xlsx_text(c) for c in table.columns])
            header = sheet.max_row
            for cell in sheet[header]:
                cell.font = bold
            # A coordinate, not sheet.cell(): that would create an empty row under the header.
            sheet.freeze_panes = f"B{header + 1}"
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
        widths = [len(str(c)) for c in table.columns] or [12]
        for row in table.rows:
            for i, v in enumerate(row[: len(widths)]):
                widths[i] = max(widths[i], len(str(plain(v))))
        widths[0] = max(widths[0], *(len(str(label)) for label, _v in report.meta), 12)
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------


@dataclass
class ReportChart:
    title: str
    chart: BarChart


@dataclass
class TableView:
    """A table as the PDF template draws it: text cells, hidden ones flagged."""

    table: Table
    header: list[str]
    rows: list[list[tuple[str, bool]]]  # (text, hidden)
    chart: ReportChart | None
    dense: bool = False  # a smaller font
    wide: bool = False  # printed on a landscape page


@dataclass
class ReportView:
    report: Report
    key_figures: list[tuple[str, str]]
    tables: list[TableView]


def _number(value: object) -> tuple[bool, float | None]:
    """(is a figure, its value or None when suppressed)."""
    if isinstance(value, Cell):
        return True, value.shown
    if isinstance(value, bool):
        return False, None
    if isinstance(value, int | float):
        return True, value
    if value == _("masqué"):
        return True, None
    return False, None


def _is_total(label: object) -> bool:
    return str(plain(label)).strip().lower().startswith("total")


def _month_numbers() -> dict[str, int]:
    return {str(name).lower(): number for number, name in MONTHS.items()}


def _short_label(label: str) -> str:
    """Month labels as "03/26" ("2026-03", "mars 2026"): twelve months fit under the bars."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if match:
        return f"{match.group(2)}/{match.group(1)[2:]}"
    match = re.fullmatch(r"(\w+) (\d{4})", label.strip())
    if match and match.group(1).lower() in _month_numbers():
        return f"{_month_numbers()[match.group(1).lower()]:02d}/{match.group(2)[2:]}"
    return label if len(label) <= 10 else label[:9] + "…"


def table_chart(table: Table) -> ReportChart | None:
    """A bar chart of the table when it is a series: its "Total…" column when it has one,
    else its first figure column, by row (total rows left out). ``None`` when the table is not
    a series of figures or too long to draw."""
    if len(table.columns) < 2:
        return None
    column = len(table.columns) - 1 if _is_total(table.columns[-1]) else 1
    body = [row for row in table.rows if len(row) > column and not _is_total(row[0])]
    if not 2 <= len(body) <= CHART_MAX_BARS:
        return None
    points: list[tuple[str, str, Any]] = []
    for row in body:
        is_figure, value = _number(row[column])
        if not is_figure:
            return None
        label = str(plain(row[0]))
        points.append((_short_label(label), label, value))
    if all(v is None for _l, _t, v in points):
        return None
    title = _("%(table)s : %(column)s") % {"table": table.title, "column": table.columns[column]}
    return ReportChart(title=title, chart=bar_chart(points, width=680, height=240))


def _text(value: object) -> tuple[str, bool]:
    shown = plain(value)
    hidden = (isinstance(value, Cell) and value.hidden) or shown == _("masqué")
    if isinstance(shown, float):
        shown = f"{shown:.1f}".replace(".", ",")
    return str(shown), hidden


def _is_month(label: object) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}", str(plain(label))))


def key_figures(report: Report) -> list[tuple[str, str]]:
    """The headlines of a report: the latest month of its first table when that table is a
    monthly series (with the figure next to it, e.g. the share), then the overall total of
    each table that has a total row and a "Total…" column (the same total once)."""
    figures: list[tuple[str, str]] = []
    first = report.tables[0] if report.tables else None
    if first and len(first.columns) > 1 and first.rows and _is_month(first.rows[-1][0]):
        last = first.rows[-1]
        for i in range(1, min(3, len(first.columns), len(last))):
            if _number(last[i])[0]:
                figures.append((f"{first.columns[i]} · {plain(last[0])}", _text(last[i])[0]))
    seen: set[str] = set()
    for table in report.tables:
        if len(table.columns) < 2 or not table.rows or not _is_total(table.columns[-1]):
            continue
        last = table.rows[-1]
        label = f"{table.columns[-1]} · {str(plain(last[0])).lower()}"
        if not _is_total(last[0]) or label in seen or not _number(last[-1])[0]:
            continue
        seen.add(label)
        figures.append((label, _text(last[-1])[0]))
    return figures[:KEY_FIGURES_MAX]


def report_view(report: Report) -> ReportView:
    return ReportView(
        report=report,
        key_figures=key_figures(report),
        tables=[
            TableView(
                table=t,
                header=[str(c) for c in t.columns],
                rows=[[_text(v) for v in row] for row in t.rows],
                chart=table_chart(t),
                dense=len(t.columns) > DENSE_COLUMNS,
                wide=len(t.columns) > WIDE_COLUMNS,
            )
            for t in report.tables
        ],
    )


def report_pdf_html(
    *,
    reports: list[Report],
    organisation_name: str,
    title: str,
    generated_at: dt.datetime,
    subtitle: str = "",
) -> str:
    return render_to_string(
        "campus/analytics/report_pdf.html",
        {
            "views": [report_view(r) for r in reports],
            "organisation_name": organisation_name,
            "title": title,
            "subtitle": subtitle,
            "generated_at": generated_at,
        },
    )


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The document is self-contained (inline CSS and SVG): WeasyPrint never fetches anything.
    raise ValueError(f"blocked fetch: {url}")


def report_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()
