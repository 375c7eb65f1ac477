"""Offline allocator workbooks (SPEC §6): read an input workbook, export one, write results.

``read_workbook`` turns a workbook into the same ``AllocatorInput`` the SQL loader builds, so
a production run exported with ``write_input`` replays offline and solves the same way.
``write_result`` writes a solved run for people: one row per worker, a summary, and the input
sheets again so the result workbook itself can be replayed.

Workbook format
---------------

One sheet per table, named as in SPEC §3; row 1 names the columns (any order, any case);
each further row is one table row. Blank rows and columns without a header are ignored; a
header the sheet does not know is an error. Ids are any text (uuids or "dr-nguyen"); numbers
typed into id cells are read as their text ("7"), and surrounding spaces are trimmed.
Id lists are comma-separated ids in one cell (``a, b, c``; a PostgreSQL literal ``{a,b,c}``
is accepted too), so ids used in lists must not contain commas. An empty cell takes the
column's default. ``*`` marks required columns.

- ``allocator_py_runs`` (exactly one row): ``id*``, ``allocation_run_id*``, ``is_exclusive``
  (false), ``config`` (a JSON object; {}), ``included_job_lines`` and
  ``included_worker_mappings`` (id lists; empty = all). The queue columns (status, priority,
  attempts, …) may be present and are ignored.
- ``allocation_run_worker_mappings``: ``id*``, ``worker`` (the person; informational),
  ``name`` (display name, for results), ``allocation_run``.
- ``job_lines``: ``id*``, ``name`` (the id), ``sort_order`` (0), ``max_n_workers`` (1),
  ``must_have_workers`` (false), ``allocation_run``; ``planner_run`` is ignored.
- ``preference_worker_job_lines``: ``worker_mapping*``, ``job_line*``, ``rank*``.
- ``allocation_run_preferencers``: ``id*``, ``name`` (the id), ``max_job_lines``,
  ``max_workers`` (empty = no cap), ``allocation_run``; ``earlier_workers`` and
  ``earlier_lines`` (0; exclusive runs only): workers earlier rounds placed on the
  supervisor's lines that are not in the workbook, and how many of those lines they used (an
  export writes only the run's lines, so it carries the rest of the allocation run here).
- ``job_line_preferencers``: ``job_line*``, ``preferencer*``.
- ``preference_preferencer_workers``: ``preferencer*``, ``worker_mapping*``, ``rank*``.
- ``preferencer_weightings``: ``preferencer*``, ``worker_mapping*``, ``job_line`` (empty = a
  global weighting of the worker), ``weight*``; ``id`` is ignored. The table's own name,
  ``allocation_run_preferencer_weightings``, has 37 characters: Excel allows 31 in a sheet name.
- ``job_line_eligibility``: ``job_line*``, ``included_worker_mapping_ids``,
  ``excluded_worker_mapping_ids``, ``included_qualification_tag_ids``,
  ``excluded_qualification_tag_ids`` (id lists). Several rows for one line are united (the
  writer splits a list too long for one cell).
- ``worker_qualifications``: ``worker_mapping*``, ``tag*``. (The database keys tags by person;
  the workbook by worker mapping, as ``get_worker_qualifications`` returns them.)
- ``taken_capacity``: ``job_line*``, ``taken*``: seats on the line taken by earlier rounds;
  only in an exclusive run (SPEC §3). On a line the run does not include they count against
  the caps of the line's supervisors (SPEC §3: caps count earlier rounds on every line of the
  allocation run), with the ``earlier_*`` columns above.

Only the first three sheets are required. ``allocation_run`` columns, where given, must name
the run's ``allocation_run_id`` (a row of another allocation run is an error, as in the SQL
loader). Booleans are TRUE/FALSE cells or true/false/yes/no/1/0. Sheets named
``allocations``, ``summary``, ``why`` and ``seat_values`` (a result workbook) are ignored, and
so are other sheets left empty; any other sheet with content is an error, so a misspelt sheet
name is never silently skipped.

Semantics follow the SQL loader: the workbook holds the whole allocation run and the run row
selects from it. Rows naming workers or lines outside the included sets are left out; rows
naming ids the workbook does not have at all are errors. Worker ids inside eligibility lists
are not checked, as the database's uuid arrays are not: a listed worker outside the run
matches no one. In an exclusive round the workers already placed by earlier rounds are simply
not included (or not in the workbook); ``taken_capacity`` carries the seats they hold.

Rows are unique where the database's keys make them so: ids; a (ranker, ranked) pair of a
preference sheet; (line, preferencer); (preferencer, worker, line) of a weighting; (worker,
tag); a line of ``taken_capacity``. Errors raise ``BadInput`` naming the sheet, the row (as
Excel numbers it) and the value.

The shipped example, ``examples/allocator-example.xlsx``, is built by
``daemon.allocator.example`` (see there to regenerate it).

Excel's limits: numbers keep 16 significant digits (the writer's precision; Excel itself shows
15); a cell holds at most 32,767 characters (the writer raises rather than truncate); a sheet
holds 1,048,576 rows, so the writer continues a longer table on sheets named ``<sheet>~2``,
``<sheet>~3``, … (the name cut to fit), which the reader joins back in order.

Result workbooks (``write_result``): ``allocations`` (worker_mapping, worker_name, job_line,
job_line_name, worker_rank (normalised; blank if unranked), dissatisfaction; one row per
worker, in the input's worker order; with allow_unassigned, a worker left unassigned has an
empty job_line, job_line_name "unassigned" and the penalty as dissatisfaction), ``summary``
(status, objective, bound, gap, method, rank statistics, timings, error and diagnosis, any
other metadata as JSON, then a rank histogram table); for a COMPLETED run, ``why`` (issue 11:
one row per explanation, per worker best-ranked line first: worker_mapping, worker_name,
job_line, job_line_name, worker_rank, reason, delta (the rise of total dissatisfaction of a
trade-off), exact (false: delta is a lower bound) and sentence, the one ``receptord explain``
prints) and ``seat_values`` (job_line, job_line_name, one_more_seat, one_fewer_seat, exact,
one_more_seat_places, one_fewer_seat_leaves_out;
the most valuable extra seat first); then the input sheets.

Speed: reading (python-calamine, then columnar checks) takes about 4 µs a preference row, the
2.25 M rows of the L tier some 10 s on a busy 2-core machine (``python -m bench xlsx``);
writing (xlsxwriter) about 20 µs a row.
"""

