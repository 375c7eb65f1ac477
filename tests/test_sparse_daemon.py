"""An allocator run on the sparse hub path, end to end: seeded in PostgreSQL, claimed and
completed by a real daemon whose dense-path threshold (RECEPTORD_DENSE_MAX_PAIRS) this run
exceeds, its rows checked by the independent checker and its objective compared with the
dense model's on the same loaded input."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from daemon.allocator import sparse
from daemon.allocator.load import load
from daemon.allocator.problem import Allocation
from daemon.allocator.solve import solve
from daemon.checks.allocation import check_allocation
from daemon.settings import DENSE_MAX_PAIRS_ENV
from daemon.solving import SolveContext
from daemon.synthetic import seed_allocation
from tests.daemons import DaemonProcess, enqueue, wait_final

WORKERS, LINES = 300, 60


def test_a_run_past_the_threshold_is_solved_exactly_on_the_hub_path(
    conn: psycopg.Connection, db_url: str, tmp_path: Path
) -> None:
    h = seed_allocation(conn, workers=WORKERS, lines=LINES, capacity=6, ranked=2, seed=14, supervisors=LINES)
    run = h.allocation_run
    # Ties (1,1), supervisors who rank only their first 2 workers, a must-have line,
    # a line with fewer seats, a line closed to two workers (explicit workers), a global, a
    # negative and a positive pair weighting (another explicit worker).
    # A third of the workers all want the same two lines (8 seats): most of them end on a line
    # no side ranked, through the hub.
    popular = h.workers[: WORKERS // 3]
    conn.execute("DELETE FROM preference_worker_job_lines WHERE worker_mapping = ANY(%s::uuid[])", (popular,))
    with (
        conn.cursor() as cur,
        cur.copy("COPY preference_worker_job_lines (worker_mapping, job_line, rank) FROM STDIN") as copy,
    ):
        for w in popular:
            copy.write_row((w, h.lines[0], 1))
            copy.write_row((w, h.lines[1], 2))
    conn.execute("UPDATE preference_worker_job_lines SET rank = ceil(rank / 2.0) WHERE job_line = ANY(%s)", (h.lines,))
    conn.execute(
        "DELETE FROM preference_preferencer_workers p USING allocation_run_preferencers s "
        "WHERE p.preferencer = s.id AND s.allocation_run = %s AND p.rank > 2",
        (run,),
    )
    conn.execute("UPDATE job_lines SET must_have_workers = true WHERE id = %s", (h.lines[0],))
    conn.execute("UPDATE job_lines SET max_n_workers = 2 WHERE id = %s", (h.lines[1],))
    conn.execute(
        "INSERT INTO job_line_eligibility (job_line, excluded_worker_mapping_ids) VALUES (%s, %s)",
        (h.lines[2], h.workers[:2]),
    )
    sup = conn.execute(
        "SELECT id FROM allocation_run_preferencers WHERE allocation_run = %s LIMIT 1", (run,)
    ).fetchone()
    assert sup is not None
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO allocation_run_preferencer_weightings (preferencer, worker_mapping, job_line, weight) "
            "VALUES (%s, %s, %s, %s)",
            [
                (sup[0], h.workers[3], None, -5),
                (sup[0], h.workers[4], h.lines[5], -40),
                (sup[0], h.workers[5], h.lines[6], 3),
            ],
        )
    d = DaemonProcess(
        db_url, "--solver-processes", "1", log_dir=tmp_path, env={DENSE_MAX_PAIRS_ENV: str(WORKERS * LINES - 1)}
    )
    try:
        run_id = enqueue(conn, run, config=Jsonb({"rank_notation": "dense"}))
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    row = conn.execute("SELECT result_metadata FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    meta = row[0]
    assert meta["method"] == sparse.METHOD and meta["status"] == "OPTIMAL"
    assert meta["via_hub"] > 0  # some workers got a line no side ranked, through the hub
    assert set(meta["seconds"]) == {"load", "solve", "write"}
    rows = [
        Allocation(str(w), str(ln), None if r is None else float(r), float(c))
        for w, ln, r, c in conn.execute(
            "SELECT worker_mapping, job_line, worker_rank, dissatisfaction FROM allocator_py_allocations "
            "WHERE run_id = %s",
            (run_id,),
        )
    ]
    assert len(rows) == WORKERS
    inp = load(conn, run_id)
    check = check_allocation(inp, rows)
    assert check.violations == (), check.violations
    assert abs(check.objective - meta["objective"]) <= 1e-6 * abs(check.objective)
    dense = solve(inp, SolveContext())  # the default threshold: this run takes the dense path
    assert dense.metadata["method"] != sparse.METHOD
    assert abs(dense.metadata["objective"] - meta["objective"]) <= meta["rounding_error_bound"]
