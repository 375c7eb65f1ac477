"""The planner workbook's layout: sheet names and the columns of each input table, shared by
the reader (``xlsx_reader``) and the writers (``xlsx_writer``, ``xlsx_result``).

What the sheets and columns mean for people: docs/planner-workbook.md.
"""

from __future__ import annotations

from daemon.planner.data import PlannerInput
from daemon.workbook import QUEUE_COLUMNS, SheetSpec

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
DEFAULTS = PlannerInput(run_id="", allocation_run_id="", n_job_lines=0, positions=())


SPECS: dict[str, SheetSpec] = {
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