from __future__ import annotations

import bisect
import json
import math
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xlsxwriter

from daemon import workbook
from daemon.allocator import sentences
from daemon.allocator.data import (
    AllocatorInput,
    Eligibility,
    JobLine,
    Preferencer,
    RankTable,
    Weighting,
)
from daemon.allocator.problem import Allocation, AllocatorResult, Explanation, SeatValue
from daemon.solving import BadInput, SolveOutcome
from daemon.workbook import MAX_CELL_CHARS, QUEUE_COLUMNS, Cell, Formats, SheetSpec, write_cell

# Excel's hard limits. MAX_DATA_ROWS is read at call time so tests can lower it.
MAX_DATA_ROWS = 1_048_575  # rows per sheet below the header row
_MAX_SHEET_NAME = 31

RUNS = "allocator_py_runs"
MAPPINGS = "allocation_run_worker_mappings"
LINES = "job_lines"
WORKER_PREFS = "preference_worker_job_lines"
PREFERENCERS = "allocation_run_preferencers"
LINE_PREFERENCERS = "job_line_preferencers"
PREFERENCER_PREFS = "preference_preferencer_workers"
WEIGHTINGS = "preferencer_weightings"
ELIGIBILITY = "job_line_eligibility"
QUALIFICATIONS = "worker_qualifications"
TAKEN = "taken_capacity"
ALLOCATIONS = "allocations"
SUMMARY = "summary"
WHY = "why"
SEAT_VALUES = "seat_values"
RESULT_SHEETS = (ALLOCATIONS, SUMMARY, WHY, SEAT_VALUES)

_ELIGIBILITY_LISTS = (
    "included_worker_mapping_ids",
    "excluded_worker_mapping_ids",
    "included_qualification_tag_ids",
    "excluded_qualification_tag_ids",
)


