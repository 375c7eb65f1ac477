"""Three daemons serve 200 mixed runs through every fault: a kill -9, a daemon frozen past its
lease and a database restart while runs are in flight, then solver processes killed while
provably idle. Nothing may be lost, nothing done twice, nothing half-written, and every fault
must be seen to have hit (a fault that missed proves nothing).
"""

from __future__ import annotations

import collections
import json
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.planner.hospitals import vic_hospital
from daemon.synthetic import Hospital, seed_allocation, seed_positions
from tests.checked import assert_valid_allocation
from tests.daemons import FINAL, DaemonProcess, solver_processes, wait_for
from tests.pg import Server
from tests.slow_kind import SLEEP_KEY

ALLOCATOR_RUNS = 160
PLANNER_RUNS = 40
PLANNER_LINES = 4
# The faults that need runs in flight hit the first wave. The second is enqueued after a quiet
# moment in which d2's solver processes were killed: only then are they provably idle.
SECOND_WAVE_ALLOCATOR = 30
SECOND_WAVE_PLANNER = 10
FROZEN_SECONDS = 6  # SIGSTOP this long: twice the 3 s lease, so the reaper surely takes its runs
SLEEP_SECONDS = 0.4  # each allocator solve...
LONG_SLEEP_SECONDS = 3.0  # ... but every LONG_EVERY-th of the first wave, so the database
LONG_EVERY = 10  # restart can be timed to hit a run with seconds of its solve still to go
# The exact events the daemon logs (daemon/loop.py, daemon/lease.py, daemon/runner.py).
IDLE_SOLVER_REPLACED = "a solver process died while idle; replacing it"
LEASE_LOST = {"lease lost (cancelled or reclaimed)", "lease lost before commit; result discarded"}


def final_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM receptord_runs WHERE status = ANY(%s)", (list(FINAL),)).fetchone()
    assert row is not None
    return int(row[0])


def one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def generating(conn: psycopg.Connection[Any]) -> int:
    return int(one(conn, "SELECT count(*) FROM receptord_runs WHERE status = 'GENERATING'"))


def held_by(conn: psycopg.Connection[Any], name: str) -> int:
    return int(
        one(conn, "SELECT count(*) FROM receptord_runs WHERE status = 'GENERATING' AND claimed_by = %s", (name,))
    )


def fresh_long_runs(conn: psycopg.Connection[Any], runs: list[str]) -> int:
    return int(
        one(
            conn,
            "SELECT count(*) FROM allocator_py_runs WHERE id = ANY(%s::uuid[]) AND status = 'GENERATING' "
            "AND claimed_at > now() - interval '1 second'",
            (runs,),
        )
    )


def log_events(d: DaemonProcess) -> list[dict[str, Any]]:
    found = []
    for line in d.log().splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:  # a line being written as we read
                continue
    return found


def enqueue_wave(
    conn: psycopg.Connection[Any], hospital: Hospital, services: list[str], sleeps: list[float]
) -> tuple[list[str], list[str]]:
    with conn.transaction():
        allocator = [  # one run per sleep, in order
            str(
                one(
                    conn,
                    "INSERT INTO allocator_py_runs (allocation_run_id, config, max_attempts) "
                    "VALUES (%s, %s, 5) RETURNING id",
                    (hospital.allocation_run, Jsonb({SLEEP_KEY: sleep})),
                )
            )
            for sleep in sleeps
        ]
        planner = [
            str(r[0])
            for r in conn.execute(
                "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, max_seconds, max_attempts) "
                "SELECT s, %s, 20, 5 FROM unnest(%s::uuid[]) AS s RETURNING id",
                (PLANNER_LINES, services),
            )
        ]
    return allocator, planner


def announced_idle_since(conn: psycopg.Connection[Any], name: str, since: datetime) -> bool:
    """The daemon itself said, after ``since``, that it has no run in flight: every slot free."""
    row = conn.execute(
        "SELECT in_flight = 0 AND state = 'running' AND heartbeat_at > %s FROM receptord_daemons WHERE name = %s",
        (since, name),
    ).fetchone()
    return bool(row and row[0])


