"""Workbook plumbing shared by the allocator's and the planner's XLSX I/O.

``daemon.allocator.xlsx_*`` and ``daemon.planner.xlsx_*`` read and write their own tables
(formats: docs/allocator-workbook.md, docs/planner-workbook.md); what they share is here:
reading cells (text, numbers, booleans, list cells), the typed table reader (``Table``) and its
error messages, checking a sheet's header row and the workbook's sheet names, writing typed
cells, the common cell formats and column widths, and the fixed-date workbooks of the shipped
examples.
"""

from __future__ import annotations

import bisect
import datetime
import math
import operator
import re
import sys
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import xlsxwriter
from python_calamine import CalamineError, CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name

from daemon.solving import BadInput

MAX_CELL_CHARS = 32_767  # Excel's limit

# What python-calamine raises for a file that is not a workbook it can read.
UNREADABLE: tuple[type[Exception], ...] = (CalamineError,)


# Job-queue columns both run tables have: a run sheet may carry them; offline they mean nothing.
QUEUE_COLUMNS = ("claimed_by", "claimed_at", "heartbeat_at", "attempts", "max_attempts", "completed_at", "last_error")


@dataclass(frozen=True)
class SheetSpec:
    """The columns of one input sheet."""

    columns: tuple[str, ...]  # in the order the writer puts them
    required: tuple[str, ...]
    ignored: tuple[str, ...] = ()  # database columns that mean nothing offline
    key: tuple[str, ...] = ()  # unique, as the database's primary or unique key
    mandatory: bool = False


# ---------------------------------------------------------------------------------------------
# Reading


def text(value: Any) -> str | None:
    """A cell as trimmed text; None for an empty cell. Whole numbers lose their ".0"."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any) -> float | None:
    """A numeric cell or numeric text as a float; None if it is neither (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def boolean(value: Any, default: bool) -> bool | None:
    """A TRUE/FALSE cell or true/false/yes/no/1/0; ``default`` if empty; None if neither."""
    if isinstance(value, bool):
        return value
    cell = text(value)
    if cell is None:
        return default
    if cell.lower() in ("true", "t", "yes", "y", "1"):
        return True
    if cell.lower() in ("false", "f", "no", "n", "0"):
        return False
    return None


def list_items(cell: str) -> tuple[str, ...]:
    """The comma-separated items of a list cell's text (``{a,b}`` too), trimmed, blanks left out."""
    if cell.startswith("{") and cell.endswith("}"):
        cell = cell[1:-1]
    return tuple(p for p in (part.strip() for part in cell.split(",")) if p)


def shown(value: Any) -> str:
    """A cell as an error message shows it (a whole number without the ".0" calamine reads)."""
    if text(value) is None:
        return "an empty cell"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


Rows = list[list[Any]]


class Book:
    """A workbook open for reading: its sheet names, and each sheet as a list of rows.

    python-calamine parses in Rust and hands over a whole sheet at once: the L workbook (2.25 M
    preference rows) in seconds, where openpyxl's read-only mode spent over a minute in Python
    per cell (``python -m bench xlsx``). Its cells differ from openpyxl's in ways the readers
    absorb: an empty cell is '' (``text`` treats it as empty), a number is a float (``text``
    shows 5.0 as 5), a date cell a ``datetime.date``. Cached values are read; formulas are not
    evaluated. An error cell (#REF!, #N/A...) calamine also reads as '', which would let a
    default stand in for a broken value: ``rows`` refuses a sheet holding one, naming the cell.
    """

    def __init__(self, path: Path, unreadable: tuple[type[Exception], ...]) -> None:
        self._path = path
        self._unreadable = unreadable
        try:
            self._book = CalamineWorkbook.from_path(str(path))
        except unreadable as exc:
            raise BadInput(f"{path} is not a readable .xlsx workbook: {exc}") from exc
        self.sheetnames: list[str] = list(self._book.sheet_names)
        self._parts = _sheet_parts(path)

    def rows(self, sheet: str) -> Rows:
        """The sheet's rows from row 1, each from column A (``skip_empty_area=False``: calamine
        would otherwise start at the first used cell and shift every column position)."""
        part = self._parts.get(sheet)
        # The error-cell scan runs beside calamine's parse (both release the GIL for most of
        # their work): on the L workbook it then costs nothing measurable, where after the
        # parse it added about 1 s of 7.
        with ThreadPoolExecutor(max_workers=1) as pool:
            scan = pool.submit(_first_error_cell, self._path, part, sheet) if part is not None else None
            try:
                rows: Rows = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except self._unreadable as exc:
                raise BadInput(f"{self._path}: sheet {sheet!r} is not readable: {exc}") from exc
            error = scan.result() if scan is not None else None
        if error is not None:
            raise error
        return rows

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *_: object) -> None:
        self._book.close()


