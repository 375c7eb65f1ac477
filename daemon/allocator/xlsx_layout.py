"""The allocator workbook's layout: sheet names and the columns of each table, shared by the
reader (``xlsx_reader``) and the writers (``xlsx_writer``, ``xlsx_result``).

What the sheets and columns mean for people: docs/allocator-workbook.md.
"""

from __future__ import annotations

from daemon.workbook import QUEUE_COLUMNS, SheetSpec

_MAX_SHEET_NAME = 31  # Excel's limit

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

ELIGIBILITY_LISTS = (
    "included_worker_mapping_ids",
    "excluded_worker_mapping_ids",
    "included_qualification_tag_ids",
    "excluded_qualification_tag_ids",
)


SPECS: dict[str, SheetSpec] = {
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
    # Preference keys are checked vectorised, on indices, in xlsx_reader._rank_table.
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
    ELIGIBILITY: SheetSpec(("job_line", *ELIGIBILITY_LISTS), ("job_line",)),
    QUALIFICATIONS: SheetSpec(("worker_mapping", "tag"), ("worker_mapping", "tag"), key=("worker_mapping", "tag")),
    TAKEN: SheetSpec(("job_line", "taken"), ("job_line", "taken"), key=("job_line",)),
}


ALLOCATION_COLUMNS = ("worker_mapping", "worker_name", "job_line", "job_line_name", "worker_rank", "dissatisfaction")
WHY_COLUMNS = (
    "worker_mapping", "worker_name", "job_line", "job_line_name", "worker_rank", "reason", "delta", "exact", "sentence",
)  # fmt: skip
SEAT_VALUE_COLUMNS = (
    "job_line", "job_line_name", "one_more_seat", "one_fewer_seat", "exact",
    "one_more_seat_places", "one_fewer_seat_leaves_out",
)  # fmt: skip


def part_name(sheet: str, part: int) -> str:
    """The name of the ``part``-th sheet (from 1) of a table too long for one sheet."""
    if part == 1:
        return sheet
    suffix = f"~{part}"
    return sheet[: _MAX_SHEET_NAME - len(suffix)] + suffix
