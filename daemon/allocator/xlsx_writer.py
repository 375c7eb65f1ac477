"""Write allocator input sheets: ``write_input`` exports a run as the workbook
``xlsx_reader.read_workbook`` reads back the same, and ``add_input_sheets`` adds them to a
workbook (a result's, the shipped example's). ``write_table`` is every allocator table's
writer, split over sheets at Excel's row limit.

The format, for people: docs/allocator-workbook.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from daemon import workbook
from daemon.allocator.data import AllocatorInput, Eligibility, RankTable
from daemon.allocator.xlsx_layout import (
    ELIGIBILITY,
    LINE_PREFERENCERS,
    LINES,
    MAPPINGS,
    PREFERENCER_PREFS,
    PREFERENCERS,
    QUALIFICATIONS,
    RUNS,
    SPECS,
    TAKEN,
    WEIGHTINGS,
    WORKER_PREFS,
    part_name,
)
from daemon.workbook import MAX_CELL_CHARS, Cell, Formats, write_cell

# Excel's hard limit. Read at call time so tests can lower it.
MAX_DATA_ROWS = 1_048_575  # rows per sheet below the header row


def write_table(
    wb: Any,
    formats: Formats,
    sheet: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    column_formats: Mapping[int, Any] | None = None,
) -> None:
    """A table for people: styled frozen header, fitted widths, autofilter, split at Excel's limit."""
    column_formats = column_formats or {}
    per_sheet = MAX_DATA_ROWS
    for part, start in enumerate(range(0, max(len(rows), 1), per_sheet), start=1):
        chunk = rows[start : start + per_sheet]
        ws = wb.add_worksheet(part_name(sheet, part))
        for c, name in enumerate(header):
            sample = [name, *(r[c] for r in chunk[:500])]  # widths from a sample: cheap on huge tables
            ws.set_column(c, c, workbook.width(sample) + (2 if c == len(header) - 1 else 0))
            ws.write_string(0, c, name, formats.header)
        for r, values in enumerate(chunk, start=1):
            for c, value in enumerate(values):
                write_cell(ws, r, c, value, column_formats.get(c))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(chunk), len(header) - 1)


def _list_cells(ids: Iterable[str]) -> list[str]:
    """Sorted ids as comma-separated cells: one, or as many as Excel's cell size needs."""
    cells: list[str] = []
    current: list[str] = []
    size = 0
    for x in sorted(ids):
        if "," in x:
            raise ValueError(f"an id in a list cell cannot contain a comma: {x!r}")
        extra = len(x) + (2 if current else 0)  # ", " between ids
        if current and size + extra > MAX_CELL_CHARS:
            cells.append(", ".join(current))
            current, size, extra = [], 0, len(x)
        current.append(x)
        size += extra
    if current:
        cells.append(", ".join(current))  # an id longer than a cell is refused by write_cell
    return cells


def _eligibility_rows(rule: Eligibility) -> list[list[Cell]]:
    """One row per line; more when a list would overflow a cell (the reader unites them)."""
    lists = [
        _list_cells(ids)
        for ids in (rule.included_workers, rule.excluded_workers, rule.included_tags, rule.excluded_tags)
    ]
    return [
        [rule.job_line, *(cells[i] if i < len(cells) else None for cells in lists)]
        for i in range(max(1, *map(len, lists)))
    ]