_SPECS: dict[str, SheetSpec] = {
    RUNS: SheetSpec(
        (
            "id",
            "allocation_run_id",
            "is_exclusive",
            "config",
            "included_job_lines",
            "included_worker_mappings",
        ),
        ("id", "allocation_run_id"),
        ignored=(
            "status",
            "priority",
            "created_at",
            *QUEUE_COLUMNS,
            "result_metadata",
        ),
        mandatory=True,
    ),
    MAPPINGS: SheetSpec(("id", "worker", "name", "allocation_run"), ("id",), key=("id",), mandatory=True),
    LINES: SheetSpec(
        ("id", "name", "sort_order", "max_n_workers", "must_have_workers", "allocation_run"),
        ("id",),
        ignored=("planner_run",),
        key=("id",),
        mandatory=True,
    ),
    # Preference keys are checked vectorised, on indices, in _rank_table.
    WORKER_PREFS: SheetSpec(("worker_mapping", "job_line", "rank"), ("worker_mapping", "job_line", "rank")),
    PREFERENCERS: SheetSpec(
        ("id", "name", "max_job_lines", "max_workers", "allocation_run", "earlier_workers", "earlier_lines"),
        ("id",),
        key=("id",),
    ),
    LINE_PREFERENCERS: SheetSpec(
        ("job_line", "preferencer"), ("job_line", "preferencer"), key=("job_line", "preferencer")
    ),
    PREFERENCER_PREFS: SheetSpec(("preferencer", "worker_mapping", "rank"), ("preferencer", "worker_mapping", "rank")),
    WEIGHTINGS: SheetSpec(
        ("preferencer", "worker_mapping", "job_line", "weight"),
        ("preferencer", "worker_mapping", "weight"),
        ignored=("id",),
        key=("preferencer", "worker_mapping", "job_line"),
    ),
    ELIGIBILITY: SheetSpec(("job_line", *_ELIGIBILITY_LISTS), ("job_line",)),
    QUALIFICATIONS: SheetSpec(("worker_mapping", "tag"), ("worker_mapping", "tag"), key=("worker_mapping", "tag")),
    TAKEN: SheetSpec(("job_line", "taken"), ("job_line", "taken"), key=("job_line",)),
}


# ---------------------------------------------------------------------------------------------
# Reading


def _part_name(sheet: str, part: int) -> str:
    """The name of the ``part``-th sheet (from 1) of a table too long for one sheet."""
    if part == 1:
        return sheet
    suffix = f"~{part}"
    return sheet[: _MAX_SHEET_NAME - len(suffix)] + suffix


_PART = re.compile(r"^(.*)~(\d+)$")


def _classify(name: str) -> tuple[str, int] | None:
    """(table sheet, part number) of a workbook sheet name, or None if it is not a table's."""
    lowered = name.strip().lower()
    if lowered in _SPECS:
        return lowered, 1
    match = _PART.match(lowered)
    if match:
        part = int(match.group(2))
        for sheet in _SPECS:
            if part > 1 and _part_name(sheet, part) == lowered:
                return sheet, part
    return None


