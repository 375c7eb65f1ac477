"""Offline planner workbooks (SPEC §6): read an input workbook, export one, write results.

``read_workbook`` turns a workbook into the same ``PlannerInput`` the SQL loader builds, so a
production run exported with ``write_input`` replays offline and solves the same way.
``write_result`` draws the generated job lines for people (a year planner, one line per row
pair) and explains the run (diagnostics), then repeats the input sheets so that the result
workbook itself can be replayed. Conventions follow ``daemon.allocator.xlsx``.

Input workbook format
---------------------

One sheet per table, named as in SPEC §3; row 1 names the columns (any order, any case); each
further row is one table row. Blank rows and columns without a header are ignored; a header the
sheet does not know is an error, and so is a required column (``*``) that is missing. An empty
cell takes the column's default (the database's). Ids are any text ("icu" or a uuid); numbers
typed into text cells are read as their text ("7"), and surrounding spaces are trimmed.

List cells hold comma-separated items (``A, C``; a PostgreSQL literal ``{A,C}`` is accepted
too), so list items cannot contain commas. Where an empty cell means something other than an
empty list, ``{}`` writes the empty list: ``cohorts`` empty = open to any cohort, ``{}`` = open
to none; ``capacity_by_term`` empty = ``capacity`` in every term.

- ``allocation_planner_runs`` (exactly one row): ``id*``, ``allocation_run*``,
  ``n_job_lines*``, ``constraints`` (names; UNRESTRICTED), ``state`` (UNRESTRICTED), ``cohort``
  (ANY), ``term_structure`` (weeks per term; 10, 10, 10, 10, 12), ``leave_weeks`` (5),
  ``max_seconds`` (60), ``allow_partial_filling`` (TRUE). Two columns the database does not
  have, so that every ``PlannerInput`` round-trips: ``rng_seed`` (1234) and ``num_workers``
  (CP-SAT workers, 2; normally the daemon's setting); the writer leaves them empty at their
  defaults. The queue columns (status, priority, createdat, attempts, …) may be present and
  are ignored.
- ``positions``: ``id*``, ``name*``, ``parent_specialty*`` (a blank cell is inferred from the
  name, ``daemon.planner.infer``; one the keyword table cannot settle is an error), ``subspecialty``,
  ``experience_categories`` (letters A-D, comma-separated), ``is_service_term``,
  ``is_nights``, ``is_rural``, ``is_non_clinical`` (FALSE), ``is_team_based`` (TRUE),
  ``capacity`` (1), ``capacity_by_term`` (one whole number per term), ``cohorts``,
  ``excludable`` (FALSE), ``tags``, ``allocation_run`` (if given, the run's),
  ``six_month_approved`` (FALSE; VIC_PGY2's 6-month terms, the last column so that workbooks
  written without it still read).
- ``specialty_affinity`` (optional): ``specialty_a*``, ``specialty_b*``, ``weight*``.
- ``pathways`` (optional; ``allocation_planner_runs.pathways``, one row per pathway, reserved
  in row order): ``name*``, ``lines*``, ``specialties*`` (comma-separated), ``mode*`` (exact
  or soft), ``min_terms`` (1), ``distinct`` (FALSE).

Booleans are TRUE/FALSE cells or true/false/yes/no/1/0. The reader checks what a cell can say
(whole numbers, booleans, category letters, unique position ids and affinity pairs, a position
of another allocation run) and raises ``BadInput`` naming the sheet, the row (as Excel numbers
it) and the value. The model's own rules (term structure adding up to 52 weeks, capacities not
negative, constraint names, leave fitting, affinity weights in -100..100) are checked where
they are for a database run, by ``build_problem``, so both loaders give the same messages.

Sheets named ``lines``, ``legend``, ``diagnostics`` and ``rotations`` (a result workbook) are
ignored, and so are other sheets left empty; any other sheet with content is an error, so a
misspelt sheet name is never silently skipped.

Result workbook format (``write_result``)
-----------------------------------------

- ``lines``: the year planner. Row 1 names the terms ("Term 1 (wk 1-10)", merged over their
  weeks), row 2 the weeks (``W1`` … ``W52``; column A "job line"). Each job line then takes
  two rows, its name merged over both in column A:

  * the upper row holds one merged block per CLINICAL rotation, over the weeks of its term,
    labelled with the position's name and filled with its parent specialty's colour;
  * the lower, thinner row holds each LEAVE block, over its weeks, labelled "Leave", grey
    and hatched.

  Why two rows: a line keeps its position for the whole term and is away for the leave weeks
  inside it (SPEC §3 rotations; ``daemon.planner.leave``). Cutting the clinical block around
  the leave would leave one- or two-week slivers too narrow for a name and break the term
  columns that make the sheet readable down the page (who is where in term 3); the row pair
  keeps every term aligned and every name whole, and leave still sits right under the term it
  falls in. A rotation one week long is a single cell (Excel cannot merge one cell).
- ``legend``: each parent specialty's colour and its positions, and the leave pattern.
  Colours are stable: common specialties (Medicine, Surgery, Emergency Medicine, …) always get
  the same colour, others take the remaining palette colours in alphabetical order.
- ``diagnostics``: status, lines built against lines requested and why fewer, whether the
  lines and required seats are proven the best possible, error and diagnosis (conflicting
  rules, data at fault, measured fixes) when not COMPLETED or short, objective, bound, gap and
  timings, dropped excludable and
  closed positions, the specialties inferred from position names (and the names no keyword
  matched or whose keywords disagree), the rules applied and what they mean, the soft goals' scores, the CP-SAT
  phases, unfilled seats per position and term (a table), violations if the checker found any,
  and any other metadata as JSON so nothing reported is lost.
- ``rotations``: the rotations as a table (SPEC §3 ``rotations``, with the line's and the
  position's names, and the line's pathway), for filtering and for programs. A line reserved
  for a pathway also shows its name under the line's on the ``lines`` sheet.
- then the input sheets, as ``write_input`` writes them.

The shipped example, ``examples/planner-example.xlsx``, is built by ``daemon.planner.example``
(see there to regenerate it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from daemon import workbook
from daemon.planner.data import Inference, Pathway, PlannerInput, Position
from daemon.planner.infer import TABLE, infer, keyword_table
from daemon.planner.result import GeneratedLine
from daemon.planner.rules import meaning, resolve
from daemon.planner.rules.kinds import specialty_key
from daemon.solving import BadInput, SolveOutcome
from daemon.workbook import QUEUE_COLUMNS, Cell, Formats, SheetSpec, write_cell

RUNS = "allocation_planner_runs"
POSITIONS = "positions"
AFFINITY = "specialty_affinity"
PATHWAYS = "pathways"
LINES = "lines"
LEGEND = "legend"
DIAGNOSTICS = "diagnostics"
ROTATIONS = "rotations"
RESULT_SHEETS = (LINES, LEGEND, DIAGNOSTICS, ROTATIONS)

CATEGORIES = ("A", "B", "C", "D")
_DEFAULTS = PlannerInput(run_id="", allocation_run_id="", n_job_lines=0, positions=())


_SPECS: dict[str, SheetSpec] = {
    RUNS: SheetSpec(
        (
            "id",
            "allocation_run",
            "n_job_lines",
            "constraints",
            "state",
            "cohort",
            "term_structure",
            "leave_weeks",
            "max_seconds",
            "allow_partial_filling",
            "rng_seed",
            "num_workers",
        ),
        ("id", "allocation_run", "n_job_lines"),
        ignored=(
            "createdat",
            "updatedat",
            "status",
            "priority",
            *QUEUE_COLUMNS,
            "progress",
            "result_metadata",
        ),
        mandatory=True,
    ),
    POSITIONS: SheetSpec(
        (
            "id",
            "name",
            "parent_specialty",
            "subspecialty",
            "experience_categories",
            "is_service_term",
            "is_nights",
            "is_rural",
            "is_non_clinical",
            "is_team_based",
            "capacity",
            "capacity_by_term",
            "cohorts",
            "excludable",
            "tags",
            "allocation_run",
            # Last, added with migration 0013: workbooks written before it still read (FALSE).
            "six_month_approved",
        ),
        ("id", "name", "parent_specialty"),
        mandatory=True,
    ),
    AFFINITY: SheetSpec(("specialty_a", "specialty_b", "weight"), ("specialty_a", "specialty_b", "weight")),
    PATHWAYS: SheetSpec(
        ("name", "lines", "specialties", "mode", "min_terms", "distinct"), ("name", "lines", "specialties", "mode")
    ),
}


# ---------------------------------------------------------------------------------------------
# Reading


def _whole(value: Any) -> int | None:
    number = workbook.number(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


@dataclass(frozen=True)
class _Row:
    """One table row: its cells by column name, and where it is for error messages."""

    sheet: str
    number: int  # as Excel numbers it
    cells: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"sheet {self.sheet!r} row {self.number}"

    def error(self, column: str, why: str) -> BadInput:
        return BadInput(f"{self.where}, column {column}: {why} (got {workbook.shown(self.cells.get(column))})")

    def text(self, column: str) -> str | None:
        return workbook.text(self.cells.get(column))

    def required(self, column: str) -> str:
        text = self.text(column)
        if text is None:
            raise self.error(column, "a value is required")
        return text

    def integer(self, column: str, default: int | None = None) -> int:
        value = self.cells.get(column)
        if workbook.text(value) is None:
            if default is None:
                raise self.error(column, "a whole number is required")
            return default
        number = _whole(value)
        if number is None:
            raise self.error(column, "must be a whole number")
        return number

    def real(self, column: str, default: float) -> float:
        value = self.cells.get(column)
        if workbook.text(value) is None:
            return default
        number = workbook.number(value)
        if number is None or not math.isfinite(number):
            raise self.error(column, "must be a number")
        return number

    def boolean(self, column: str, default: bool) -> bool:
        flag = workbook.boolean(self.cells.get(column), default)
        if flag is None:
            raise self.error(column, "must be TRUE or FALSE")
        return flag

    def items(self, column: str) -> tuple[str, ...] | None:
        """A list cell's items; None for an empty cell, () for ``{}``."""
        text = self.text(column)
        return None if text is None else workbook.list_items(text)

    def whole_numbers(self, column: str) -> tuple[int, ...] | None:
        items = self.items(column)
        if items is None:
            return None
        out = []
        for item in items:
            number = _whole(item)
            if number is None:
                raise self.error(
                    column, f"{item!r} is not a whole number; give one whole number per term, e.g. 1, 1, 0"
                )
            out.append(number)
        return tuple(out)

    def categories(self, column: str) -> tuple[str, ...]:
        items = self.items(column) or ()
        bad = [c for c in items if c.upper() not in CATEGORIES]
        if bad:
            raise self.error(
                column, f"unknown experience category {bad[0]!r}; the categories are A, B, C and D, comma-separated"
            )
        return tuple(c.upper() for c in items)


