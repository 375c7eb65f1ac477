"""Load a planner run from PostgreSQL into a plain ``PlannerInput``.

Values the model's types cannot hold are refused here, naming the column and the row: NULL
entries or more than one dimension in an array column, an infinite or NaN ``max_seconds``
(migration 0008 has the database refuse them too, but rows may predate it).

An empty ``parent_specialty`` is inferred from the position's name (``infer``); one the
keyword table cannot settle stays empty and counts for no specialty, as before."""

from __future__ import annotations

import math
from typing import Any

import psycopg

from daemon.db import sql_text
from daemon.planner.data import PlannerInput, Position
from daemon.planner.infer import infer, keyword_table
from daemon.planner.pathways import from_json
from daemon.solving import MAX_SECONDS, BadInput

MAX_LISTED = 10  # positions named in one message before "and N more" (as problem.py)

# The array columns of a position, as positions.sql returns them (index in its row).
_POSITION_ARRAYS = (("experience_categories", 4), ("capacity_by_term", 11), ("cohorts", 12), ("tags", 14))


def load(conn: psycopg.Connection[Any], run_id: str) -> PlannerInput:
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = conn.execute(sql_text("planner/run"), {"run": run_id}).fetchone()
        if row is None:
            raise BadInput(f"planner run {run_id} does not exist")
        (allocation_run, n_lines, constraints, state, cohort, terms, leave, max_seconds, partial, exists, raw) = row
        if not exists:
            raise BadInput(f"allocation run {allocation_run} does not exist (allocation_planner_runs.allocation_run)")
        params = {"allocation_run": allocation_run}
        rows = conn.execute(sql_text("planner/positions"), params).fetchall()
        errors = _run_errors(run_id, terms=terms, constraints=constraints, max_seconds=max_seconds)
        errors += _position_errors(rows)
        if errors:
            raise BadInput("; ".join(errors))
        # Before validation, as the workbook reader does: the rules see the inferred specialties.
        positions, inference = infer(tuple(_position(r) for r in rows), keyword_table())
        pathways = from_json(raw, f"allocation_planner_runs.pathways of run {run_id}")
        affinity = tuple((a, b, int(w)) for a, b, w in conn.execute(sql_text("planner/affinity")))
    return PlannerInput(
        run_id=run_id,
        allocation_run_id=str(allocation_run),
        n_job_lines=int(n_lines),
        positions=positions,
        constraints=tuple(constraints),
        state=state,
        cohort=cohort,
        term_structure=tuple(terms),
        leave_weeks=int(leave),
        max_seconds=float(max_seconds),
        allow_partial_filling=bool(partial),
        specialty_affinity=affinity,
        inference=inference,
        pathways=pathways,
    )


def _shown(value: Any) -> str:
    """A value as PostgreSQL prints it: {26,NULL,26}, {{26,26}}, Infinity, NaN."""
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "{" + ",".join(map(_shown, value)) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    return str(value)


def _array_fault(value: list[Any] | None) -> str | None:
    if value is not None and any(isinstance(v, list) for v in value):
        return "must be a one-dimensional array"
    if value is not None and any(v is None for v in value):
        return "NULL entries are not allowed"
    return None


def _run_errors(run_id: str, *, terms: list[Any], constraints: list[Any], max_seconds: float) -> list[str]:
    errors = [
        f"allocation_planner_runs.{column} of run {run_id}: {fault}, got {_shown(value)}"
        for column, value in (("term_structure", terms), ("constraints", constraints))
        if (fault := _array_fault(value))
    ]
    if not max_seconds <= MAX_SECONDS:  # the daemon's deadline is load time + max_seconds (NaN too)
        errors.append(
            f"allocation_planner_runs.max_seconds of run {run_id}: must be a finite number of seconds, "
            f"at most {MAX_SECONDS:g}, got {_shown(max_seconds)}"
        )
    return errors


def _position_errors(rows: list[tuple[Any, ...]]) -> list[str]:
    errors = []
    for column, at in _POSITION_ARRAYS:
        by_fault: dict[str, list[str]] = {}
        for r in rows:
            if fault := _array_fault(r[at]):
                by_fault.setdefault(fault, []).append(f"{r[1]} ({r[0]}) {_shown(r[at])}")
        errors += [f"positions.{column}: {fault}: {_listing(named)}" for fault, named in by_fault.items()]
    return errors


def _listing(rows: list[str]) -> str:
    more = len(rows) - MAX_LISTED
    return ", ".join(rows[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _position(r: tuple[Any, ...]) -> Position:
    (
        pid,
        name,
        parent,
        sub,
        cats,
        service,
        nights,
        rural,
        non_clinical,
        team,
        cap,
        by_term,
        cohorts,
        excl,
        tags,
        six,
    ) = r
    return Position(
        id=str(pid),
        name=name,
        parent_specialty=parent,
        subspecialty=sub,
        experience_categories=tuple(cats),
        is_service_term=service,
        is_nights=nights,
        is_rural=rural,
        is_non_clinical=non_clinical,
        is_team_based=team,
        capacity=int(cap),
        capacity_by_term=None if by_term is None else tuple(by_term),
        cohorts=None if cohorts is None else tuple(cohorts),
        excludable=excl,
        tags=tuple(tags),
        six_month_approved=six,
    )