class _Table:
    """One table's rows (across its continuation sheets) as columns, with Excel row numbers."""

    def __init__(self, sheet: str, columns: tuple[str, ...]) -> None:
        self.sheet = sheet
        self.columns = columns  # the columns present in the sheet's header
        self.data: list[tuple[Any, ...]] = []
        self.rows: list[int] = []  # Excel row number of each entry of ``data``
        self._starts: list[int] = []  # per sheet of the table: index in ``data`` of its first row
        self._names: list[str] = []  # per sheet of the table: its name

    def __len__(self) -> int:
        return len(self.rows)

    def add_part(self, sheet_name: str) -> None:
        self._starts.append(len(self.rows))
        self._names.append(sheet_name)

    def where(self, i: int) -> str:
        """``sheet 'x' row n`` for entry ``i``."""
        part = bisect.bisect_right(self._starts, i) - 1
        return f"sheet {self._names[part]!r} row {self.rows[i]}"

    def error(self, i: int, column: str, value: Any, why: str) -> BadInput:
        return BadInput(f"{self.where(i)}, column {column}: {why} (got {workbook.shown(value)})")

    def col(self, name: str) -> list[Any]:
        """The raw cells of a column; all None when the sheet lacks the (optional) column."""
        if name not in self.columns:
            return [None] * len(self)
        at = self.columns.index(name)
        return [row[at] for row in self.data]

    def ids(self, name: str) -> list[str]:
        """A required id column as text."""
        cells = self.col(name)
        # Fast path (a preference sheet's millions of id cells): all text, none blank. map()
        # and set() run at C speed where ``workbook.text`` per cell would cost seconds.
        if set(map(type, cells)) <= {str}:
            stripped = list(map(str.strip, cells))
            if "" not in stripped:
                return stripped
        out = []
        for i, value in enumerate(cells):
            text = workbook.text(value)
            if text is None:
                raise self.error(i, name, value, "a value is required")
            out.append(text)
        return out

    def texts(self, name: str) -> list[str | None]:
        return [workbook.text(v) for v in self.col(name)]

    def ints(self, name: str, default: int | None, *, minimum: int = 0) -> list[int | None]:
        out: list[int | None] = []
        for i, value in enumerate(self.col(name)):
            text = workbook.text(value)
            if text is None:
                if default is None and name in _SPECS[self.sheet].required:
                    raise self.error(i, name, value, "a value is required")
                out.append(default)
                continue
            number = workbook.number(value)
            if number is None or not number.is_integer():
                raise self.error(i, name, value, "must be a whole number")
            if number < minimum:
                raise self.error(i, name, value, f"must be at least {minimum}")
            out.append(int(number))
        return out

    def bools(self, name: str, default: bool) -> list[bool]:
        out = []
        for i, value in enumerate(self.col(name)):
            flag = workbook.boolean(value, default)
            if flag is None:
                raise self.error(i, name, value, "must be TRUE or FALSE")
            out.append(flag)
        return out

    def id_lists(self, name: str) -> list[list[str]]:
        return [list(workbook.list_items(workbook.text(value) or "")) for value in self.col(name)]

    def check_unique(self, key: Sequence[str]) -> None:
        seen: dict[tuple[str | None, ...], int] = {}
        required = [c in _SPECS[self.sheet].required for c in key]
        for i, values in enumerate(zip(*(self.texts(c) for c in key), strict=True)):
            if any(v is None and r for v, r in zip(values, required, strict=True)):
                continue  # a missing required value is reported as such, not as a duplicate
            first = seen.setdefault(values, i)
            if first != i:
                shown = ", ".join(f"{c}={v!r}" for c, v in zip(key, values, strict=True))
                raise BadInput(f"{self.where(i)}: duplicate row ({shown}); the same as {self.where(first)}")


def _header(
    sheet: workbook.Rows, sheet_name: str, table: str
) -> tuple[tuple[str, ...], list[int], Iterator[list[Any]]]:
    """Validate row 1; return the known columns present, their positions, and the data rows."""
    columns, positions, rows = workbook.header(sheet, sheet_name, _SPECS[table])
    return tuple(columns), positions, rows


def _read_tables(path: Path, only: frozenset[str] = frozenset(_SPECS)) -> dict[str, _Table]:
    """The workbook's tables (those in ``only``), after checking its sheet names and headers."""
    with workbook.open_workbook(path) as wb:
        parts: dict[str, list[tuple[int, str]]] = {}
        for name in wb.sheetnames:
            found = _classify(name)
            if found is not None:
                parts.setdefault(found[0], []).append((found[1], name))
            elif not _is_result_sheet(name) and workbook.has_content(wb.rows(name)):
                raise workbook.unknown_sheet(name, _SPECS, RESULT_SHEETS)
        workbook.check_mandatory(_SPECS, parts, wb.sheetnames)
        tables: dict[str, _Table] = {}
        for table, sheets in parts.items():
            if table not in only:
                continue
            for _, name in sorted(sheets):
                columns, positions, rows = _header(wb.rows(name), name, table)
                if table not in tables:
                    tables[table] = _Table(table, columns)
                elif tables[table].columns != columns:
                    raise BadInput(
                        f"sheet {name!r} row 1: a continuation sheet must have the columns of {table!r}"
                        f" in the same order: {', '.join(tables[table].columns)}"
                    )
                _append_rows(tables[table], name, positions, rows)
        return tables