def _header(sheet: workbook.Rows, sheet_name: str, table: str) -> tuple[list[tuple[str, int]], Iterator[list[Any]]]:
    """Validate row 1; return (column, position) of the known columns and the data rows."""
    columns, positions, rows = workbook.header(sheet, sheet_name, _SPECS[table])
    return list(zip(columns, positions, strict=True)), rows


def _rows(sheet: workbook.Rows, sheet_name: str, table: str) -> list[_Row]:
    columns, rows = _header(sheet, sheet_name, table)
    out = []
    for number, row in enumerate(rows, start=2):
        cells = {name: row[at] for name, at in columns}  # calamine's rows are all full width
        if all(workbook.text(v) is None for v in cells.values()):
            continue
        out.append(_Row(sheet_name, number, cells))
    return out


def _read_tables(path: Path) -> dict[str, list[_Row]]:
    with workbook.open_workbook(path, (*workbook.UNREADABLE, OSError)) as wb:
        tables: dict[str, list[_Row]] = {}
        for name in wb.sheetnames:
            table = name.strip().lower()
            if table in _SPECS:
                if table in tables:
                    raise BadInput(f"the workbook has two sheets named {table!r}")
                tables[table] = _rows(wb.rows(name), name, table)
            elif table not in RESULT_SHEETS and workbook.has_content(wb.rows(name)):
                raise workbook.unknown_sheet(name, _SPECS, RESULT_SHEETS)
        workbook.check_mandatory(_SPECS, tables, wb.sheetnames)
        return tables


