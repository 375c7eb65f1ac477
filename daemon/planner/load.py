"""Load a planner run from PostgreSQL into a plain ``PlannerInput``."""

from __future__ import annotations

from typing import Any

import psycopg

from daemon.db import sql_text
from daemon.planner.data import PlannerInput, Position
from daemon.solving import BadInput


def load(conn: psycopg.Connection[Any], run_id: str) -> PlannerInput:
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = conn.execute(sql_text("planner/run"), {"run": run_id}).fetchone()
        if row is None:
            raise BadInput(f"planner run {run_id} does not exist")
        (allocation_run, n_lines, constraints, state, cohort, terms, leave, max_seconds, partial, exists) = row
        if not exists:
            raise BadInput(f"allocation run {allocation_run} does not exist (allocation_planner_runs.allocation_run)")
        params = {"allocation_run": allocation_run}
        positions = tuple(_position(r) for r in conn.execute(sql_text("planner/positions"), params))
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
    )


def _position(r: tuple[Any, ...]) -> Position:
    (pid, name, parent, sub, cats, service, nights, rural, non_clinical, team, cap, by_term, cohorts, excl, tags) = r
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
    )