def _is_result_sheet(name: str) -> bool:
    """A sheet ``write_result`` writes (or one of its continuation sheets): not read."""
    lowered = name.strip().lower()
    match = _PART.match(lowered)
    return lowered in RESULT_SHEETS or (
        match is not None and any(_part_name(s, int(match.group(2))) == lowered for s in RESULT_SHEETS)
    )


def _append_rows(table: _Table, sheet_name: str, positions: list[int], rows: Iterable[list[Any]]) -> None:
    """Add a sheet's data rows (its table's columns only), leaving out blank rows."""
    table.add_part(sheet_name)
    # itemgetter picks a row's cells at C speed; a blank row must be blank in its first
    # column, so only rows with a blank first cell are looked at whole.
    pick = operator.itemgetter(*positions)
    picked = map(pick, rows) if len(positions) > 1 else ((pick(row),) for row in rows)
    cells: list[tuple[Any, ...]] = list(picked)
    first = [c[0] for c in cells]
    blank: list[int] = []
    if not (set(map(type, first)) <= {str} and "" not in map(str.strip, first)):  # else none blank
        blank = [i for i, v in enumerate(first) if v is None or (type(v) is str and not v.strip())]
    if blank:
        drop = {i for i in blank if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells[i])}
        keep = [i for i in range(len(cells)) if i not in drop]
        table.data.extend(cells[i] for i in keep)
        table.rows.extend(i + 2 for i in keep)
    else:
        table.data.extend(cells)
        table.rows.extend(range(2, len(cells) + 2))


def _index(table: _Table, column: str, ids: list[str], known: Mapping[str, int], what: str) -> npt.NDArray[np.int64]:
    """Positions of ``ids`` in ``known``; an id ``known`` lacks is an error naming its row."""
    found = list(map(known.get, ids))  # C speed over millions of rows
    if None in found:
        i = found.index(None)
        raise table.error(i, column, ids[i], f"no {what} has this id")
    return np.array(found, dtype=np.int64)


def _ranks(table: _Table, column: str) -> npt.NDArray[np.float64]:
    cells = table.col(column)
    # Fast path for the usual all-numeric column; otherwise convert cell by cell to name the bad one.
    if set(map(type, cells)) <= {int, float}:
        ranks = np.array(cells, dtype=np.float64)
    else:
        values = [workbook.number(v) for v in cells]
        ranks = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(ranks) | (ranks <= 0))
    if bad.size:
        i = int(bad[0])
        raise table.error(i, column, cells[i], "a rank must be a positive number")
    return ranks


def _rank_table(
    table: _Table,
    who_column: str,
    what_column: str,
    who: tuple[Mapping[str, int], npt.NDArray[np.int64], str],
    what: tuple[Mapping[str, int], npt.NDArray[np.int64], str],
) -> RankTable:
    """Validate a preference sheet and build its RankTable on the run's indices.

    ``who``/``what`` are (index of every id in the workbook, workbook index → run index or -1,
    what the ids are). Rows naming ids outside the run are left out, as the SQL loader does.
    """
    if not len(table):
        return RankTable.empty()
    who_all = _index(table, who_column, table.ids(who_column), who[0], who[2])
    what_all = _index(table, what_column, table.ids(what_column), what[0], what[2])
    rank = _ranks(table, "rank")
    key = who_all * len(what[0]) + what_all
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    dup = np.flatnonzero(ordered[1:] == ordered[:-1])
    if dup.size:
        first, again = int(order[dup[0]]), int(order[dup[0] + 1])
        raise BadInput(
            f"{table.where(again)}: {who_column} {table.ids(who_column)[again]!r} ranks {what_column}"
            f" {table.ids(what_column)[again]!r} a second time; the first is {table.where(first)}"
        )
    w, x = who[1][who_all], what[1][what_all]
    keep = (w >= 0) & (x >= 0)
    return RankTable(w[keep].astype(np.int32), x[keep].astype(np.int32), rank[keep])