def _unique(rows: Sequence[_Row], key: Sequence[str], what: str) -> None:
    seen: dict[tuple[str, ...], _Row] = {}
    for row in rows:
        values = tuple(row.required(c) for c in key)
        first = seen.setdefault(values, row)
        if first is not row:
            shown = ", ".join(f"{c}={v!r}" for c, v in zip(key, values, strict=True))
            raise BadInput(f"{row.where}: duplicate {what} ({shown}); the same as row {first.number}")


def _position(row: _Row, allocation_run: str) -> Position:
    other = row.text("allocation_run")
    if other is not None and other != allocation_run:
        raise row.error("allocation_run", f"the position belongs to another allocation run than {allocation_run!r}")
    return Position(
        id=row.required("id"),
        name=row.required("name"),
        parent_specialty=row.text("parent_specialty") or "",
        subspecialty=row.text("subspecialty"),
        experience_categories=row.categories("experience_categories"),
        is_service_term=row.boolean("is_service_term", False),
        is_nights=row.boolean("is_nights", False),
        is_rural=row.boolean("is_rural", False),
        is_non_clinical=row.boolean("is_non_clinical", False),
        is_team_based=row.boolean("is_team_based", True),
        capacity=row.integer("capacity", 1),
        capacity_by_term=row.whole_numbers("capacity_by_term"),
        cohorts=row.items("cohorts"),
        excludable=row.boolean("excludable", False),
        tags=row.items("tags") or (),
        six_month_approved=row.boolean("six_month_approved", False),
    )


