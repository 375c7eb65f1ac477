"""Read an allocator input workbook into the ``AllocatorInput`` the SQL loader builds
(``read_workbook``), so an exported production run replays offline and solves the same way.

The format, for people: docs/allocator-workbook.md. Cells are read by ``daemon.workbook.Table``;
what is checked here is the allocator's: ids naming rows that exist, unique preference pairs,
the run's included sets and earlier rounds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon import workbook
from daemon.allocator.data import AllocatorInput, Eligibility, JobLine, Preferencer, RankTable, Weighting
from daemon.allocator.xlsx_layout import (
    ELIGIBILITY,
    ELIGIBILITY_LISTS,
    LINE_PREFERENCERS,
    LINES,
    MAPPINGS,
    PREFERENCER_PREFS,
    PREFERENCERS,
    QUALIFICATIONS,
    RESULT_SHEETS,
    RUNS,
    SPECS,
    TAKEN,
    WEIGHTINGS,
    WORKER_PREFS,
    part_name,
)
from daemon.solving import BadInput
from daemon.workbook import Table

_PART = re.compile(r"^(.*)~(\d+)$")


def _classify(name: str) -> tuple[str, int] | None:
    """(table sheet, part number) of a workbook sheet name, or None if it is not a table's."""
    lowered = name.strip().lower()
    if lowered in SPECS:
        return lowered, 1
    match = _PART.match(lowered)
    if match:
        part = int(match.group(2))
        for sheet in SPECS:
            if part > 1 and part_name(sheet, part) == lowered:
                return sheet, part
    return None


def _read_tables(path: Path, only: frozenset[str] = frozenset(SPECS)) -> dict[str, Table]:
    """The workbook's tables (those in ``only``), after checking its sheet names and headers."""
    with workbook.open_workbook(path) as wb:
        parts: dict[str, list[tuple[int, str]]] = {}
        for name in wb.sheetnames:
            found = _classify(name)
            if found is not None:
                parts.setdefault(found[0], []).append((found[1], name))
            elif not _is_result_sheet(name) and workbook.has_content(wb.rows(name)):
                raise workbook.unknown_sheet(name, SPECS, RESULT_SHEETS)
        workbook.check_mandatory(SPECS, parts, wb.sheetnames)
        tables: dict[str, Table] = {}
        for table, sheets in parts.items():
            if table not in only:
                continue
            for _, name in sorted(sheets):
                header, positions, rows = workbook.header(wb.rows(name), name, SPECS[table])
                columns = tuple(header)
                if table not in tables:
                    tables[table] = Table(SPECS[table], columns, continued=True)
                elif tables[table].columns != columns:
                    raise BadInput(
                        f"sheet {name!r} row 1: a continuation sheet must have the columns of {table!r}"
                        f" in the same order: {', '.join(tables[table].columns)}"
                    )
                tables[table].append(name, positions, rows)
        return tables


def _is_result_sheet(name: str) -> bool:
    """A sheet ``write_result`` writes (or one of its continuation sheets): not read."""
    lowered = name.strip().lower()
    match = _PART.match(lowered)
    return lowered in RESULT_SHEETS or (
        match is not None and any(part_name(s, int(match.group(2))) == lowered for s in RESULT_SHEETS)
    )


def _index(table: Table, column: str, ids: list[str], known: Mapping[str, int], what: str) -> npt.NDArray[np.int64]:
    """Positions of ``ids`` in ``known``; an id ``known`` lacks is an error naming its row."""
    found = list(map(known.get, ids))  # C speed over millions of rows
    if None in found:
        i = found.index(None)
        raise table.error(i, column, ids[i], f"no {what} has this id")
    return np.array(found, dtype=np.int64)


def _ranks(table: Table, column: str) -> npt.NDArray[np.float64]:
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
    table: Table,
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


def _included(runs: Table, column: str, known: Mapping[str, int], what: str) -> npt.NDArray[np.bool_]:
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


def _check_allocation_run(table: Table, allocation_run: str) -> None:
    for i, value in enumerate(table.texts("allocation_run")):
        if value is not None and value != allocation_run:
            raise table.error(
                i, "allocation_run", value, f"the row belongs to another allocation run than {allocation_run!r}"
            )


def _run_row(tables: dict[str, Table]) -> tuple[Table, str, str, bool, dict[str, Any]]:
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
    """Read an allocator input workbook (format: docs/allocator-workbook.md); BadInput names bad rows."""
    tables = _read_tables(path)
    runs, run_id, allocation_run, exclusive, config = _run_row(tables)
    for name, table in tables.items():
        if SPECS[name].key:
            table.check_unique(SPECS[name].key)

    def get(name: str) -> Table:
        """An optional sheet; a missing one reads as empty."""
        return tables[name] if name in tables else Table(SPECS[name], ())

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


def _worker_tags(table: Table, worker_at: Mapping[str, int], run_workers: frozenset[str]) -> dict[str, frozenset[str]]:
    workers, tags = table.ids("worker_mapping"), table.ids("tag")
    _index(table, "worker_mapping", workers, worker_at, "worker mapping")
    grouped: dict[str, set[str]] = {}
    for worker, tag in zip(workers, tags, strict=True):
        if worker in run_workers:
            grouped.setdefault(worker, set()).add(tag)
    return {w: frozenset(t) for w, t in grouped.items()}


def _eligibility(table: Table, line_at: Mapping[str, int], run_lines: frozenset[str]) -> tuple[Eligibility, ...]:
    lines = table.ids("job_line")
    _index(table, "job_line", lines, line_at, "job line")
    merged: dict[str, list[set[str]]] = {}  # rows of one line united, in first-seen order
    for line, *lists in zip(lines, *(table.id_lists(c) for c in ELIGIBILITY_LISTS), strict=True):
        if line in run_lines:
            for into, ids in zip(merged.setdefault(line, [set(), set(), set(), set()]), lists, strict=True):
                into.update(ids)
    return tuple(Eligibility(line, *(frozenset(s) for s in sets)) for line, sets in merged.items())


def _taken(table: Table, line_at: Mapping[str, int], exclusive: bool) -> dict[str, int]:
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
