"""Weak stability through a real daemon and PostgreSQL (issue 14): the rotation method and the
HiGHS MIP complete, proven, and every allocation passes the independent checker's
blocking-pair scan.

The daemon solves in its pool's child process, which starts HiGHS in a child of its own
(``daemon.allocator.highs_process``): this is the test that the whole chain works as deployed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from daemon.synthetic import seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import DaemonProcess, enqueue, wait_final


def _meta(conn: psycopg.Connection[Any], run_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT result_metadata FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return dict(row[0])


def test_stable_runs_through_a_daemon(db_url: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    # Every worker ranks every line and each line's supervisor ranks every worker, strictly:
    # the rotation method. Workers ranking 3 of 8 lines tie the rest: the MIP.
    strict = seed_allocation(conn, workers=12, lines=6, capacity=2, seed=41, supervisors=6)
    tied = seed_allocation(conn, workers=12, lines=8, capacity=2, ranked=3, seed=42, supervisors=8)
    runs = {
        "stable_rotations": enqueue(conn, strict.allocation_run, config=Jsonb({"stability": "weak"})),
        "highs_mip": enqueue(conn, tied.allocation_run, config=Jsonb({"stability": "weak"})),
    }
    daemon = DaemonProcess(db_url, name="stable", log_dir=tmp_path)
    try:
        for run_id in runs.values():
            assert wait_final(conn, run_id, timeout=120) == "COMPLETED", daemon.log_path.read_text()[-3000:]
    finally:
        daemon.stop()
    for method, run_id in runs.items():
        meta = _meta(conn, run_id)
        assert meta["method"] == method and meta["status"] == "OPTIMAL", meta
        assert meta["best_bound"] <= meta["objective"] + 1e-6
        assert_valid_allocation(db_url, run_id)  # includes the blocking-pair scan