def _pathway(row: _Row) -> Pathway:
    """Types only; what the values mean is checked by ``build_problem``, as for a database run."""
    return Pathway(
        name=row.required("name"),
        lines=row.integer("lines"),
        specialties=row.items("specialties") or (),
        mode=row.required("mode"),
        min_terms=row.integer("min_terms", 1),
        distinct=row.boolean("distinct", False),
    )


def read_workbook(path: Path) -> PlannerInput:
    """Read a planner input workbook (format: module docstring); BadInput names bad cells."""
    tables = _read_tables(path)
    runs = tables[RUNS]
    if len(runs) != 1:
        raise BadInput(f"sheet {RUNS!r} must have exactly one run row below the header, not {len(runs)}")
    run = runs[0]
    allocation_run = run.required("allocation_run")
    _unique(tables[POSITIONS], ("id",), "position id")
    affinity_rows = tables.get(AFFINITY, [])
    _unique(affinity_rows, ("specialty_a", "specialty_b"), "specialty pair")
    constraints = run.items("constraints")
    term_structure = run.whole_numbers("term_structure")
    positions, inference = _inferred(tables[POSITIONS], allocation_run)
    return PlannerInput(
        run_id=run.required("id"),
        allocation_run_id=allocation_run,
        n_job_lines=run.integer("n_job_lines"),
        positions=positions,
        constraints=_DEFAULTS.constraints if constraints is None else constraints,
        state=run.text("state") or _DEFAULTS.state,
        cohort=run.text("cohort") or _DEFAULTS.cohort,
        term_structure=_DEFAULTS.term_structure if term_structure is None else term_structure,
        leave_weeks=run.integer("leave_weeks", _DEFAULTS.leave_weeks),
        max_seconds=run.real("max_seconds", _DEFAULTS.max_seconds),
        allow_partial_filling=run.boolean("allow_partial_filling", _DEFAULTS.allow_partial_filling),
        num_workers=None if run.text("num_workers") is None else run.integer("num_workers"),
        rng_seed=run.integer("rng_seed", _DEFAULTS.rng_seed),
        specialty_affinity=tuple(
            (row.required("specialty_a"), row.required("specialty_b"), row.integer("weight")) for row in affinity_rows
        ),
        inference=inference,
        pathways=tuple(_pathway(row) for row in tables.get(PATHWAYS, [])),
    )


def _inferred(rows: Sequence[_Row], allocation_run: str) -> tuple[tuple[Position, ...], Inference]:
    """The positions, blank ``parent_specialty`` cells inferred from the names (``infer``).
    A cell the keyword table cannot settle stays bad input, as a blank required cell was
    before inference: the error says which keywords matched, if any."""
    positions, inference = infer(tuple(_position(row, allocation_run) for row in rows), keyword_table())
    row_of = {row.text("id"): row for row in rows}
    for p in inference.unmatched:
        raise row_of[p.id].error(
            "parent_specialty", f"a value is required: no keyword of {TABLE.name} is in the name {p.name!r}"
        )
    for p, tied in inference.ambiguous:
        raise row_of[p.id].error(
            "parent_specialty",
            f"a value is required: the name {p.name!r} matches keywords of {TABLE.name} that disagree: "
            + ", ".join(tied),
        )
    return positions, inference


# ---------------------------------------------------------------------------------------------
# Writing


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


