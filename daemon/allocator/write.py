"""Write an allocator result: the allocations, by COPY, inside the run's finishing transaction."""

from __future__ import annotations

from typing import Any

import psycopg

from daemon.db import sql_text
from daemon.solving import SolveOutcome


def write(conn: psycopg.Connection[Any], run_id: str, outcome: SolveOutcome) -> None:
    with conn.cursor() as cur, cur.copy(sql_text("allocator/write")) as copy:
        for a in outcome.payload:
            copy.write_row((run_id, a.worker, a.job_line, a.worker_rank, a.dissatisfaction))
