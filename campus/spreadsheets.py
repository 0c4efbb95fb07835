"""Cells written to CSV or XLSX files that people open in a spreadsheet."""

from __future__ import annotations

# A cell starting like a formula is run by the spreadsheet (OWASP "CSV injection"). Full-width
# variants too: some spreadsheets normalise them into the ASCII ones.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "｜", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> object:
    """Prefix text that starts like a formula with an apostrophe: the cell is shown as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
