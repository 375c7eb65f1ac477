"""A diagnosis through the database: a real daemon writes it to ``last_error`` and
``result_metadata`` (as JSON, bounded) with the INFEASIBLE status, in one transaction."""

from __future__ import annotations

from pathlib import Path

import psycopg

from daemon.synthetic import seed_positions
from tests.daemons import DaemonProcess, wait_final
from tests.planner.factory import pos


def test_an_infeasible_planner_run_names_its_conflict_in_the_database(db_url: str, tmp_path: Path) -> None:
    positions = [
        pos("med", "Medicine"),
        pos("sur", "Surgery", capacity_by_term=(0, 0, 0, 0, 1)),
        pos("ed", "Emergency Medicine", capacity_by_term=(0, 0, 0, 0, 1)),
        *(pos(f"g{k}") for k in range(4)),
    ]
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            allocation_run = seed_positions(conn, positions, name="ED and Surgery in term 5 only")
            row = conn.execute(
                "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, "
                "allow_partial_filling, max_seconds) VALUES (%s, 1, %s, false, 10) RETURNING id",
                (allocation_run, ["VIC_PGY1"]),
            ).fetchone()
            assert row is not None
            assert wait_final(conn, str(row[0]), timeout=60) == "INFEASIBLE", d.log()[-3000:]
            error, meta = conn.execute(
                "SELECT last_error, result_metadata FROM allocation_planner_runs WHERE id = %s", (row[0],)
            ).fetchone() or (None, None)
    finally:
        assert d.stop() == 0, d.log()
    assert "VIC_PGY1: a Surgery term on every line" in error
    assert "VIC_PGY1: an Emergency Medicine term on every line" in error
    assert "are both open only in term 5" in error
    conflict = meta["conflict"]
    assert conflict["minimal"] == "proven"
    assert [r["without_it"] for r in conflict["rules"]] == ["builds", "builds"]
    assert meta["diagnosis"][-1].startswith("with one more seat in ")