def _write_table(wb: Any, formats: Formats, sheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
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


def add_input_sheets(wb: Any, inp: PlannerInput) -> None:
    """Add the input sheets of ``inp`` to an open xlsxwriter workbook (read back as ``inp``)."""
    _input_sheets(wb, Formats(wb), inp)


def _input_sheets(wb: Any, formats: Formats, inp: PlannerInput) -> None:
    d = _DEFAULTS
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
    _write_table(wb, formats, RUNS, _SPECS[RUNS].columns, [run])
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
    _write_table(wb, formats, POSITIONS, _SPECS[POSITIONS].columns, positions)
    _write_table(wb, formats, AFFINITY, _SPECS[AFFINITY].columns, [list(a) for a in inp.specialty_affinity])
    pathways: list[list[Cell]] = [
        [p.name, p.lines, _list_cell(p.specialties, empty_is_blank=True), p.mode, p.min_terms, p.distinct]
        for p in inp.pathways
    ]
    _write_table(wb, formats, PATHWAYS, _SPECS[PATHWAYS].columns, pathways)


def write_input(path: Path, inp: PlannerInput) -> None:
    """Export ``inp`` as an input workbook that ``read_workbook`` reads back as ``inp``."""
    with xlsxwriter.Workbook(str(path)) as wb:
        add_input_sheets(wb, inp)


# --- colours ---------------------------------------------------------------------------------

# Pastels dark text reads on; none is grey, which is leave's.
PALETTE = (
    "#9BC2E6",  # blue
    "#A9D08E",  # green
    "#F4B084",  # orange
    "#C9A0DC",  # purple
    "#FFD966",  # yellow
    "#F8A5C2",  # pink
    "#8ED1C6",  # teal
    "#B4A7E8",  # periwinkle
    "#D4E09B",  # lime
    "#E2C29F",  # tan
    "#F28B82",  # coral
    "#AECBFA",  # sky
    "#CCE5A5",  # mint
    "#FDCFE8",  # blush
    "#E6C9A8",  # sand
    "#A7D7E8",  # aqua
)
# The same colour in every workbook for the specialties most hospitals have.
KNOWN_COLOURS = {
    "medicine": 0,
    "surgery": 1,
    "emergency medicine": 2,
    "psychiatry": 3,
    "mental health": 3,
    "paediatrics": 4,
    "obstetrics and gynaecology": 5,
    "obstetrics": 5,
    "critical care": 6,
    "intensive care": 6,
    "anaesthetics": 7,
    "general practice": 8,
    "rehabilitation": 9,
    "relief": 10,
}
LEAVE_FILL = "#D9D9D9"
LEAVE_HATCH = "#808080"


def specialty_colours(positions: Sequence[Position]) -> dict[str, str]:
    """Specialty key -> colour: known specialties fixed, the rest in alphabetical order."""
    keys = sorted({specialty_key(p.parent_specialty) for p in positions})
    out = {k: PALETTE[KNOWN_COLOURS[k]] for k in keys if k in KNOWN_COLOURS}
    free = [c for c in PALETTE if c not in out.values()] or list(PALETTE)
    for n, key in enumerate(k for k in keys if k not in out):
        out[key] = free[n % len(free)]
    return out


# --- lines -----------------------------------------------------------------------------------

HEADER_ROWS = 2  # term names, week numbers
FIRST_WEEK_COL = 1  # column B is week 1
CLINICAL_ROW_HEIGHT = 27  # two lines of 9-point text: long position names wrap
LEAVE_ROW_HEIGHT = 13
WEEK_COL_WIDTH = 3.6


def line_rows(k: int) -> tuple[int, int]:
    """(clinical row, leave row), 0-based, of the ``k``-th line (from 0) on the ``lines`` sheet."""
    top = HEADER_ROWS + 2 * k
    return top, top + 1


def week_column(week: int) -> int:
    """The 0-based column of a week of the year (from 1) on the ``lines`` sheet."""
    return FIRST_WEEK_COL + week - 1


def _block(ws: Any, row: int, first_col: int, last_col: int, label: str, *, fmt: Any) -> None:
    # merge_range writes with the generic write(); the typed write over it keeps a name text.
    if last_col > first_col:
        ws.merge_range(row, first_col, row, last_col, "", fmt)
    ws.write_string(row, first_col, label, fmt)


class _LineFormats:
    def __init__(self, wb: Any, colours: Mapping[str, str]) -> None:
        base = {"font_size": 9, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
        self.by_colour = {c: wb.add_format({**base, "bg_color": c}) for c in sorted(set(colours.values()))}
        self.unknown = wb.add_format({**base, "bg_color": "#FFFFFF", "font_color": "#C00000"})
        self.leave = wb.add_format(
            {**base, "bold": True, "pattern": 14, "fg_color": LEAVE_HATCH, "bg_color": LEAVE_FILL}  # thin diagonal
        )
        self.term = wb.add_format(
            {
                "bold": True,
                "align": "center",
                "valign": "vcenter",
                "border": 1,
                "bg_color": "#1F4E78",
                "font_color": "#FFFFFF",
            }
        )
        self.week = wb.add_format({"font_size": 8, "align": "center", "border": 1, "bg_color": "#DDEBF7"})
        # Wrapped: a reserved line shows its pathway under its name.
        self.line = wb.add_format({"bold": True, "valign": "vcenter", "border": 1, "text_wrap": True})
        self.note = wb.add_format({"italic": True, "font_color": "#C00000"})


def _lines_sheet(
    wb: Any, fmt: _LineFormats, inp: PlannerInput, lines: Sequence[GeneratedLine], outcome: SolveOutcome
) -> None:
    colours = specialty_colours(inp.positions)
    by_id = {p.id: p for p in inp.positions}
    year = sum(inp.term_structure)
    ws = wb.add_worksheet(LINES)
    ws.set_column(0, 0, 12)
    if year:  # an empty term structure (a run refused as bad input) has no weeks to draw
        ws.set_column(FIRST_WEEK_COL, week_column(year), WEEK_COL_WIDTH)
    ws.merge_range(0, 0, 1, 0, "", fmt.term)
    ws.write_string(0, 0, "job line", fmt.term)
    week = 1
    for t, length in enumerate(inp.term_structure):
        label = f"Term {t + 1} (wk {week}-{week + length - 1})"
        _block(ws, 0, week_column(week), week_column(week + length - 1), label, fmt=fmt.term)
        week += length
    for w in range(1, year + 1):
        ws.write_string(1, week_column(w), f"W{w}", fmt.week)
    ws.set_row(0, 18)
    ws.freeze_panes(HEADER_ROWS, FIRST_WEEK_COL)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, HEADER_ROWS - 1)
    if not lines:
        why = f"No job lines: the run is {outcome.status}. See the {DIAGNOSTICS!r} sheet."
        ws.write_string(HEADER_ROWS, 0, why, fmt.note)
        return
    for k, line in enumerate(lines):
        clinical_row, leave_row = line_rows(k)
        ws.set_row(clinical_row, CLINICAL_ROW_HEIGHT)
        ws.set_row(leave_row, LEAVE_ROW_HEIGHT)
        ws.merge_range(clinical_row, 0, leave_row, 0, "", fmt.line)
        ws.write_string(clinical_row, 0, line.name + (f"\n{line.pathway}" if line.pathway else ""), fmt.line)
        for r in line.rotations:
            first, last = week_column(r.start_week), week_column(r.start_week + r.length_weeks - 1)
            if r.kind == "LEAVE":
                _block(ws, leave_row, first, last, "Leave", fmt=fmt.leave)
                continue
            position = by_id.get(r.position_id or "")
            if position is None:  # a result that does not match its input: show, do not hide
                _block(ws, clinical_row, first, last, f"unknown position {r.position_id}", fmt=fmt.unknown)
            else:
                colour = colours[specialty_key(position.parent_specialty)]
                _block(ws, clinical_row, first, last, position.name, fmt=fmt.by_colour[colour])


def _legend_sheet(wb: Any, formats: Formats, fmt: _LineFormats, inp: PlannerInput) -> None:
    colours = specialty_colours(inp.positions)
    ws = wb.add_worksheet(LEGEND)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 100)
    for c, name in enumerate(("parent specialty", "positions", "position names")):
        ws.write_string(0, c, name, formats.header)
    groups: dict[str, list[Position]] = {}
    for p in inp.positions:
        groups.setdefault(specialty_key(p.parent_specialty), []).append(p)
    r = 0
    for r, key in enumerate(sorted(groups), start=1):
        members = groups[key]
        ws.write_string(r, 0, members[0].parent_specialty, fmt.by_colour[colours[key]])
        ws.write_number(r, 1, len(members))
        ws.write_string(r, 2, ", ".join(p.name for p in members))
    ws.write_string(r + 1, 0, "Leave", fmt.leave)
    ws.write_string(r + 1, 2, "annual leave")
    notes = (
        "Each job line takes two rows on the 'lines' sheet. The upper row shows the position the",
        "line holds in each term, coloured by parent specialty. The lower row shows annual leave:",
        "it falls inside a term, and the line keeps its position for that term.",
    )
    for n, text in enumerate(notes, start=r + 3):
        ws.write_string(n, 0, text)


