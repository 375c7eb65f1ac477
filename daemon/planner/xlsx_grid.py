"""The result workbook's year planner: the ``lines`` sheet (a job line per row pair, one
block per rotation over its weeks), its ``legend``, and the specialty colours both use.

What the sheets show and why a line takes two rows: docs/planner-workbook.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from daemon.planner.data import PlannerInput, Position
from daemon.planner.result import GeneratedLine
from daemon.planner.rules.predicates import specialty_key
from daemon.planner.xlsx_layout import DIAGNOSTICS, LEGEND, LINES
from daemon.solving import SolveOutcome
from daemon.workbook import Formats

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


class LineFormats:
    """The ``lines`` and ``legend`` sheets' cell formats: a fill per specialty colour, leave's."""

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


def lines_sheet(
    wb: Any, fmt: LineFormats, inp: PlannerInput, lines: Sequence[GeneratedLine], outcome: SolveOutcome
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


def legend_sheet(wb: Any, formats: Formats, fmt: LineFormats, inp: PlannerInput) -> None:
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
