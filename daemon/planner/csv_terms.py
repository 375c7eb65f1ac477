"""A district's term list as CSV -> ``PlannerInput`` (the format of shared/data's HNE list).

Columns, by header: ``Term Name``; ``... Term N Allocation`` (seats per term, so
``capacity_by_term``); ``Term Classification`` and ``Term Classification 2`` (AMC categories
"A-..".."D-..", "E-.." marks a non-direct-clinical term); ``Specialty Status`` (parent
specialty; "Relief" marks relief/service terms); ``Subspecialty Status``; ``Clinical Team
Structure`` ("Team Based" or not); ``Rurality``; ``PGY2 Only``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from daemon.planner.data import PlannerInput, Position
from daemon.solving import BadInput

_SEATS = re.compile(r"Term (\d+) Allocation", re.IGNORECASE)
_RELIEF = "relief"


def _term_number(header: str) -> int:
    """N of a "... Term N Allocation" column, 0 for other columns."""
    match = _SEATS.search(header)
    return int(match[1]) if match else 0


def _position(row_number: int, row: dict[str, str], seat_columns: list[str]) -> Position:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    try:
        seats = tuple(int(cell(c) or 0) for c in seat_columns)
    except ValueError as exc:
        raise BadInput(f"row {row_number} ({cell('Term Name')}): seats must be integers") from exc
    classes = [cell("Term Classification"), cell("Term Classification 2")]
    specialty = cell("Specialty Status")
    relief = specialty.casefold() == _RELIEF
    return Position(
        id=f"row-{row_number:03d}",
        name=" ".join(cell("Term Name").split()),
        parent_specialty=specialty,
        subspecialty=cell("Subspecialty Status") or None,
        experience_categories=tuple(c[0] for c in classes if c[:1] in ("A", "B", "C", "D")),
        is_service_term=relief,
        is_nights=relief,
        is_rural=cell("Rurality").casefold() == "rural",
        is_non_clinical=any(c.startswith("E") for c in classes),
        is_team_based=cell("Clinical Team Structure").casefold() == "team based",
        capacity=max(seats, default=0),
        capacity_by_term=seats,
        cohorts=("PGY2",) if cell("PGY2 Only").casefold() == "yes" else ("PGY1", "PGY2"),
    )


def read_positions(path: Path) -> tuple[Position, ...]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        headers = reader.fieldnames or []
        seat_columns = sorted((h for h in headers if _term_number(h)), key=_term_number)
        if not seat_columns:
            raise BadInput(f"{path.name}: no 'Term N Allocation' columns")
        # Data rows are numbered from 1, after the header.
        return tuple(_position(n, row, seat_columns) for n, row in enumerate(reader, start=1))


def planner_input_from_csv(path: Path, **run: Any) -> PlannerInput:
    """A run over the CSV's posts. ``run`` sets any ``PlannerInput`` field; ``n_job_lines``
    defaults to the fewest seats offered in any term (one line per seat of the leanest term)."""
    positions = read_positions(path)
    n_terms = len(positions[0].capacity_by_term or ()) if positions else 0
    leanest = min((sum((p.capacity_by_term or ())[t] for p in positions) for t in range(n_terms)), default=0)
    fields: dict[str, Any] = {"run_id": path.stem, "allocation_run_id": path.stem, "n_job_lines": leanest, **run}
    return PlannerInput(positions=positions, **fields)