def _included(runs: _Table, column: str, known: Mapping[str, int], what: str) -> npt.NDArray[np.bool_]:
    """Which of the workbook's ids the run includes (all, when the list is empty)."""
    listed = runs.id_lists(column)[0]
    if not listed:
        return np.ones(len(known), dtype=bool)
    mask = np.zeros(len(known), dtype=bool)
    for x in listed:
        if x not in known:
            raise runs.error(0, column, x, f"no {what} has this id")
        mask[known[x]] = True
    return mask


def _remap(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Workbook index → run index (position among the included), or -1 if left out."""
    out = np.full(len(mask), -1, dtype=np.int64)
    out[mask] = np.arange(int(mask.sum()))
    return out


def _check_allocation_run(table: _Table, allocation_run: str) -> None:
    for i, value in enumerate(table.texts("allocation_run")):
        if value is not None and value != allocation_run:
            raise table.error(
                i, "allocation_run", value, f"the row belongs to another allocation run than {allocation_run!r}"
            )


def _run_row(tables: dict[str, _Table]) -> tuple[_Table, str, str, bool, dict[str, Any]]:
    runs = tables[RUNS]
    if len(runs) != 1:
        raise BadInput(f"sheet {RUNS!r} must have exactly one run row below the header, not {len(runs)}")
    raw = workbook.text(runs.col("config")[0])
    try:
        config = json.loads(raw) if raw is not None else {}
    except json.JSONDecodeError as exc:
        raise runs.error(0, "config", raw, f"not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise runs.error(0, "config", raw, 'config must be a JSON object such as {"max_seconds": 30}')
    return runs, runs.ids("id")[0], runs.ids("allocation_run_id")[0], runs.bools("is_exclusive", False)[0], config


def read_workbook(path: Path) -> AllocatorInput:
    """Read an allocator input workbook (format: module docstring); BadInput names bad rows."""
    tables = _read_tables(path)
    runs, run_id, allocation_run, exclusive, config = _run_row(tables)
    for name, table in tables.items():
        if _SPECS[name].key:
            table.check_unique(_SPECS[name].key)

    def get(name: str) -> _Table:
        """An optional sheet; a missing one reads as empty."""
        return tables[name] if name in tables else _Table(name, ())

    mappings, lines_t, prefs_t = tables[MAPPINGS], tables[LINES], get(PREFERENCERS)
    for table in (mappings, lines_t, prefs_t):
        _check_allocation_run(table, allocation_run)
    all_workers = mappings.ids("id")
    worker_at = {w: i for i, w in enumerate(all_workers)}
    in_workers = _included(runs, "included_worker_mappings", worker_at, "worker mapping")
    worker_run = _remap(in_workers)
    worker_ids = tuple(w for w, keep in zip(all_workers, in_workers, strict=True) if keep)
    run_workers = frozenset(worker_ids)

    all_lines = lines_t.ids("id")
    line_at = {x: i for i, x in enumerate(all_lines)}
    in_lines = _included(runs, "included_job_lines", line_at, "job line")
    line_run = _remap(in_lines)
    # ``cap or 0`` / ``order or 0`` only narrow the type: columns with a default never give None.
    lines = tuple(
        JobLine(lid, name or lid, cap or 0, must, order or 0)
        for lid, name, cap, must, order, keep in zip(
            all_lines,
            lines_t.texts("name"),
            lines_t.ints("max_n_workers", 1),
            lines_t.bools("must_have_workers", False),
            lines_t.ints("sort_order", 0, minimum=-(2**31)),  # a PostgreSQL integer
            in_lines,
            strict=True,
        )
        if keep
    )
    line_ids = tuple(ln.id for ln in lines)
    run_lines = frozenset(line_ids)

    preferencers = tuple(
        Preferencer(pid, name or pid, max_lines, max_workers)
        for pid, name, max_lines, max_workers in zip(
            prefs_t.ids("id"),
            prefs_t.texts("name"),
            prefs_t.ints("max_job_lines", None),
            prefs_t.ints("max_workers", None),
            strict=True,
        )
    )
    pref_at = {p.id: i for i, p in enumerate(preferencers)}
    earlier_workers = prefs_t.ints("earlier_workers", 0)
    earlier_lines = prefs_t.ints("earlier_lines", 0)
    everyone = np.arange(len(preferencers), dtype=np.int64)  # preferencers are never filtered

    lp = get(LINE_PREFERENCERS)
    lp_lines, lp_prefs = lp.ids("job_line"), lp.ids("preferencer")
    _index(lp, "job_line", lp_lines, line_at, "job line")
    _index(lp, "preferencer", lp_prefs, pref_at, "preferencer")

    taken_all = _taken(get(TAKEN), line_at, exclusive)
    taken = {line: n for line, n in taken_all.items() if line in run_lines}
    sup_workers = {p.id: int(n or 0) for p, n in zip(preferencers, earlier_workers, strict=True)}
    sup_lines = {p.id: int(n or 0) for p, n in zip(preferencers, earlier_lines, strict=True)}
    if (any(sup_workers.values()) or any(sup_lines.values())) and not exclusive:
        raise BadInput(
            f"sheet {PREFERENCERS!r}: earlier_workers/earlier_lines are set but the run is not exclusive;"
            f" set is_exclusive to TRUE in {RUNS!r} or clear them"
        )
    for lp_line, lp_pref in zip(lp_lines, lp_prefs, strict=True):
        if lp_line not in run_lines and taken_all.get(lp_line):  # a line of an earlier round only
            sup_workers[lp_pref] += taken_all[lp_line]
            sup_lines[lp_pref] += 1

    wt = get(WEIGHTINGS)
    wt_prefs, wt_workers, wt_lines = wt.ids("preferencer"), wt.ids("worker_mapping"), wt.texts("job_line")
    _index(wt, "preferencer", wt_prefs, pref_at, "preferencer")
    _index(wt, "worker_mapping", wt_workers, worker_at, "worker mapping")
    for i, line in enumerate(wt_lines):
        if line is not None and line not in line_at:
            raise wt.error(i, "job_line", line, "no job line has this id")
    weights = []
    for i, cell in enumerate(wt.col("weight")):
        weight = workbook.number(cell)
        if weight is None or not math.isfinite(weight):
            raise wt.error(i, "weight", cell, "a weight must be a number")
        weights.append(weight)

    return AllocatorInput(
        run_id=run_id,
        allocation_run_id=allocation_run,
        config=config,
        worker_ids=worker_ids,
        line_ids=line_ids,
        lines=lines,
        worker_tags=_worker_tags(get(QUALIFICATIONS), worker_at, run_workers),
        worker_prefs=_rank_table(
            get(WORKER_PREFS),
            "worker_mapping",
            "job_line",
            (worker_at, worker_run, "worker mapping"),
            (line_at, line_run, "job line"),
        ),
        preferencers=preferencers,
        line_preferencers=tuple(
            (line, pref) for line, pref in zip(lp_lines, lp_prefs, strict=True) if line in run_lines
        ),
        preferencer_prefs=_rank_table(
            get(PREFERENCER_PREFS),
            "preferencer",
            "worker_mapping",
            (pref_at, everyone, "preferencer"),
            (worker_at, worker_run, "worker mapping"),
        ),
        weightings=tuple(
            Weighting(pref, worker, line, weight)
            for pref, worker, line, weight in zip(wt_prefs, wt_workers, wt_lines, weights, strict=True)
            if worker in run_workers and (line is None or line in run_lines)
        ),
        eligibility=_eligibility(get(ELIGIBILITY), line_at, run_lines),
        taken_capacity=taken,
        preferencer_taken_workers={p: n for p, n in sup_workers.items() if n},
        preferencer_used_lines={p: n for p, n in sup_lines.items() if n},
    )


def _worker_tags(table: _Table, worker_at: Mapping[str, int], run_workers: frozenset[str]) -> dict[str, frozenset[str]]:
    workers, tags = table.ids("worker_mapping"), table.ids("tag")
    _index(table, "worker_mapping", workers, worker_at, "worker mapping")
    grouped: dict[str, set[str]] = {}
    for worker, tag in zip(workers, tags, strict=True):
        if worker in run_workers:
            grouped.setdefault(worker, set()).add(tag)
    return {w: frozenset(t) for w, t in grouped.items()}


def _eligibility(table: _Table, line_at: Mapping[str, int], run_lines: frozenset[str]) -> tuple[Eligibility, ...]:
    lines = table.ids("job_line")
    _index(table, "job_line", lines, line_at, "job line")
    merged: dict[str, list[set[str]]] = {}  # rows of one line united, in first-seen order
    for line, *lists in zip(lines, *(table.id_lists(c) for c in _ELIGIBILITY_LISTS), strict=True):
        if line in run_lines:
            for into, ids in zip(merged.setdefault(line, [set(), set(), set(), set()]), lists, strict=True):
                into.update(ids)
    return tuple(Eligibility(line, *(frozenset(s) for s in sets)) for line, sets in merged.items())


def _taken(table: _Table, line_at: Mapping[str, int], exclusive: bool) -> dict[str, int]:
    lines = table.ids("job_line")
    _index(table, "job_line", lines, line_at, "job line")
    taken = table.ints("taken", None)
    if len(table) and not exclusive:
        raise BadInput(
            f"{table.where(0)}: sheet {TAKEN!r} has rows but the run is not exclusive; set"
            f" is_exclusive to TRUE in {RUNS!r} or delete the rows"
        )
    # Lines with seats actually taken (the caller splits them: in this run or not).
    return {line: n for line, n in zip(lines, taken, strict=True) if n}


def read_names(path: Path) -> dict[str, str]:
    """Display names of worker mappings (the ``name`` column), for ``write_result``."""
    mappings = _read_tables(path, frozenset({MAPPINGS}))[MAPPINGS]
    return {w: n for w, n in zip(mappings.ids("id"), mappings.texts("name"), strict=True) if n is not None}


# ---------------------------------------------------------------------------------------------
# Writing


def _write_table(
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
        ws = wb.add_worksheet(_part_name(sheet, part))
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
        _write_table(wb, formats, sheet, _SPECS[sheet].columns, rows)

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
    pref_columns = _SPECS[PREFERENCERS].columns
    _write_table(
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


def _workbook(path: Path, inp: AllocatorInput) -> Any:
    rows = len(inp.worker_prefs) + len(inp.preferencer_prefs)
    return xlsxwriter.Workbook(str(path), {"constant_memory": rows > STREAM_ABOVE_ROWS})


def write_input(path: Path, inp: AllocatorInput, *, names: dict[str, str] | None = None) -> None:
    """Export ``inp`` as an input workbook that ``read_workbook`` reads back as ``inp``.

    ``names`` gives worker mappings' display names (the ``name`` column).
    """
    with _workbook(path, inp) as wb:
        add_input_sheets(wb, inp, names)


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
    with _workbook(path, inp) as wb:
        formats = Formats(wb)
        _write_table(
            wb,
            formats,
            ALLOCATIONS,
            ("worker_mapping", "worker_name", "job_line", "job_line_name", "worker_rank", "dissatisfaction"),
            rows,
            column_formats={5: formats.decimal},
        )
        _summary(wb, formats, inp, outcome)
        if outcome.status == "COMPLETED":
            _why(wb, formats, inp, result, sentences.Names(names, line_names, tag_names or {}))
        add_input_sheets(wb, inp, names)


WHY_COLUMNS = (
    "worker_mapping", "worker_name", "job_line", "job_line_name", "worker_rank", "reason", "delta", "exact", "sentence",
)  # fmt: skip
SEAT_VALUE_COLUMNS = (
    "job_line", "job_line_name", "one_more_seat", "one_fewer_seat", "exact",
    "one_more_seat_places", "one_fewer_seat_leaves_out",
)  # fmt: skip


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
    _write_table(wb, formats, WHY, WHY_COLUMNS, why, column_formats={6: formats.decimal})

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
    _write_table(
        wb, formats, SEAT_VALUES, SEAT_VALUE_COLUMNS, seats, column_formats={2: formats.decimal, 3: formats.decimal}
    )