def add_input_sheets(wb: Any, inp: AllocatorInput, names: Mapping[str, str] | None = None) -> None:
    """Add the input sheets of ``inp`` to an open xlsxwriter workbook.

    Rows that cannot affect the solve (tags, weightings, eligibility or taken seats of workers
    or lines outside the run) are left out, as the SQL loader leaves them out: the workbook
    then reads back as ``inp`` for any input a loader produced.
    """
    formats = Formats(wb)
    names = names or {}
    workers, lines = set(inp.worker_ids), set(inp.line_ids)

    def table(sheet: str, rows: Sequence[Sequence[Cell]]) -> None:
        write_table(wb, formats, sheet, SPECS[sheet].columns, rows)

    table(
        RUNS,
        [
            [
                inp.run_id,
                inp.allocation_run_id,
                bool(inp.taken_capacity or inp.preferencer_taken_workers or inp.preferencer_used_lines),
                json.dumps(inp.config, sort_keys=True),
                None,
                None,
            ]
        ],
    )
    table(MAPPINGS, [[w, None, names.get(w), inp.allocation_run_id] for w in inp.worker_ids])
    table(
        LINES,
        [
            [ln.id, ln.name, ln.sort_order, ln.max_n_workers, ln.must_have_workers, inp.allocation_run_id]
            for ln in inp.lines
        ],
    )
    table(WORKER_PREFS, _rank_rows(inp.worker_prefs, inp.worker_ids, inp.line_ids))
    # The earlier_* columns only when an export carries earlier rounds: other workbooks keep
    # the old layout.
    earlier = bool(inp.preferencer_taken_workers or inp.preferencer_used_lines)
    pref_columns = SPECS[PREFERENCERS].columns
    write_table(
        wb,
        formats,
        PREFERENCERS,
        pref_columns if earlier else pref_columns[:5],
        [
            [
                p.id,
                p.name,
                p.max_job_lines,
                p.max_workers,
                inp.allocation_run_id,
                *(
                    [inp.preferencer_taken_workers.get(p.id) or None, inp.preferencer_used_lines.get(p.id) or None]
                    if earlier
                    else []
                ),
            ]
            for p in inp.preferencers
        ],
    )
    table(LINE_PREFERENCERS, [[line, pref] for line, pref in inp.line_preferencers if line in lines])
    table(PREFERENCER_PREFS, _rank_rows(inp.preferencer_prefs, tuple(p.id for p in inp.preferencers), inp.worker_ids))
    table(
        WEIGHTINGS,
        [
            [w.preferencer, w.worker, w.job_line, w.weight]
            for w in inp.weightings
            if w.worker in workers and (w.job_line is None or w.job_line in lines)
        ],
    )
    table(ELIGIBILITY, [row for rule in inp.eligibility if rule.job_line in lines for row in _eligibility_rows(rule)])
    table(
        QUALIFICATIONS,
        [[w, tag] for w in inp.worker_ids for tag in sorted(inp.worker_tags.get(w, ()))],
    )
    table(TAKEN, [[line, n] for line, n in inp.taken_capacity.items() if line in lines and n])


def _rank_rows(ranks: RankTable, who_ids: Sequence[str], what_ids: Sequence[str]) -> list[list[Cell]]:
    # Fancy indexing into object arrays maps millions of indices to ids at C speed.
    who: list[str] = np.asarray(who_ids, dtype=object)[ranks.who].tolist() if len(ranks) else []
    what: list[str] = np.asarray(what_ids, dtype=object)[ranks.what].tolist() if len(ranks) else []
    return [[w, x, r] for w, x, r in zip(who, what, ranks.rank.tolist(), strict=True)]


# Above this many preference rows the writer streams (xlsxwriter's constant_memory): memory
# stays flat, but strings are stored inline, not shared (a bigger file; calamine reads both
# at about the same speed). Below it the default mode costs ~150 bytes a cell.
STREAM_ABOVE_ROWS = 500_000


def new_workbook(path: Path, inp: AllocatorInput) -> Any:
    rows = len(inp.worker_prefs) + len(inp.preferencer_prefs)
    return xlsxwriter.Workbook(str(path), {"constant_memory": rows > STREAM_ABOVE_ROWS})


def write_input(path: Path, inp: AllocatorInput, *, names: dict[str, str] | None = None) -> None:
    """Export ``inp`` as an input workbook that ``read_workbook`` reads back as ``inp``.

    ``names`` gives worker mappings' display names (the ``name`` column).
    """
    with new_workbook(path, inp) as wb:
        add_input_sheets(wb, inp, names)