_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its XML part in the .xlsx zip; empty for what is not an .xlsx (calamine
    also reads .xls and .ods, whose error cells it reports the same way: not scanned)."""
    try:
        with zipfile.ZipFile(path) as z:
            sheets = ElementTree.fromstring(z.read("xl/workbook.xml")).iter(f"{_MAIN}sheet")
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter(f"{_RELS}Relationship")
            target = {r.get("Id"): r.get("Target", "") for r in rels}
            return {str(s.get("name")): _part_name(target[s.get(_REL_ID)]) for s in sheets if s.get(_REL_ID) in target}
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return {}


def _part_name(target: str) -> str:
    """A relationship target as a zip member name ("worksheets/sheet1.xml" is under xl/)."""
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


_ERROR_CELL = b' t="e"'
_CHUNK = 1 << 24
_OVERLAP = 4096  # bytes kept from the previous chunk: a cell's start tag and value fit


def _first_error_cell(path: Path, part: str, sheet: str) -> BadInput | None:
    """BadInput naming the first error cell of the sheet's XML; None if it has none.

    A plain byte search over the decompressed XML (about 0.5 s per 250 MB here) rather than a
    parse: error cells are rare. A match counts only inside a cell's start tag (no ">" between
    "<c " and it): a text cell may hold the same characters."""
    with zipfile.ZipFile(path) as z, z.open(part) as f:
        tail = b""
        while chunk := f.read(_CHUNK):
            buffer = tail + chunk
            at = buffer.find(_ERROR_CELL)
            while at >= 0:
                start = buffer.rfind(b"<c ", 0, at)
                if start >= 0 and b">" not in buffer[start:at]:
                    return _error_cell(sheet, buffer[start:at], buffer[at:] + f.read(_OVERLAP))
                at = buffer.find(_ERROR_CELL, at + 1)
            tail = buffer[-_OVERLAP:]
    return None


def _error_cell(sheet: str, start_tag: bytes, rest: bytes) -> BadInput:
    ref = re.search(rb'\br="([A-Z]+[0-9]+)"', start_tag)
    value = re.search(rb"<v>([^<]*)</v>", rest[:_OVERLAP])
    cell = f"cell {ref.group(1).decode()}" if ref else "a cell"
    shown = f" {value.group(1).decode(errors='replace')}" if value else ""
    return BadInput(
        f"sheet {sheet!r} {cell}: an error value{shown} (a formula that failed?); put the value itself in the cell"
    )


def open_workbook(path: Path, unreadable: tuple[type[Exception], ...] = UNREADABLE) -> Book:
    """A workbook to read; the ``unreadable`` errors become BadInput."""
    return Book(path, unreadable)


def has_content(rows: Rows) -> bool:
    return any(text(v) is not None for row in rows for v in row)


def unknown_sheet(name: str, sheets: Iterable[str], ignored: Iterable[str]) -> BadInput:
    """The error for a sheet with content that is neither a table nor an ignored result sheet."""
    return BadInput(
        f"unknown sheet {name!r} (a misspelt name?); the sheets are {', '.join(sheets)}"
        f" (and {', '.join(ignored)}, which are ignored)"
    )


def check_mandatory(specs: Mapping[str, SheetSpec], found: Collection[str], sheetnames: list[str]) -> None:
    """Raise BadInput if a mandatory sheet is not among ``found``."""
    missing = [s for s, spec in specs.items() if spec.mandatory and s not in found]
    if missing:
        raise BadInput(f"the workbook has no sheet {', '.join(map(repr, missing))} (sheets: {sheetnames})")


def header(sheet: Rows, sheet_name: str, spec: SheetSpec) -> tuple[list[str], list[int], Iterator[list[Any]]]:
    """Validate row 1; return the known columns present, their positions, and the data rows."""
    rows = iter(sheet)
    cells = next(rows, None) or []
    columns: list[str] = []
    positions: list[int] = []
    for at, cell in enumerate(cells):
        name = (text(cell) or "").lower()
        where = f"sheet {sheet_name!r} row 1, cell {xl_col_to_name(at)}1"
        if not name or name in spec.ignored:
            continue
        if name not in spec.columns:
            raise BadInput(f"{where}: unknown column {cell!r}; the columns are {', '.join(spec.columns)}")
        if name in columns:
            raise BadInput(f"{where}: column {name!r} appears twice")
        columns.append(name)
        positions.append(at)
    missing = [c for c in spec.required if c not in columns]
    if missing:
        raise BadInput(f"sheet {sheet_name!r} row 1: missing required column(s) {', '.join(missing)}")
    return columns, positions, rows


def whole(value: Any) -> int | None:
    """A cell holding a whole number (or its text) as an int; None if it is not one."""
    number_ = number(value)
    if number_ is None or not math.isfinite(number_) or not number_.is_integer():
        return None
    return int(number_)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Table:
    """One input table's rows as columns, with their Excel row numbers: the typed cell reader
    of both kinds of workbook, and the one wording of its errors.

    Columnar (``ids``, ``ints``, ...) for the allocator's millions of preference rows, where
    per-cell Python would cost seconds; ``records`` views it row by row for the planner's
    few. A table may continue over several sheets (``continued``: the allocator's long
    ones), so a row is named with its sheet.
    """

    def __init__(self, spec: SheetSpec, columns: tuple[str, ...], *, continued: bool = False) -> None:
        self.spec = spec
        self.columns = columns  # the columns present in the sheet's header
        self.continued = continued
        self.data: list[tuple[Any, ...]] = []
        self.rows: list[int] = []  # Excel row number of each entry of ``data``
        self._starts: list[int] = []  # per sheet of the table: index in ``data`` of its first row
        self._names: list[str] = []  # per sheet of the table: its name

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, sheet_name: str, positions: list[int], rows: Iterable[list[Any]]) -> None:
        """Add a sheet's data rows (the table's columns, at ``positions``), leaving out blank rows."""
        self._starts.append(len(self.rows))
        self._names.append(sheet_name)
        # itemgetter picks a row's cells at C speed; a blank row must be blank in its first
        # column, so only rows with a blank first cell are looked at whole.
        pick = operator.itemgetter(*positions)
        picked = map(pick, rows) if len(positions) > 1 else ((pick(row),) for row in rows)
        cells: list[tuple[Any, ...]] = list(picked)
        first = [c[0] for c in cells]
        blank: list[int] = []
        if not (set(map(type, first)) <= {str} and "" not in map(str.strip, first)):  # else none blank
            blank = [i for i, v in enumerate(first) if _blank(v)]
        if blank:
            drop = {i for i in blank if all(map(_blank, cells[i]))}
            keep = [i for i in range(len(cells)) if i not in drop]
            self.data.extend(cells[i] for i in keep)
            self.rows.extend(i + 2 for i in keep)
        else:
            self.data.extend(cells)
            self.rows.extend(range(2, len(cells) + 2))

    def where(self, i: int) -> str:
        """``sheet 'x' row n`` for entry ``i``."""
        part = bisect.bisect_right(self._starts, i) - 1
        return f"sheet {self._names[part]!r} row {self.rows[i]}"

    def error(self, i: int, column: str, value: Any, why: str) -> BadInput:
        return BadInput(f"{self.where(i)}, column {column}: {why} (got {shown(value)})")

    def col(self, name: str) -> list[Any]:
        """The raw cells of a column; all None when the sheet lacks the (optional) column."""
        if name not in self.columns:
            return [None] * len(self)
        at = self.columns.index(name)
        return [row[at] for row in self.data]

    def cell(self, i: int, name: str) -> Any:
        return self.data[i][self.columns.index(name)] if name in self.columns else None

    def records(self) -> list[Row]:
        return [Row(self, i) for i in range(len(self))]

    # Typed cells, one at a time: the rules and messages every reader below shares.

    def required(self, i: int, column: str, value: Any) -> str:
        cell = text(value)
        if cell is None:
            raise self.error(i, column, value, "a value is required")
        return cell

    def integer(
        self, i: int, column: str, value: Any, default: int | None, *, required: bool, minimum: int | None = None
    ) -> int | None:
        """A whole number; a blank cell is ``default`` or, for a ``required`` column without one,
        an error."""
        if text(value) is None:
            if default is None and required:
                raise self.error(i, column, value, "a whole number is required")
            return default
        number_ = whole(value)
        if number_ is None:
            raise self.error(i, column, value, "must be a whole number")
        if minimum is not None and number_ < minimum:
            raise self.error(i, column, value, f"must be at least {minimum}")
        return number_

    def flag(self, i: int, column: str, value: Any, default: bool) -> bool:
        flag = boolean(value, default)
        if flag is None:
            raise self.error(i, column, value, "must be TRUE or FALSE")
        return flag

    # Typed columns.

    def ids(self, name: str) -> list[str]:
        """A required id column as text."""
        cells = self.col(name)
        # Fast path (a preference sheet's millions of id cells): all text, none blank. map()
        # and set() run at C speed where ``text`` per cell would cost seconds.
        if set(map(type, cells)) <= {str}:
            stripped = list(map(str.strip, cells))
            if "" not in stripped:
                return stripped
        return [self.required(i, name, value) for i, value in enumerate(cells)]

    def texts(self, name: str) -> list[str | None]:
        return [text(v) for v in self.col(name)]

    def ints(self, name: str, default: int | None, *, minimum: int = 0) -> list[int | None]:
        required = name in self.spec.required
        return [
            self.integer(i, name, value, default, required=required, minimum=minimum)
            for i, value in enumerate(self.col(name))
        ]

    def bools(self, name: str, default: bool) -> list[bool]:
        return [self.flag(i, name, value, default) for i, value in enumerate(self.col(name))]

    def id_lists(self, name: str) -> list[list[str]]:
        return [list(list_items(text(value) or "")) for value in self.col(name)]

    def check_unique(self, key: Sequence[str], what: str = "row") -> None:
        """Raise BadInput at the first row repeating an earlier one's ``key`` (a ``what``)."""
        seen: dict[tuple[str | None, ...], int] = {}
        required = [c in self.spec.required for c in key]
        for i, values in enumerate(zip(*(self.texts(c) for c in key), strict=True)):
            if any(v is None and r for v, r in zip(values, required, strict=True)):
                continue  # a missing required value is reported as such, not as a duplicate
            first = seen.setdefault(values, i)
            if first != i:
                listed = ", ".join(f"{c}={v!r}" for c, v in zip(key, values, strict=True))
                earlier = self.where(first) if self.continued else f"row {self.rows[first]}"
                raise BadInput(f"{self.where(i)}: duplicate {what} ({listed}); the same as {earlier}")


