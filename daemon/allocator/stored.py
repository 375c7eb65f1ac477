"""A COMPLETED allocator run's result read back from the database, as the solver returned it:
allocations, explanations and seat values (the export and `receptord explain` read it), and
the names of the qualification tags its explanations name."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors

from daemon.allocator.problem import Allocation, AllocatorResult, Explanation, SeatValue
from daemon.db import sql_text


def read_result(conn: psycopg.Connection[Any], run_id: str) -> AllocatorResult:
    params = {"run": run_id}
    return AllocatorResult(
        allocations=tuple(
            Allocation(str(w), str(j), rank, cost)
            for w, j, rank, cost in conn.execute(sql_text("allocator/allocations"), params)
        ),
        explanations=tuple(
            Explanation(str(w), str(j), rank, reason, delta, detail or {})
            for w, j, rank, reason, delta, detail in conn.execute(sql_text("allocator/explanations"), params)
        ),
        seat_values=tuple(
            SeatValue(str(j), more, fewer, exact, places, leaves_out)
            for j, more, fewer, exact, places, leaves_out in conn.execute(sql_text("allocator/seat_values"), params)
        ),
    )


def tag_names(conn: psycopg.Connection[Any], result: AllocatorResult) -> dict[str, str]:
    """Names of the qualification tags the explanations name ({} when the role may not read
    them, as the daemon's may not)."""
    tags = sorted({str(t) for e in result.explanations for t in e.detail.get("tags") or ()})
    if not tags:
        return {}
    try:
        with conn.transaction():
            return {str(i): n for i, n in conn.execute(sql_text("allocator/tag_names"), {"tags": tags})}
    except errors.InsufficientPrivilege:
        return {}
