"""Read a planner input workbook into the ``PlannerInput`` the SQL loader builds
(``read_workbook``), so an exported production run replays offline and solves the same way.

The format, for people: docs/planner-workbook.md. Cells are read by ``daemon.workbook.Table``,
row by row; what is checked here is the planner's: categories, unique position ids and
affinity pairs, a position of another allocation run, specialties inferred from names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from daemon import workbook
from daemon.planner.data import Inference, Pathway, PlannerInput, Position
from daemon.planner.infer import TABLE, infer, keyword_table
from daemon.planner.xlsx_layout import AFFINITY, CATEGORIES, DEFAULTS, PATHWAYS, POSITIONS, RESULT_SHEETS, RUNS, SPECS
from daemon.solving import BadInput
from daemon.workbook import Row, Table


def _read_tables(path: Path) -> dict[str, Table]:
    with workbook.open_workbook(path, (*workbook.UNREADABLE, OSError)) as wb:
        tables: dict[str, Table] = {}
        for name in wb.sheetnames:
            table = name.strip().lower()
            if table in SPECS:
                if table in tables:
                    raise BadInput(f"the workbook has two sheets named {table!r}")
                tables[table] = workbook.read_table(wb.rows(name), name, SPECS[table])
            elif table not in RESULT_SHEETS and workbook.has_content(wb.rows(name)):
                raise workbook.unknown_sheet(name, SPECS, RESULT_SHEETS)
        workbook.check_mandatory(SPECS, tables, wb.sheetnames)
        return tables


def _categories(row: Row, column: str) -> tuple[str, ...]:
    items = row.items(column) or ()
    bad = [c for c in items if c.upper() not in CATEGORIES]
    if bad:
        raise row.error(
            column, f"unknown experience category {bad[0]!r}; the categories are A, B, C and D, comma-separated"
        )
    return tuple(c.upper() for c in items)


def _position(row: Row, allocation_run: str) -> Position:
    other = row.text("allocation_run")
    if other is not None and other != allocation_run:
        raise row.error("allocation_run", f"the position belongs to another allocation run than {allocation_run!r}")
    return Position(
        id=row.required("id"),
        name=row.required("name"),
        parent_specialty=row.text("parent_specialty") or "",
        subspecialty=row.text("subspecialty"),
        experience_categories=_categories(row, "experience_categories"),
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


def _pathway(row: Row) -> Pathway:
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
    """Read a planner input workbook (format: docs/planner-workbook.md); BadInput names bad cells."""
    tables = _read_tables(path)
    runs = tables[RUNS]
    if len(runs) != 1:
        raise BadInput(f"sheet {RUNS!r} must have exactly one run row below the header, not {len(runs)}")
    run = runs.records()[0]
    allocation_run = run.required("allocation_run")
    tables[POSITIONS].check_unique(("id",), "position id")

    def get(name: str) -> Table:
        """An optional sheet; a missing one reads as empty."""
        return tables[name] if name in tables else Table(SPECS[name], ())

    affinity = get(AFFINITY)
    affinity.check_unique(("specialty_a", "specialty_b"), "specialty pair")
    constraints = run.items("constraints")
    term_structure = run.whole_numbers("term_structure")
    positions, inference = _inferred(tables[POSITIONS].records(), allocation_run)
    return PlannerInput(
        run_id=run.required("id"),
        allocation_run_id=allocation_run,
        n_job_lines=run.integer("n_job_lines"),
        positions=positions,
        constraints=DEFAULTS.constraints if constraints is None else constraints,
        state=run.text("state") or DEFAULTS.state,
        cohort=run.text("cohort") or DEFAULTS.cohort,
        term_structure=DEFAULTS.term_structure if term_structure is None else term_structure,
        leave_weeks=run.integer("leave_weeks", DEFAULTS.leave_weeks),
        max_seconds=run.real("max_seconds", DEFAULTS.max_seconds),
        allow_partial_filling=run.boolean("allow_partial_filling", DEFAULTS.allow_partial_filling),
        num_workers=None if run.text("num_workers") is None else run.integer("num_workers"),
        rng_seed=run.integer("rng_seed", DEFAULTS.rng_seed),
        specialty_affinity=tuple(
            (row.required("specialty_a"), row.required("specialty_b"), row.integer("weight"))
            for row in affinity.records()
        ),
        inference=inference,
        pathways=tuple(_pathway(row) for row in get(PATHWAYS).records()),
    )


def _inferred(rows: Sequence[Row], allocation_run: str) -> tuple[tuple[Position, ...], Inference]:
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
