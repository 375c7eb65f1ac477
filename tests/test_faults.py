"""Faults survived: real daemon processes, a real server, and the final state checked.

Each test asserts nothing is lost (every run ends final or back in the queue), nothing is done
twice (one claim per attempt, one set of allocations), and nothing is half-written.
"""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.synthetic import Hospital, seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import DaemonProcess, allocations, enqueue, events, status, wait_final, wait_for
from tests.pg import Server
from tests.slow_kind import CRASH_KEY, SLEEP_KEY


@pytest.fixture
def hospital(conn: psycopg.Connection) -> Hospital:
    return seed_allocation(conn, workers=10, lines=5, capacity=2, seed=11)


def attempts(conn: psycopg.Connection, run_id: str) -> int:
    row = conn.execute("SELECT attempts FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_kill_9_mid_solve_is_recovered_by_another_daemon_exactly_once(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    a = DaemonProcess(db_url, slow=True, name="victim", log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 4}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    children = psutil.Process(a.proc.pid).children(recursive=True)
    assert children, "the daemon should have solver processes"
    a.kill9()
    # No orphan keeps solving: solver processes die with the daemon.
    wait_for(lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children), 15, "orphans")
    b = DaemonProcess(db_url, slow=True, name="rescuer", log_dir=tmp_path)
    try:
        assert wait_final(conn, run_id, timeout=60) == "COMPLETED", b.log()
    finally:
        assert b.stop() == 0
    assert events(conn, run_id) == ["enqueued", "claimed", "requeued", "claimed", "completed"]
    assert attempts(conn, run_id) == 2
    assert allocations(conn, run_id) == len(hospital.workers)
    assert_valid_allocation(db_url, run_id)
    detail = conn.execute(
        "SELECT detail->>'claimed_by', detail->>'last_error' FROM run_events WHERE run_id = %s AND event = 'requeued'",
        (run_id,),
    ).fetchone()
    assert detail is not None
    assert detail[0] == "victim" and "lease expired" in detail[1]


def test_a_stalled_daemon_that_lost_its_lease_writes_nothing(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """The classic double-run: a daemon frozen past its lease (GC pause, partition, SIGSTOP)
    wakes up with a finished solve after another daemon has redone the run."""
    a = DaemonProcess(db_url, slow=True, name="stalled", log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 2}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    a.signal(signal.SIGSTOP)  # its solver process keeps going and finishes meanwhile
    b = DaemonProcess(db_url, slow=True, name="healthy", log_dir=tmp_path)
    try:
        assert wait_final(conn, run_id, timeout=60) == "COMPLETED", b.log()
        a.signal(signal.SIGCONT)
        wait_for(lambda: "lease lost" in a.log() or "solve abandoned" in a.log(), 20, "the stale daemon to give up")
    finally:
        a.signal(signal.SIGCONT)
        assert a.stop() == 0, a.log()
        assert b.stop() == 0, b.log()
    row = conn.execute("SELECT claimed_by, attempts FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row == ("healthy", 2)
    assert allocations(conn, run_id) == len(hospital.workers)
    assert_valid_allocation(db_url, run_id)
    assert events(conn, run_id).count("completed") == 1


def test_a_crashing_solver_process_is_retried_then_failed_and_others_are_unaffected(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, slow=True, log_dir=tmp_path)
    try:
        poison = enqueue(conn, hospital.allocation_run, config=Jsonb({CRASH_KEY: True}))
        healthy = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 1}))
        assert wait_final(conn, poison) == "FAILED", d.log()
        assert wait_final(conn, healthy) == "COMPLETED", d.log()
        # The rebuilt slots still solve.
        after = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, after) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    row = conn.execute("SELECT attempts, last_error FROM allocator_py_runs WHERE id = %s", (poison,)).fetchone()
    assert row is not None
    assert row[0] == 3
    assert "solver process crashed" in row[1] and "gave up after 3 attempts" in row[1]
    assert events(conn, poison).count("claimed") == 3
    assert allocations(conn, poison) == 0
    assert allocations(conn, healthy) == allocations(conn, after) == len(hospital.workers)


def test_a_failure_while_writing_results_leaves_nothing_of_them(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    # A real constraint failure on the last allocation row, inside the finishing transaction.
    last_worker = max(hospital.workers)
    conn.execute(
        f"""
        CREATE FUNCTION refuse_last() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.worker_mapping = '{last_worker}' THEN
                RAISE check_violation USING MESSAGE = 'injected failure on the last allocation';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_last BEFORE INSERT ON allocator_py_allocations
            FOR EACH ROW EXECUTE FUNCTION refuse_last();
        """
    )
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, run_id) == "FAILED", d.log()
    finally:
        assert d.stop() == 0
    row = conn.execute("SELECT last_error, completed_at IS NOT NULL FROM allocator_py_runs WHERE id = %s", (run_id,))
    error, completed = row.fetchone()  # type: ignore[misc]
    assert "could not write the results" in error and "injected failure" in error
    assert completed
    assert allocations(conn, run_id) == 0


def test_database_restart_while_idle_and_while_solving(
    pg_server: Server, conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    # LISTEN's return is read from the log: the claim below proves nothing about it, as the
    # reaper's ticks (lease/4 = 5 s apart) also look for runs.
    d = DaemonProcess(db_url, "--poll-seconds", "600", "--lease-seconds", "20", slow=True, log_dir=tmp_path)
    try:
        wait_for(lambda: '"listening"' in d.log(), 30, "LISTEN")
        conn.close()
        pg_server.embedded.restart()  # idle
        wait_for(lambda: d.log().count('"listening"') >= 2, 60, "LISTEN to be re-established")
        with psycopg.connect(db_url, autocommit=True) as c2:
            run_id = enqueue(c2, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 4}))
            wait_for(lambda: status(c2, run_id) == "GENERATING", 30, "the run to be claimed after a restart")
        pg_server.embedded.restart()  # while solving: the lease survives the outage
        with psycopg.connect(db_url, autocommit=True) as c3:
            assert wait_final(c3, run_id, timeout=60) == "COMPLETED", d.log()
            assert attempts(c3, run_id) == 1
            assert allocations(c3, run_id) == len(hospital.workers)
            assert events(c3, run_id) == ["enqueued", "claimed", "completed"]
    finally:
        assert d.stop() == 0, d.log()
