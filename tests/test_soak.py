"""Three daemons serve 200 mixed runs through every fault at once: a kill -9, a daemon frozen
past its lease, killed solver processes and a database restart. Nothing may be lost, nothing
done twice, nothing half-written.
"""

from __future__ import annotations

import collections
import json
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.planner.hospitals import vic_hospital
from daemon.synthetic import seed_allocation, seed_positions
from tests.checked import assert_valid_allocation
from tests.daemons import FINAL, DaemonProcess, solver_processes, wait_for
from tests.pg import Server
from tests.slow_kind import SLEEP_KEY

ALLOCATOR_RUNS = 160
PLANNER_RUNS = 40
PLANNER_LINES = 4


def final_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM receptord_runs WHERE status = ANY(%s)", (list(FINAL),)).fetchone()
    assert row is not None
    return int(row[0])


def test_200_mixed_runs_through_every_fault_lose_nothing_and_do_nothing_twice(
    pg_server: Server, db_url: str, tmp_path: Path
) -> None:
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    with psycopg.connect(db_url, autocommit=True) as conn:
        hospital = seed_allocation(conn, workers=10, lines=5, capacity=2, seed=21)
        services = [
            seed_positions(conn, vic_hospital(), name=f"service {i}", seed=100 + i) for i in range(PLANNER_RUNS)
        ]
        with conn.transaction():
            allocator = [
                str(r[0])
                for r in conn.execute(
                    "INSERT INTO allocator_py_runs (allocation_run_id, config, max_attempts) "
                    "SELECT %s, %s, 5 FROM generate_series(1, %s) RETURNING id",
                    (hospital.allocation_run, Jsonb({SLEEP_KEY: 0.4}), ALLOCATOR_RUNS),
                )
            ]
            planner = [
                str(r[0])
                for r in conn.execute(
                    "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, max_seconds, max_attempts) "
                    "SELECT s, %s, 20, 5 FROM unnest(%s::uuid[]) AS s RETURNING id",
                    (PLANNER_LINES, services),
                )
            ]
    daemons = [DaemonProcess(db_url, slow=True, name=f"d{i}", log_dir=tmp_path) for i in range(3)]
    faults: list[str] = []
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            wait_for(lambda: final_count(conn) >= 20, 120, "the first runs to finish")
            daemons[0].kill9()
            daemons.append(DaemonProcess(db_url, slow=True, name="d0-restarted", log_dir=tmp_path))
            faults.append(f"kill -9 d0 at {final_count(conn)} finished")
            daemons[1].signal(signal.SIGSTOP)
            time.sleep(4)  # past the 3 s lease
            daemons[1].signal(signal.SIGCONT)
            faults.append(f"SIGSTOP d1 past its lease, then SIGCONT, at {final_count(conn)} finished")
            victims = solver_processes(daemons[2])
            for p in victims:
                p.kill()
            psutil.wait_procs(victims, timeout=10)
            faults.append(f"killed d2's {len(victims)} solver processes at {final_count(conn)} finished")
        pg_server.embedded.restart()
        with psycopg.connect(db_url, autocommit=True) as conn:
            faults.append(f"database restart at {final_count(conn)} finished")
            wait_for(lambda: final_count(conn) == ALLOCATOR_RUNS + PLANNER_RUNS, 300, "every run to finish")
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.signal(signal.SIGCONT)
                assert d.stop() == 0, d.log()[-3000:]

    with psycopg.connect(db_url, autocommit=True) as conn:
        statuses = collections.Counter(s for (s,) in conn.execute("SELECT status FROM receptord_runs"))
        completions: dict[Any, int] = dict(
            conn.execute("SELECT run_id, count(*) FROM run_events WHERE event = 'completed' GROUP BY run_id").fetchall()
        )
        claims = collections.Counter(
            n for (n,) in conn.execute("SELECT count(*) FROM run_events WHERE event = 'claimed' GROUP BY run_id")
        )
        allocations: dict[Any, int] = dict(
            conn.execute("SELECT run_id, count(*) FROM allocator_py_allocations GROUP BY run_id").fetchall()
        )
        lines: dict[Any, int] = dict(
            conn.execute(
                "SELECT planner_run, count(*) FROM job_lines WHERE planner_run IS NOT NULL GROUP BY planner_run"
            ).fetchall()
        )
        orphans = conn.execute(
            "SELECT count(*) FROM rotations r LEFT JOIN job_lines j ON j.id = r.job_line WHERE j.id IS NULL"
        ).fetchone()
    print(json.dumps({"faults": faults, "statuses": statuses, "runs by claims": claims}, sort_keys=True))
    # Nothing lost: every run finished, and finished well (the faults are not the runs' fault).
    assert statuses == {"COMPLETED": ALLOCATOR_RUNS + PLANNER_RUNS}
    # Nothing done twice, nothing half-written: one completion and one whole result per run.
    assert len(completions) == ALLOCATOR_RUNS + PLANNER_RUNS and set(completions.values()) == {1}
    assert {str(k): v for k, v in allocations.items()} == {run: len(hospital.workers) for run in allocator}
    assert {str(k): v for k, v in lines.items()} == dict.fromkeys(planner, PLANNER_LINES)
    assert orphans == (0,)
    for run in allocator[:: ALLOCATOR_RUNS // 20]:
        assert_valid_allocation(db_url, run)
