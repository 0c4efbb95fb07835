"""Small-cell suppression for HR aggregates.

Primary suppression: a figure computed on 1 to k-1 people is hidden (a true zero describes
nobody and is shown). Complementary suppression: in a table whose rows and columns add up to
totals, a line (row or column, totals included) must never have exactly one hidden entry,
else that entry is the total minus the visible ones. A second entry is hidden, the smallest
non-zero part first (it loses the least information), else the line's total; repeated until
no line has a single hidden entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cell:
    value: int
    people: int  # distinct people the figure is computed on
    hidden: bool = False

    @property
    def shown(self) -> int | None:
        return None if self.hidden else self.value


def is_small(people: int, k: int) -> bool:
    return 0 < people < k


@dataclass
class Grid:
    """``cells[i][j]`` with ``row_totals[i]``, ``col_totals[j]`` and ``grand`` such that each
    row sums to its total and each column to its total."""

    cells: list[list[Cell]]
    row_totals: list[Cell]
    col_totals: list[Cell]
    grand: Cell

    def lines(self) -> list[tuple[list[Cell], Cell]]:
        rows = [(row, total) for row, total in zip(self.cells, self.row_totals, strict=True)]
        width = len(self.col_totals)
        cols = [([row[j] for row in self.cells], self.col_totals[j]) for j in range(width)]
        return [*rows, *cols, (self.row_totals, self.grand), (self.col_totals, self.grand)]

    def all_cells(self) -> list[Cell]:
        return [c for row in self.cells for c in row] + [
            *self.row_totals,
            *self.col_totals,
            self.grand,
        ]


def suppress(grid: Grid, *, k: int) -> Grid:
    """Apply primary then complementary suppression in place; returns the grid."""
    suppress_lines(grid.all_cells(), grid.lines(), k=k)
    return grid


Line = tuple[list[Cell], Cell]


def suppress_lines(cells: list[Cell], lines: list[Line], *, k: int) -> None:
    """Primary suppression of ``cells``, then complementary suppression on ``lines`` (parts
    that add up to a total), in place. Cells may be shared between lines of several tables
    (a month's uses of a feature are the parts of its actions' line and of the month's line):
    one pass over every line stops subtraction across tables too."""
    for cell in cells:
        if is_small(cell.people, k):
            cell.hidden = True
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            hidden = sum(c.hidden for c in parts) + total.hidden
            if hidden != 1:
                continue
            candidates = [c for c in parts if not c.hidden and c.value > 0]
            if total.hidden:
                # Only the total is hidden: the visible parts add up to it. Hide the smallest
                # non-zero part too (the total is then a sum with an unknown).
                if not candidates:
                    continue  # every part is a visible zero: the total is 0 and shown as such
                min(candidates, key=lambda c: c.value).hidden = True
            elif candidates:
                min(candidates, key=lambda c: c.value).hidden = True
            else:
                total.hidden = True
            changed = True
