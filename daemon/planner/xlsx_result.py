"""Write a solved planner run (``write_result``): the year planner and its legend
(``xlsx_grid``), ``diagnostics`` (``xlsx_diagnostics``), the rotations as a table, then the
input sheets, so the result workbook itself replays.

The sheets, for people: docs/planner-workbook.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from daemon.planner.data import PlannerInput
from daemon.planner.result import GeneratedLine
from daemon.planner.xlsx_diagnostics import diagnostics_sheet
from daemon.planner.xlsx_grid import LineFormats, legend_sheet, lines_sheet, specialty_colours
from daemon.planner.xlsx_layout import ROTATIONS
from daemon.planner.xlsx_writer import add_input_sheets, write_table
from daemon.solving import SolveOutcome
from daemon.workbook import Cell, Formats


def _rotations_sheet(wb: Any, formats: Formats, inp: PlannerInput, lines: Sequence[GeneratedLine]) -> None:
    names = {p.id: p.name for p in inp.positions}
    rows: list[list[Cell]] = [
        [
            line.name,
            r.kind,
            r.position_id,
            names.get(r.position_id) if r.position_id is not None else None,
            r.term_index,
            r.start_week,
            r.length_weeks,
            line.pathway,
        ]
        for line in lines
        for r in line.rotations
    ]
    header = ("job_line", "kind", "position", "position_name", "term_index", "start_week", "length_weeks", "pathway")
    write_table(wb, formats, ROTATIONS, header, rows)


def write_result(path: Path, inp: PlannerInput, outcome: SolveOutcome) -> None:
    """Write a solved run: ``lines``, ``legend``, ``diagnostics``, ``rotations``, then the input.

    Works for every outcome: without lines (INFEASIBLE, FAILED) the ``lines`` sheet says so and
    ``diagnostics`` carries the error and diagnosis. ``read_workbook`` replays the result.
    """
    lines: Sequence[GeneratedLine] = outcome.payload or ()
    with xlsxwriter.Workbook(str(path)) as wb:
        formats = Formats(wb)
        line_formats = LineFormats(wb, specialty_colours(inp.positions))
        lines_sheet(wb, line_formats, inp, lines, outcome)
        legend_sheet(wb, formats, line_formats, inp)
        diagnostics_sheet(wb, formats, inp, outcome)
        _rotations_sheet(wb, formats, inp, lines)
        add_input_sheets(wb, inp, formats)