def test_200_mixed_runs_through_every_fault_lose_nothing_and_do_nothing_twice(
    pg_server: Server, db_url: str, tmp_path: Path
) -> None:
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    first_planner = PLANNER_RUNS - SECOND_WAVE_PLANNER
    with psycopg.connect(db_url, autocommit=True) as conn:
        hospital = seed_allocation(conn, workers=10, lines=5, capacity=2, seed=21)
        services = [
            seed_positions(conn, vic_hospital(), name=f"service {i}", seed=100 + i) for i in range(PLANNER_RUNS)
        ]
        sleeps = [
            LONG_SLEEP_SECONDS if i % LONG_EVERY == 0 else SLEEP_SECONDS
            for i in range(1, ALLOCATOR_RUNS - SECOND_WAVE_ALLOCATOR + 1)
        ]
        allocator, planner = enqueue_wave(conn, hospital, services[:first_planner], sleeps)
    long_runs = [run for run, sleep in zip(allocator, sleeps, strict=True) if sleep == LONG_SLEEP_SECONDS]
    first_wave = len(allocator) + len(planner)
    daemons = [DaemonProcess(db_url, slow=True, name=f"d{i}", log_dir=tmp_path) for i in range(3)]
    faults: dict[str, Any] = {}
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            wait_for(lambda: final_count(conn) >= 20, 120, "the first runs to finish")
            # Each victim is hit while it holds runs: both its slots busy.
            wait_for(lambda: held_by(conn, "d0") == 2, 60, "d0 to hold two runs")
            faults["kill -9 d0 at finished"] = final_count(conn)
            daemons[0].kill9()
            daemons.append(DaemonProcess(db_url, slow=True, name="d0-restarted", log_dir=tmp_path))
            wait_for(lambda: held_by(conn, "d1") == 2, 60, "d1 to hold two runs")
            faults["SIGSTOP d1 at finished"] = final_count(conn)
            daemons[1].signal(signal.SIGSTOP)
            time.sleep(FROZEN_SECONDS)
            daemons[1].signal(signal.SIGCONT)
            # The restart hits a long solve claimed under a second ago: seconds of it to go.
            wait_for(lambda: fresh_long_runs(conn, long_runs) > 0, 120, "a long solve to start")
            before_restart = one(conn, "SELECT clock_timestamp()")
            faults["database restart at finished"] = final_count(conn)
            faults["database restart with generating"] = generating(conn)
        pg_server.embedded.restart()
        with psycopg.connect(db_url, autocommit=True) as conn:
            after_restart = one(conn, "SELECT clock_timestamp()")
            wait_for(lambda: final_count(conn) == first_wave, 300, "the first wave to finish")
            # Quiet: nothing queued or running, and d2 says so itself (in_flight is its count of
            # runner threads, announced every 5 s): its solver processes are idle, provably.
            quiet = one(conn, "SELECT clock_timestamp()")
            wait_for(lambda: announced_idle_since(conn, "d2", quiet), 30, "d2 to announce it has nothing in flight")
            victims = solver_processes(daemons[2])
            assert len(victims) == 2, victims  # the default pool: two solver processes
            for p in victims:  # as the OOM killer would, while they wait for work
                p.kill()
            psutil.wait_procs(victims, timeout=10)
            faults["idle solvers killed"] = len(victims)
            second = enqueue_wave(conn, hospital, services[first_planner:], [SLEEP_SECONDS] * SECOND_WAVE_ALLOCATOR)
            allocator += second[0]
            planner += second[1]
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
        claims_per_run: dict[str, int] = {
            str(run): n
            for run, n in conn.execute(
                "SELECT run_id, count(*) FROM run_events WHERE event = 'claimed' GROUP BY run_id"
            )
        }
        claims = collections.Counter(claims_per_run.values())
        attempts: dict[str, int] = {str(run): n for run, n in conn.execute("SELECT id, attempts FROM receptord_runs")}
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
        # Runs handed back by the reaper, by the daemon that had held them.
        reaped = collections.Counter(
            who
            for (who,) in conn.execute(
                "SELECT detail->>'claimed_by' FROM run_events "
                "WHERE event = 'requeued' AND detail->>'last_error' LIKE 'lease expired:%%'"
            )
        )
        # Runs in flight across the restart: claimed before it, their next event after it.
        across_restart = one(
            conn,
            "SELECT count(*) FROM run_events c WHERE c.event = 'claimed' AND c.at < %(before)s "
            "AND (SELECT min(n.at) FROM run_events n WHERE n.run_id = c.run_id AND n.id > c.id) > %(after)s",
            {"before": before_restart, "after": after_restart},
        )
        crashed = one(conn, "SELECT count(*) FROM run_events WHERE detail->>'last_error' LIKE '%%solver process%%'")
    d2_events = log_events(daemons[2])
    replaced = {e.get("pid") for e in d2_events if e.get("event") == IDLE_SOLVER_REPLACED}
    lease_lost = [e for e in log_events(daemons[1]) if e.get("event") in LEASE_LOST]
    faults |= {
        "runs reaped from d0 (kill -9)": reaped["d0"],
        "runs reaped from d1 (SIGSTOP)": reaped["d1"],
        "d1 lease-lost log lines": len(lease_lost),
        "runs in flight across the restart": across_restart,
        "idle solvers replaced": len(replaced & {p.pid for p in victims}),
    }
    print(
        "\nsoak: "
        + json.dumps({"statuses": statuses, "runs by number of claims": claims, "faults": faults}, sort_keys=True)
    )
    # Nothing lost: every run finished, and finished well (the faults are not the runs' fault).
    assert statuses == {"COMPLETED": ALLOCATOR_RUNS + PLANNER_RUNS}
    # Nothing done twice, nothing half-written: one completion and one whole result per run.
    assert len(completions) == ALLOCATOR_RUNS + PLANNER_RUNS and set(completions.values()) == {1}
    assert {str(k): v for k, v in allocations.items()} == {run: len(hospital.workers) for run in allocator}
    assert {str(k): v for k, v in lines.items()} == dict.fromkeys(planner, PLANNER_LINES)
    assert orphans == (0,)
    for run in allocator[:: ALLOCATOR_RUNS // 20]:
        assert_valid_allocation(db_url, run)

    # Every fault hit. kill -9 and SIGSTOP: runs the victim held were reaped and run again.
    assert max(claims) >= 2, claims
    assert reaped["d0"] >= 1, reaped
    assert reaped["d1"] >= 1, reaped
    # The frozen daemon, thawed, found its leases gone and wrote nothing (the fence).
    assert lease_lost, daemons[1].log()[-3000:]
    # The restart hit runs in flight, which then finished with no new claim.
    assert faults["database restart with generating"] >= 1 and across_restart >= 1, faults
    # Both idle solver processes were seen dead and replaced before any run was handed them...
    assert replaced >= {p.pid for p in victims}, (replaced, daemons[2].log()[-3000:])
    # ... and no run was charged for it: nothing saw a solver crash, and every run of the
    # second wave (no other fault) was claimed once, on its first attempt.
    assert crashed == 0
    second_wave = allocator[-SECOND_WAVE_ALLOCATOR:] + planner[-SECOND_WAVE_PLANNER:]
    assert {run: (claims_per_run[run], attempts[run]) for run in second_wave} == dict.fromkeys(second_wave, (1, 1))
