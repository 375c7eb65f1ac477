"""Write a planner result inside the run's finishing transaction: snapshot the lines an
earlier planner run generated for the allocation run, replace them, add the rotations.

Writers of one allocation run's lines take turns (an advisory lock on the allocation run,
sql/planner/lock_allocation_run.sql documents its key), so the second of two planner runs
finishing together snapshots and replaces the first one's lines instead of adding to them.
The lines to replace are locked before the in-use check (sql/planner/lock_generated.sql), so
no preference or allocation can attach to them between the check and the delete.
"""

from __future__ import annotations

from typing import Any

import psycopg

from daemon.db import sql_text
from daemon.planner.result import GeneratedLine
from daemon.solving import BadInput, SolveOutcome


def write(conn: psycopg.Connection[Any], run_id: str, outcome: SolveOutcome) -> None:
    row = conn.execute(sql_text("planner/run"), {"run": run_id}).fetchone()
    assert row is not None
    params = {"allocation_run": row[0], "run": run_id}
    # Separate statements, in this order: each later one must see what the previous holder of
    # the lock committed (READ COMMITTED: a new snapshot per statement).
    locked = conn.execute(sql_text("planner/lock_allocation_run"), params).fetchone()
    assert locked is not None
    isolation = locked[0]
    if isolation != "read committed":
        raise BadInput(
            f"the daemon's transactions run at {isolation} isolation; writing job lines needs read committed "
            "(unset default_transaction_isolation for the daemon's role or database)"
        )
    conn.execute(sql_text("planner/lock_generated"), params)
    in_use = conn.execute(sql_text("planner/generated_in_use"), params).fetchall()
    if in_use:
        listed = ", ".join(f"{name} ({p} preferences, {a} allocations)" for name, p, a in in_use)
        raise BadInput(
            "the job lines generated earlier for this allocation run are already in use, and replacing "
            f"them would delete that work: {listed}. Remove those preferences and allocations first, "
            "or plan into a new allocation run"
        )
    conn.execute(sql_text("planner/snapshot"), params)
    conn.execute(sql_text("planner/delete_generated"), params)
    lines: tuple[GeneratedLine, ...] = outcome.payload
    ids = [
        conn.execute(
            sql_text("planner/insert_line"),
            {**params, "name": ln.name, "sort_order": ln.sort_order, "pathway": ln.pathway},
        ).fetchone()[0]  # type: ignore[index]
        for ln in lines
    ]
    with conn.cursor() as cur, cur.copy(sql_text("planner/insert_rotations")) as copy:
        for line_id, line in zip(ids, lines, strict=True):
            for r in line.rotations:
                copy.write_row((row[0], line_id, r.position_id, r.term_index, r.start_week, r.length_weeks, r.kind))