@dataclass(frozen=True)
class Row:
    """One row of a ``Table``, read cell by cell; its errors are the table's."""

    table: Table
    at: int  # index in the table

    @property
    def where(self) -> str:
        return self.table.where(self.at)

    def error(self, column: str, why: str) -> BadInput:
        return self.table.error(self.at, column, self.table.cell(self.at, column), why)

    def text(self, column: str) -> str | None:
        return text(self.table.cell(self.at, column))

    def required(self, column: str) -> str:
        return self.table.required(self.at, column, self.table.cell(self.at, column))

    def integer(self, column: str, default: int | None = None) -> int:
        """A whole number; a blank cell is ``default``, or an error without one."""
        number_ = self.table.integer(self.at, column, self.table.cell(self.at, column), default, required=True)
        return number_ or 0  # narrows the type only: required, so never None

    def real(self, column: str, default: float) -> float:
        value = self.table.cell(self.at, column)
        if text(value) is None:
            return default
        number_ = number(value)
        if number_ is None or not math.isfinite(number_):
            raise self.error(column, "must be a number")
        return number_

    def boolean(self, column: str, default: bool) -> bool:
        return self.table.flag(self.at, column, self.table.cell(self.at, column), default)

    def items(self, column: str) -> tuple[str, ...] | None:
        """A list cell's items; None for an empty cell, () for ``{}``."""
        cell = self.text(column)
        return None if cell is None else list_items(cell)

    def whole_numbers(self, column: str) -> tuple[int, ...] | None:
        items = self.items(column)
        if items is None:
            return None
        out = []
        for item in items:
            number_ = whole(item)
            if number_ is None:
                raise self.error(
                    column, f"{item!r} is not a whole number; give one whole number per term, e.g. 1, 1, 0"
                )
            out.append(number_)
        return tuple(out)


