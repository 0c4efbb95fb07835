"""Analytics exports. CSV of a report (built in the request for the small adoption table).
Suppressed figures stay suppressed; text that a spreadsheet would run as a formula is
neutralised."""

from __future__ import annotations

import csv
import io

from campus.analytics.tables import Report, plain
from campus.spreadsheets import safe_cell


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