# --- diagnostics -----------------------------------------------------------------------------


def _rule_names(inp: PlannerInput, meta: Mapping[str, Any]) -> list[str]:
    if "rules" in meta:
        return [str(r) for r in meta["rules"]]
    try:
        return list(resolve(inp.constraints, inp.state, inp.cohort).names)
    except BadInput:
        return list(inp.constraints)


_SUMMARY_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    # (metadata key, label, format attribute of Formats)
    ("status", "solver status", None),
    ("lines_requested", "lines requested", None),
    ("lines_built", "lines built", None),
    ("unfilled_required_seats", "required seats left unfilled", None),
    ("objective", "objective (last CP-SAT phase)", None),
    ("best_bound", "best bound (last phase)", None),
    ("gap", "gap (last phase; to a weak bound, not plan quality)", "percent"),
    ("solve_seconds", "solve seconds", "seconds"),
)
_DEMAND_FIELDS: tuple[tuple[str, str], ...] = (
    # (key of result_metadata.demand, label): the hard goal's proof, apart from the soft goals
    ("lines_proven_most", "lines built: proven the most possible"),
    ("required_seats_unfilled_proven_least", "required seats unfilled: proven the fewest possible"),
)
_SOFT_GOALS: tuple[tuple[str, str, str], ...] = (
    # (goal, metadata key, label)
    ("reading", "rural_terms_beyond_one", "rural terms beyond one per line (minimised)"),
    ("reading", "specialty_terms_beyond_two", "terms of a parent specialty beyond two per line (minimised)"),
    ("diversity", "identical_pairs", "identical pairs of lines"),
    ("diversity", "min_hamming", "fewest terms in which two lines differ"),
    ("diversity", "mean_hamming", "mean terms in which two lines differ"),
    ("diversity", "shared_terms_all_pairs", "terms shared, summed over all pairs of lines (minimised)"),
    ("affinity", "score", "specialty affinity of consecutive terms (maximised)"),
    ("leave", "first_half_share", "share of leave in the first half of the year"),
    ("leave", "target_first_half_share", "target share in the first half"),
    ("leave", "most_lines_on_leave_in_a_week", "most lines on leave in one week"),
    ("leave", "most_from_one_position_in_a_week", "most from one position on leave in one week"),
    ("leave", "split_leave_lines", "lines with split leave (2+3 or 3+2 weeks)"),
)
_QUALITY: tuple[tuple[str, str], ...] = (
    # (key of result_metadata.quality, label): measured on the lines as written
    ("min_pairwise_distance", "fewest terms in which two lines differ (all pairs)"),
    ("mean_pairwise_distance", "mean terms in which two lines differ (all pairs)"),
    ("pairs_differing_in_one_term", "pairs of lines differing in one term only"),
    ("specialties_per_line", "parent specialties per line {specialties: lines}"),
    ("most_terms_of_one_specialty", "most terms of one parent specialty {terms: lines}"),
    ("rural_terms_per_line", "rural terms per line {terms: lines}"),
    ("lines_on_leave_in_week_1", "lines on leave in week 1 (orientation)"),
    ("lines_working_half_a_long_term", "lines away half or more of a 10+ week term"),
)
_SHOWN = {
    *(key for key, _, _ in _SUMMARY_FIELDS),
    "rules",
    "pathways",
    "fewer_lines_because",
    "diagnosis",
    "violations",
    "dropped_positions",
    "closed_positions",
    "inferred",
    "positions_unmatched",
    "positions_ambiguous",
    "unfilled",
    "fill",  # the lines themselves show it
    "soft_goals",
    "quality",
    "phases",
    "demand",
    "conflict",  # its sentences are in "diagnosis"
}


