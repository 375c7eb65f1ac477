"""Write planner input sheets: ``write_input`` exports a run as the workbook
``xlsx_reader.read_workbook`` reads back the same, and ``add_input_sheets`` adds them to a
workbook (a result's, the shipped example's). ``write_table`` is every planner table's writer.

The format, for people: docs/planner-workbook.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from daemon import workbook
from daemon.planner.data import PlannerInput
from daemon.planner.xlsx_layout import AFFINITY, DEFAULTS, PATHWAYS, POSITIONS, RUNS, SPECS
from daemon.workbook import Cell, Formats, write_cell


def _list_cell(items: Sequence[str | int] | None, *, empty_is_blank: bool) -> str | None:
    """Items comma-separated; None stays an empty cell, () is ``{}`` where empty means else."""
    if items is None:
        return None
    if not items:
        return None if empty_is_blank else "{}"
    for item in items:
        if "," in str(item):
            raise ValueError(f"a list item cannot contain a comma: {item!r}")
    return ", ".join(map(str, items))


def write_table(wb: Any, formats: Formats, sheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """A table for people: styled frozen header, fitted widths, autofilter."""
    ws = wb.add_worksheet(sheet)
    for c, name in enumerate(header):
        ws.set_column(c, c, workbook.width((name, *(r[c] for r in rows))))
        ws.write_string(0, c, name, formats.header)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            write_cell(ws, r, c, value)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(header) - 1)


def add_input_sheets(wb: Any, inp: PlannerInput, formats: Formats | None = None) -> None:
    """Add the input sheets of ``inp`` to an open xlsxwriter workbook (read back as ``inp``);
    ``formats``: the workbook's, when it has them already."""
    formats = formats or Formats(wb)
    d = DEFAULTS
    run: list[Cell] = [
        inp.run_id,
        inp.allocation_run_id,
        inp.n_job_lines,
        _list_cell(inp.constraints, empty_is_blank=False),
        inp.state,
        inp.cohort,
        _list_cell(inp.term_structure, empty_is_blank=False),
        inp.leave_weeks,
        inp.max_seconds,
        inp.allow_partial_filling,
        None if inp.rng_seed == d.rng_seed else inp.rng_seed,
        None if inp.num_workers == d.num_workers else inp.num_workers,
    ]
    write_table(wb, formats, RUNS, SPECS[RUNS].columns, [run])
    # Inferred specialties are written as the blanks they came as: the reader infers them
    # again, so the workbook reads back as ``inp``, its inference record included.
    inferred = {i.position: i for i in inp.inference.inferred}
    positions: list[list[Cell]] = [
        [
            p.id,
            p.name,
            None if p.id in inferred else p.parent_specialty,
            None if p.id in inferred and inferred[p.id].subspecialty is not None else p.subspecialty,
            _list_cell(p.experience_categories, empty_is_blank=True),
            p.is_service_term,
            p.is_nights,
            p.is_rural,
            p.is_non_clinical,
            p.is_team_based,
            p.capacity,
            _list_cell(p.capacity_by_term, empty_is_blank=False),
            _list_cell(p.cohorts, empty_is_blank=False),
            p.excludable,
            _list_cell(p.tags, empty_is_blank=True),
            inp.allocation_run_id,
            p.six_month_approved,
        ]
        for p in inp.positions
    ]
    write_table(wb, formats, POSITIONS, SPECS[POSITIONS].columns, positions)
    write_table(wb, formats, AFFINITY, SPECS[AFFINITY].columns, [list(a) for a in inp.specialty_affinity])
    pathways: list[list[Cell]] = [
        [p.name, p.lines, _list_cell(p.specialties, empty_is_blank=True), p.mode, p.min_terms, p.distinct]
        for p in inp.pathways
    ]
    write_table(wb, formats, PATHWAYS, SPECS[PATHWAYS].columns, pathways)


def write_input(path: Path, inp: PlannerInput) -> None:
    """Export ``inp`` as an input workbook that ``read_workbook`` reads back as ``inp``."""
    with xlsxwriter.Workbook(str(path)) as wb:
        add_input_sheets(wb, inp)