def read_table(sheet: Rows, sheet_name: str, spec: SheetSpec) -> Table:
    """A one-sheet table, after checking its header row."""
    columns, positions, rows = header(sheet, sheet_name, spec)
    out = Table(spec, tuple(columns))
    out.append(sheet_name, positions, rows)
    return out


# ---------------------------------------------------------------------------------------------
# Writing

Cell = str | int | float | bool | None


class Formats:
    """The common cell formats of a workbook (a format no cell uses is not written)."""

    def __init__(self, wb: Any) -> None:
        self.header = wb.add_format(
            {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "border": 1, "valign": "top"}
        )
        self.label = wb.add_format({"bold": True})
        self.section = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.decimal = wb.add_format({"num_format": "0.000"})
        self.seconds = wb.add_format({"num_format": "0.00"})
        self.percent = wb.add_format({"num_format": "0.0%"})


def write_cell(ws: Any, row: int, col: int, value: Cell, fmt: Any = None) -> None:
    # Typed writes: xlsxwriter's generic write() would turn "=x" into a formula and
    # "http://…" into a link, and an id must stay the text it was.
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float) and math.isfinite(value):
        ws.write_number(row, col, value, fmt)
    else:
        string = str(value)
        if len(string) > MAX_CELL_CHARS:
            # xlsxwriter would truncate silently; an export must never lose data.
            raise ValueError(f"a value of {len(string)} characters does not fit an Excel cell ({MAX_CELL_CHARS})")
        ws.write_string(row, col, string, fmt)


def width(values: Iterable[Cell]) -> float:
    """A column's width for its cells (at least one not empty): 2 more than the longest, 8-60."""
    return min(60.0, max(8.0, *(len(str(v)) + 2.0 for v in values if v is not None)))


# ---------------------------------------------------------------------------------------------
# The shipped examples

CREATED = datetime.datetime(2025, 1, 6, 9, 0, 0)  # fixed so an example is reproducible byte for byte


@contextmanager
def example_workbook(path: Path, title: str) -> Iterator[Any]:
    """An xlsxwriter workbook dated ``CREATED``: the same data gives the same bytes."""
    with xlsxwriter.Workbook(str(path)) as wb:
        wb.set_properties({"title": title, "created": CREATED})
        yield wb


def example_main(argv: Sequence[str] | None, default: str, write: Callable[[Path], None]) -> None:
    """``python -m`` of an example module: write the example to the path given, or ``default``."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else default)
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path)
    print(f"wrote {path}")