class _Sheet:
    """A top-to-bottom writer: labelled rows, sections and tables on one sheet."""

    def __init__(self, ws: Any, formats: Formats) -> None:
        self.ws, self.formats, self.row = ws, formats, 0

    def field(self, label: str, value: Cell, fmt: Any = None) -> None:
        self.ws.write_string(self.row, 0, label, self.formats.label)
        write_cell(self.ws, self.row, 1, value, fmt)
        self.row += 1

    def items(self, label: str, values: Sequence[Cell]) -> None:
        for n, value in enumerate(values):
            self.field(label if n == 0 else "", value, self.formats.wrap)

    def section(self, title: str) -> None:
        self.row += 1
        self.ws.write_string(self.row, 0, title, self.formats.section)
        self.row += 1

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[Cell]], formats: Mapping[int, Any] | None = None
    ) -> None:
        for c, name in enumerate(header):
            self.ws.write_string(self.row, c, name, self.formats.header)
        self.row += 1
        for values in rows:
            for c, value in enumerate(values):
                write_cell(self.ws, self.row, c, value, (formats or {}).get(c))
            self.row += 1


def _as_cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value)


def _diagnostics_sheet(wb: Any, formats: Formats, inp: PlannerInput, outcome: SolveOutcome) -> None:
    meta = outcome.metadata
    ws = wb.add_worksheet(DIAGNOSTICS)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2 + len(inp.term_structure) + 1, 12)
    out = _Sheet(ws, formats)
    names = {p.id: p.name for p in inp.positions}
    n_terms = len(inp.term_structure)

    out.field("run", inp.run_id)
    out.field("allocation run", inp.allocation_run_id)
    out.field("status", outcome.status)
    if outcome.error:
        out.field("error", outcome.error, formats.wrap)
    for key, label, fmt in _SUMMARY_FIELDS:
        if key in meta:
            out.field(label, _as_cell(meta[key]), getattr(formats, fmt) if fmt else None)
    proof: Mapping[str, Any] = meta.get("demand") or {}
    for key, label in _DEMAND_FIELDS:
        if key in proof:
            out.field(label, _as_cell(proof[key]))
    out.items("why fewer lines", [str(r) for r in meta.get("fewer_lines_because", ())])
    out.items("diagnosis", [str(r) for r in meta.get("diagnosis", ())])
    out.items("dropped excludable positions", [f"{names.get(p, p)} ({p})" for p in meta.get("dropped_positions", ())])
    out.items(f"closed to cohort {inp.cohort}", [f"{names.get(p, p)} ({p})" for p in meta.get("closed_positions", ())])
    inferred: Mapping[str, Mapping[str, Any]] = meta.get("inferred") or {}
    out.items(
        "specialty inferred from the name",
        [
            f"{i['name']} ({pid}): {i['parent_specialty']}"
            + (f" / {i['subspecialty']}" if i.get("subspecialty") else "")
            + f" (keyword {i['keyword']!r})"
            for pid, i in inferred.items()
        ],
    )
    out.items("no specialty keyword in the name", [str(n) for n in meta.get("positions_unmatched", ())])
    tied: Mapping[str, Sequence[str]] = meta.get("positions_ambiguous") or {}
    out.items("specialty keywords that disagree (none chosen)", [f"{n}: {', '.join(k)}" for n, k in tied.items()])

    out.section("Rules applied")
    out.table(("rule", "meaning"), [[name, meaning(name)] for name in _rule_names(inp, meta)], {1: formats.wrap})

    goals: Mapping[str, Mapping[str, Any]] = meta.get("soft_goals") or {}
    if goals:
        out.section("Soft goals")
        rows = [
            ["all", label, _as_cell(goals[key])]
            for key, label in (("score", "soft-goal score (lower is better)"), ("score_bound", "its lower bound"))
            if key in goals
        ]
        rows += [
            [goal, label, _as_cell(goals[goal][key])]
            for goal, key, label in _SOFT_GOALS
            if goal in goals and key in goals[goal]
        ]
        out.table(("goal", "measure", "value"), rows)

    pathways: Sequence[Mapping[str, Any]] = meta.get("pathways") or ()
    if pathways:
        out.section("Pathways (reserved lines, built first)")
        columns = ("name", "mode", "lines_reserved", "lines_built", "lines_met")
        out.table(
            ("pathway", "mode", "lines reserved", "lines built", "lines meeting it", "lines"),
            [[*(_as_cell(p.get(k)) for k in columns), ", ".join(map(str, p.get("lines", ())))] for p in pathways],
        )
    quality: Mapping[str, Any] = meta.get("quality") or {}
    if quality:
        out.section("How the lines read")
        rows = [[label, _as_cell(quality[key])] for key, label in _QUALITY if key in quality]
        out.table(("measure", "value"), rows)
        away: Sequence[int] = quality.get("leave_by_week") or ()
        out.table(("week", "lines on leave"), [[week, n] for week, n in enumerate(away, start=1)])

    phases: Mapping[str, Mapping[str, Any]] = meta.get("phases") or {}
    if phases:
        out.section("CP-SAT phases")
        keys = ("status", "objective", "best_bound", "gap", "seconds", "solutions")
        out.table(
            ("phase", "status", "objective", "best bound", "gap", "seconds", "solutions"),
            [[phase, *(_as_cell(p.get(k)) for k in keys)] for phase, p in phases.items()],
            {4: formats.percent, 5: formats.seconds},
        )

    unfilled: Sequence[Mapping[str, Any]] = meta.get("unfilled") or ()
    if unfilled:
        out.section("Unfilled seats by position and term")
        grid: dict[str, list[int]] = {}
        kind: dict[str, str] = {}
        for u in unfilled:
            pid = str(u["position"])
            grid.setdefault(pid, [0] * n_terms)[int(u["term_index"])] += int(u["unfilled"])
            kind[pid] = "barred by a rule" if u.get("barred") else "excludable" if u.get("excludable") else "required"
        out.table(
            ("position", "name", "kind", *(f"Term {t + 1}" for t in range(n_terms)), "total"),
            [
                [pid, names.get(pid, pid), kind[pid], *(n or None for n in seats), sum(seats)]
                for pid, seats in grid.items()
            ],
        )

    violations = meta.get("violations") or ()
    if violations:
        out.section("Compliance check violations")
        out.items("violation", [str(v) for v in violations])

    others = {k: v for k, v in meta.items() if k not in _SHOWN}
    if others:
        out.section("Other metadata")
        for key, value in others.items():
            out.field(key, _as_cell(value), formats.wrap)


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
    _write_table(wb, formats, ROTATIONS, header, rows)


def write_result(path: Path, inp: PlannerInput, outcome: SolveOutcome) -> None:
    """Write a solved run: ``lines``, ``legend``, ``diagnostics``, ``rotations``, then the input.

    Works for every outcome: without lines (INFEASIBLE, FAILED) the ``lines`` sheet says so and
    ``diagnostics`` carries the error and diagnosis. ``read_workbook`` replays the result.
    """
    lines: Sequence[GeneratedLine] = outcome.payload or ()
    with xlsxwriter.Workbook(str(path)) as wb:
        formats = Formats(wb)
        line_formats = _LineFormats(wb, specialty_colours(inp.positions))
        _lines_sheet(wb, line_formats, inp, lines, outcome)
        _legend_sheet(wb, formats, line_formats, inp)
        _diagnostics_sheet(wb, formats, inp, outcome)
        _rotations_sheet(wb, formats, inp, lines)
        _input_sheets(wb, formats, inp)
