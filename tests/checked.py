"""Every allocation a test gets from the database goes through the independent checker."""

from __future__ import annotations

from typing import Any

import psycopg

from daemon.allocator.load import load
from daemon.allocator.problem import Allocation
from daemon.checks.allocation import check_allocation
from daemon.db import sql_text


def assert_valid_allocation(url: str, run_id: str) -> float:
    """Check a COMPLETED run's allocations against its own input; return the recomputed objective."""
    with psycopg.connect(url) as conn:
        inp = load(conn, run_id)
        rows = [
            Allocation(str(w), str(j), r, c)
            for w, j, r, c in conn.execute(sql_text("allocator/allocations"), {"run": run_id})
        ]
        meta: Any = conn.execute("SELECT result_metadata FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    result = check_allocation(inp, rows)
    assert result.ok, result.violations
    objective = float(meta[0]["objective"])
    assert abs(result.objective - objective) <= 1e-6 * max(1.0, abs(objective)) + 0.01, (result.objective, objective)
    return result.objective
