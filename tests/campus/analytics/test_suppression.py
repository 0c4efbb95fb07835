from __future__ import annotations

from campus.analytics.suppression import Cell, Grid, suppress

K = 10


def grid_of(values: list[list[tuple[int, int]]]) -> Grid:
    """(uses, people) per cell; the totals add the uses and (as an upper bound) the people."""
    cells = [[Cell(value=v, people=p) for v, p in row] for row in values]
    row_totals = [
        Cell(value=sum(c.value for c in r), people=sum(c.people for c in r)) for r in cells
    ]
    col_totals = [
        Cell(value=sum(r[j].value for r in cells), people=sum(r[j].people for r in cells))
        for j in range(len(cells[0]))
    ]
    grand = Cell(value=sum(c.value for c in row_totals), people=sum(c.people for c in row_totals))
    return Grid(cells=cells, row_totals=row_totals, col_totals=col_totals, grand=grand)


def no_line_with_a_single_hidden_entry(grid: Grid) -> bool:
    return all(sum(c.hidden for c in parts) + total.hidden != 1 for parts, total in grid.lines())


def test_a_table_without_small_cells_is_untouched():
    grid = suppress(grid_of([[(50, 20), (30, 12)], [(40, 15), (60, 25)]]), k=K)
    assert not any(c.hidden for c in grid.all_cells())


def test_one_small_cell_in_a_row_gets_a_complementary_cell_hidden():
    grid = suppress(grid_of([[(50, 20), (7, 3), (30, 12)], [(40, 15), (60, 25), (45, 18)]]), k=K)
    assert grid.cells[0][1].hidden  # primary
    hidden_in_row = [c for c in grid.cells[0] if c.hidden]
    assert len(hidden_in_row) >= 2 or grid.row_totals[0].hidden
    # The smallest other non-zero part is the one that goes (30 rather than 50).
    assert grid.cells[0][2].hidden and not grid.cells[0][0].hidden
    # The row total can no longer reveal the small cell...
    visible = sum(c.value for c in grid.cells[0] if not c.hidden)
    assert grid.row_totals[0].value - visible != grid.cells[0][1].value
    # ...nor can the column totals, nor the totals of totals.
    assert no_line_with_a_single_hidden_entry(grid)


def test_a_row_whose_other_parts_are_zero_hides_its_total():
    grid = suppress(grid_of([[(0, 0), (4, 2)], [(40, 15), (60, 25)]]), k=K)
    assert grid.cells[0][1].hidden
    assert grid.row_totals[0].hidden
    assert no_line_with_a_single_hidden_entry(grid)


def test_zero_is_shown_and_is_not_a_small_cell():
    grid = suppress(grid_of([[(0, 0), (40, 20)], [(40, 15), (60, 25)]]), k=K)
    assert grid.cells[0][0].shown == 0


def test_a_small_total_is_hidden_with_its_parts():
    grid = suppress(grid_of([[(2, 1), (3, 2)], [(40, 15), (60, 25)]]), k=K)
    assert grid.row_totals[0].hidden
    assert grid.cells[0][0].hidden and grid.cells[0][1].hidden
    assert no_line_with_a_single_hidden_entry(grid)


def test_suppression_propagates_through_columns_until_stable():
    grid = suppress(
        grid_of(
            [
                [(5, 3), (50, 20), (70, 30)],
                [(80, 30), (90, 40), (100, 50)],
                [(60, 20), (55, 22), (65, 25)],
            ]
        ),
        k=K,
    )
    assert grid.cells[0][0].hidden
    assert no_line_with_a_single_hidden_entry(grid)


def test_lines_shared_between_tables_are_suppressed_together():
    """A feature's uses are the total of its actions' line and a part of the month's line:
    a masked action makes a second figure masked in the action line, which in turn forces
    the month line."""
    from campus.analytics.suppression import suppress_lines

    register, attend = Cell(value=15, people=15), Cell(value=3, people=3)
    boosts, coach = Cell(value=18, people=15), Cell(value=20, people=20)
    month = Cell(value=38, people=25)
    cells = [register, attend, boosts, coach, month]
    suppress_lines(cells, [([register, attend], boosts), ([boosts, coach], month)], k=10)
    assert attend.hidden and register.hidden
    assert not boosts.hidden and not coach.hidden and not month.hidden


def test_a_line_whose_only_other_part_is_zero_hides_its_total():
    from campus.analytics.suppression import suppress_lines

    small, zero, total = Cell(value=4, people=4), Cell(value=0, people=0), Cell(4, 4)
    suppress_lines([small, zero, total], [([small, zero], total)], k=10)
    assert small.hidden and total.hidden and not zero.hidden
