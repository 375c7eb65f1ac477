"""Write an allocator result inside the run's finishing transaction: the allocations, their
explanations and seat values, by COPY; then, for an exclusive run (a round), the rounds
invariant across the rounds that count."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from daemon.allocator.problem import AllocatorResult
from daemon.db import sql_text
from daemon.solving import BadInput, SolveOutcome

BREACHES_NAMED = 20


def write(conn: psycopg.Connection[Any], run_id: str, outcome: SolveOutcome) -> None:
    result: AllocatorResult = outcome.payload
    with conn.cursor() as cur:
        with cur.copy(sql_text("allocator/write")) as copy:
            for a in result.allocations:
                copy.write_row((run_id, a.worker, a.job_line, a.worker_rank, a.dissatisfaction))
        with cur.copy(sql_text("allocator/write_explanations")) as copy:
            for e in result.explanations:
                copy.write_row((run_id, e.worker, e.job_line, e.worker_rank, e.reason, e.delta, Jsonb(e.detail)))
        with cur.copy(sql_text("allocator/write_seat_values")) as copy:
            for s in result.seat_values:
                copy.write_row(
                    (
                        run_id,
                        s.job_line,
                        s.one_more_seat,
                        s.one_fewer_seat,
                        s.exact,
                        s.one_more_seat_places,
                        s.one_fewer_seat_leaves_out,
                    )
                )
    # Whatever the model was given, the database has the last word: a round that would allocate
    # a worker twice or overfill a line or a supervisor across the rounds fails the run, and
    # the finishing transaction rolls back (runner._finish), so nothing of it is written.
    breaches = [str(r[0]) for r in conn.execute(sql_text("allocator/rounds_invariant"), {"run": run_id})]
    if breaches:
        more = "; and more" if len(breaches) > BREACHES_NAMED else ""
        raise BadInput("the rounds of this allocation run would break: " + "; ".join(breaches[:BREACHES_NAMED]) + more)
