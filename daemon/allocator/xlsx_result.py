"""Write a solved allocator run for people (``write_result``): ``allocations`` (one row per
worker), ``summary``, and for a COMPLETED run ``why`` and ``seat_values`` (its explanations),
then the input sheets, so the result workbook itself replays.

The sheets, for people: docs/allocator-workbook.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from daemon import workbook
from daemon.allocator import sentences
from daemon.allocator.data import AllocatorInput
from daemon.allocator.problem import Allocation, AllocatorResult, Explanation, SeatValue
from daemon.allocator.xlsx_layout import (
    ALLOCATION_COLUMNS,
    ALLOCATIONS,
    SEAT_VALUE_COLUMNS,
    SEAT_VALUES,
    SUMMARY,
    WHY,
    WHY_COLUMNS,
)
from daemon.allocator.xlsx_writer import add_input_sheets, new_workbook, write_table
from daemon.solving import SolveOutcome
from daemon.workbook import Cell, Formats, write_cell

_SUMMARY_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    # (metadata key, label, format attribute of Formats)
    ("status", "solver status", None),
    ("method", "method", None),
    ("objective", "objective (total dissatisfaction)", "decimal"),
    ("best_bound", "best bound", "decimal"),
    ("gap", "gap", "percent"),
    ("n_workers", "workers", None),
    ("n_job_lines", "job lines", None),
    ("mean_rank", "mean rank (placed workers; unranked lines at the budget)", "decimal"),
    ("worst_rank", "worst rank", None),
    ("unranked", "placed on an unranked line", None),
    ("n_unassigned", "left unassigned", None),
    ("unassigned_penalty", "unassigned penalty", "decimal"),
    ("solve_seconds", "solve seconds", "seconds"),
    ("build_seconds", "build seconds", "seconds"),
    ("cp_sat_seconds", "CP-SAT seconds", "seconds"),
    ("highs_seconds", "HiGHS seconds", "seconds"),
    ("solutions", "CP-SAT solutions", None),
    ("hinted", "CP-SAT hinted by min-cost flow", None),
    ("rounding_error_bound", "rounding error bound", None),
    ("cost_scale", "cost scale", None),
)


def _summary(wb: Any, formats: Formats, inp: AllocatorInput, outcome: SolveOutcome) -> None:
    meta = outcome.metadata
    ws = wb.add_worksheet(SUMMARY)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 10)
    ws.write_string(0, 0, "field", formats.header)
    ws.write_string(0, 1, "value", formats.header)
    ws.freeze_panes(1, 0)
    rows: list[tuple[str, Cell, Any]] = [
        ("run", inp.run_id, None),
        ("allocation run", inp.allocation_run_id, None),
        ("status", outcome.status, None),
    ]
    rows += [(label, meta[key], getattr(formats, f) if f else None) for key, label, f in _SUMMARY_FIELDS if key in meta]
    if outcome.error:
        rows.append(("error", outcome.error, None))
    rows += [("diagnosis" if i == 0 else "", reason, None) for i, reason in enumerate(meta.get("diagnosis", ()))]
    shown = {key for key, _, _ in _SUMMARY_FIELDS} | {"diagnosis", "rank_histogram"}
    # Anything else the solver reported is kept, as JSON, so nothing in the metadata is lost.
    rows += [(key, json.dumps(value), None) for key, value in meta.items() if key not in shown]
    for r, (label, value, fmt) in enumerate(rows, start=1):
        ws.write_string(r, 0, label, formats.label)
        write_cell(ws, r, 1, value if isinstance(value, Cell) else json.dumps(value), fmt)

    histogram: dict[str, int] = meta.get("rank_histogram") or {}
    if histogram:
        top = len(rows) + 2
        for c, name in enumerate(("rank", "workers", "share")):
            ws.write_string(top, c, name, formats.header)
        total = sum(histogram.values())
        for r, (rank, count) in enumerate(histogram.items(), start=top + 1):
            number = workbook.number(rank)
            write_cell(ws, r, 0, rank if number is None else number)
            ws.write_number(r, 1, count)
            ws.write_number(r, 2, count / total, formats.percent)


def write_result(
    path: Path,
    inp: AllocatorInput,
    outcome: SolveOutcome,
    *,
    names: dict[str, str] | None = None,
    tag_names: Mapping[str, str] | None = None,
) -> None:
    """Write a solved run: ``allocations`` (one row per worker), ``summary``, ``why`` and
    ``seat_values`` (a COMPLETED run's explanations), then the input.

    ``names`` gives worker mappings' display names, ``tag_names`` qualification tags' (for the
    ``why`` sentences; the workbook's own tags are already names); line names come from ``inp``. With the
    input sheets included, ``read_workbook`` replays the result workbook.
    """
    names = names or {}
    line_names = {ln.id: ln.name for ln in inp.lines}
    position = {w: i for i, w in enumerate(inp.worker_ids)}
    result: AllocatorResult = outcome.payload if outcome.payload else AllocatorResult(())
    placed: tuple[Allocation, ...] = result.allocations
    rows: list[list[Cell]] = [
        [a.worker, names.get(a.worker), a.job_line, line_names.get(a.job_line), a.worker_rank, a.dissatisfaction]
        for a in placed
    ]
    # allow_unassigned: a row for each worker left out, job line empty, at the penalty.
    rows += [
        [u["worker_mapping"], names.get(u["worker_mapping"]), None, "unassigned", None, u.get("penalty")]
        for u in outcome.metadata.get("unassigned", ())
    ]
    rows.sort(key=lambda row: position[str(row[0])])
    with new_workbook(path, inp) as wb:
        formats = Formats(wb)
        write_table(
            wb,
            formats,
            ALLOCATIONS,
            ALLOCATION_COLUMNS,
            rows,
            column_formats={5: formats.decimal},
        )
        _summary(wb, formats, inp, outcome)
        if outcome.status == "COMPLETED":
            _why(wb, formats, inp, result, sentences.Names(names, line_names, tag_names or {}))
        add_input_sheets(wb, inp, names)


def _why(wb: Any, formats: Formats, inp: AllocatorInput, result: AllocatorResult, said: sentences.Names) -> None:
    """``why`` (one row per explanation: per worker in the input's order, best-ranked line
    first, with the sentence ``receptord explain`` prints) and ``seat_values`` (one row per
    line, the most valuable extra seat first)."""
    names, line_names = said.workers, said.lines
    on_line = sentences.holders(result.allocations)
    position = {w: i for i, w in enumerate(inp.worker_ids)}

    def order(e: Explanation) -> tuple[int, float, str]:
        return position.get(e.worker, len(position)), e.worker_rank, e.job_line

    why: list[list[Cell]] = [
        [
            e.worker,
            names.get(e.worker),
            e.job_line,
            line_names.get(e.job_line),
            e.worker_rank,
            e.reason,
            e.delta,
            e.detail.get("exact") if isinstance(e.detail.get("exact"), bool) else None,
            sentences.sentence(e, said, on_line),
        ]
        for e in sorted(result.explanations, key=order)
    ]
    write_table(wb, formats, WHY, WHY_COLUMNS, why, column_formats={6: formats.decimal})

    def value_order(s: SeatValue) -> tuple[int, float, str]:
        return -s.one_more_seat_places, -s.one_more_seat, s.job_line

    seats: list[list[Cell]] = [
        [
            s.job_line,
            line_names.get(s.job_line),
            s.one_more_seat,
            s.one_fewer_seat,
            s.exact,
            s.one_more_seat_places,
            s.one_fewer_seat_leaves_out,
        ]
        for s in sorted(result.seat_values, key=value_order)
    ]
    write_table(
        wb, formats, SEAT_VALUES, SEAT_VALUE_COLUMNS, seats, column_formats={2: formats.decimal, 3: formats.decimal}
    )
