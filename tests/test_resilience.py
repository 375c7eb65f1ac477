"""Ordinary failures that must not knock the daemon over: real daemon processes, a real server.

Each test is one way a daemon used to lose work (a dead idle solver, a slow load, a hung
solve, a revoked grant, a failover to a read-only server, a database outage, SIGTERM in an
outage), and asserts nothing is lost, nothing is done twice and no attempt is burnt for a
fault that was not the run's.
"""

from __future__ import annotations

import itertools
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.synthetic import Hospital, seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import (
    ROOT,
    DaemonProcess,
    SystemdSocket,
    allocations,
    attempts,
    enqueue,
    events,
    fails_then_serves,
    solver_processes,
    status,
    wait_final,
    wait_for,
)
from tests.pg import DAEMON_LOGIN, Server
from tests.slow_kind import BREAK_KEY, CRASH_KEY, HANG_KEY, LOAD_SLEEP_KEY, SLEEP_KEY

ROLE = "receptord_daemon"
# The daemon role's lifecycle grant on the queues (sql/schema/0004_daemon_role.sql).
LIFECYCLE_COLUMNS = (
    "status, claimed_by, claimed_at, heartbeat_at, attempts, progress, last_error, completed_at, result_metadata"
)


@pytest.fixture
def hospital(conn: psycopg.Connection) -> Hospital:
    return seed_allocation(conn, workers=8, lines=4, capacity=2, seed=5)


def controlled(pg_server: Server) -> object:
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    return pg_server.embedded


def test_solver_processes_killed_while_idle_are_replaced_and_no_run_is_charged(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, log_dir=tmp_path)  # two slots
    try:
        wait_for(lambda: '"listening"' in d.log(), 30, "the daemon to be up, its solvers started")
        victims = solver_processes(d)
        assert len(victims) == 2
        for p in victims:  # as the OOM killer would, while they wait for work
            p.kill()
        psutil.wait_procs(victims, timeout=10)
        runs = [enqueue(conn, hospital.allocation_run) for _ in range(4)]
        for run_id in runs:
            assert wait_final(conn, run_id) == "COMPLETED", d.log()
        replaced = {p.pid for p in solver_processes(d)}
    finally:
        assert d.stop() == 0, d.log()
    assert "died while idle" in d.log()
    assert len(replaced) == 2 and not replaced & {p.pid for p in victims}
    for run_id in runs:
        assert attempts(conn, run_id) == 1
        assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
        assert allocations(conn, run_id) == len(hospital.workers)


def test_the_lease_is_renewed_while_the_input_loads(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """A load longer than the lease (3 s here; 2.25 M preference rows take seconds) must not
    get a live daemon's run reaped from under it."""
    d = DaemonProcess(db_url, slow=True, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({LOAD_SLEEP_KEY: 5}))
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
    assert attempts(conn, run_id) == 1


def test_a_hung_solve_is_stopped_then_killed_and_fails_saying_so(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--solver-processes", "1", "--solve-grace-seconds", "1", slow=True, log_dir=tmp_path)
    try:
        # Then the slot was rebuilt and serves on.
        hung = fails_then_serves(conn, d, hospital.allocation_run, {HANG_KEY: 3600, "max_seconds": 1})
    finally:
        assert d.stop() == 0, d.log()
    row = conn.execute("SELECT last_error, attempts FROM allocator_py_runs WHERE id = %s", (hung,)).fetchone()
    assert row is not None
    assert "did not finish within max_seconds (1 s) plus a grace of 1 s" in row[0]
    assert row[1] == 1
    assert allocations(conn, hung) == 0
    assert "solver ignored the stop request; killing it" in d.log()


def test_an_allocation_the_independent_checker_rejects_is_never_written(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """A modelling bug (the model's allocation moved one worker) ends the run FAILED with the
    checker's words, once, with no allocation rows; the next run is solved as usual."""
    d = DaemonProcess(db_url, "--solver-processes", "1", slow=True, log_dir=tmp_path)
    try:
        broken = fails_then_serves(conn, d, hospital.allocation_run, {BREAK_KEY: True})
    finally:
        assert d.stop() == 0, d.log()
    row = conn.execute(
        "SELECT last_error, attempts, result_metadata->>'status' FROM allocator_py_runs WHERE id = %s", (broken,)
    ).fetchone()
    assert row is not None
    assert row[0].startswith("internal error: the allocation failed the independent check: worker "), row[0]
    assert row[1:] == (1, "CHECK_FAILED")
    assert allocations(conn, broken) == 0


def test_a_revoked_grant_neither_stops_the_daemon_nor_loses_its_runs(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """A DBA revokes the daemon's grant by mistake and restores it: errors, not an exit that
    would kill the solves in flight."""
    d = DaemonProcess(db_url, "--lease-seconds", "20", slow=True, log_dir=tmp_path)
    try:
        running = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 4}))
        wait_for(lambda: status(conn, running) == "GENERATING", 30, "the run to be claimed")
        conn.execute(f"REVOKE UPDATE ON allocator_py_runs, allocation_planner_runs FROM {ROLE}")
        queued = enqueue(conn, hospital.allocation_run)
        wait_for(lambda: "InsufficientPrivilege" in d.log(), 20, "the daemon to meet the revoked grant")
        assert d.proc.poll() is None, d.log()
        conn.execute(
            f"GRANT UPDATE ({LIFECYCLE_COLUMNS}) ON allocator_py_runs, allocation_planner_runs TO receptord_daemon"
        )
        assert wait_final(conn, running) == "COMPLETED", d.log()
        assert wait_final(conn, queued) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    assert attempts(conn, running) == 1
    assert events(conn, running) == ["enqueued", "claimed", "completed"]
    assert_valid_allocation(db_url, running)


def test_a_failover_to_a_read_only_server_is_waited_out(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """Every new session of the daemon is read-only for a while, as on a standby after a failover."""
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        wait_for(lambda: '"listening"' in d.log(), 30, "the daemon to start")
        conn.execute(f"ALTER ROLE {DAEMON_LOGIN} SET default_transaction_read_only = on")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (DAEMON_LOGIN,))
        run_id = enqueue(conn, hospital.allocation_run)
        wait_for(lambda: "ReadOnlySqlTransaction" in d.log(), 20, "the daemon to meet the read-only server")
        assert d.proc.poll() is None, d.log()
        conn.execute(f"ALTER ROLE {DAEMON_LOGIN} RESET default_transaction_read_only")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (DAEMON_LOGIN,))
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        conn.execute(f"ALTER ROLE {DAEMON_LOGIN} RESET default_transaction_read_only")
        assert d.stop() == 0, d.log()
    assert attempts(conn, run_id) == 1


def test_an_outage_shorter_than_the_lease_costs_nothing_and_the_watchdog_is_fed_throughout(
    pg_server: Server, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    server = controlled(pg_server)
    systemd = SystemdSocket(tmp_path)
    with psycopg.connect(db_url, autocommit=True) as c:
        queued = enqueue(c, hospital.allocation_run)  # waiting for the server's return: see below
    # Held (row-locked) by a client until the outage ends that client's session: the daemon
    # skips it until then, and it is claimable from the very moment the server is back. Its
    # claim, timed by the server's own clock, measures the daemon's reconnection alone: neither
    # the test's enqueue after the restart nor its polling is in the figure.
    holder = psycopg.connect(db_url)
    holder.execute("SELECT 1 FROM allocator_py_runs WHERE id = %s FOR UPDATE", (queued,))
    # A 600 s poll: after the outage only a working reconnect can make the daemon serve again.
    d = DaemonProcess(
        db_url,
        "--lease-seconds",
        "15",
        "--poll-seconds",
        "600",
        slow=True,
        log_dir=tmp_path,
        env=systemd.env(watchdog_seconds=6),  # pings due at least every 3 s
    )
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            wait_for(lambda: '"listening"' in d.log(), 30, "LISTEN")
            solving = enqueue(c, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 10}))
            wait_for(lambda: status(c, solving) == "GENERATING", 30, "the run to be claimed")
            assert status(c, queued) == "PENDING"  # the free slot could not take it: held
        down = time.monotonic()
        server.stop()  # type: ignore[attr-defined]
        time.sleep(8)
        server.start()  # type: ignore[attr-defined]
        up = time.monotonic()
        with psycopg.connect(db_url, autocommit=True) as c:
            wait_for(lambda: status(c, queued) != "PENDING", 30, "the daemon to serve again after the outage")
            # From the server's start (before it accepts connections: an upper bound) to the claim.
            back = c.execute(
                "SELECT extract(epoch FROM min(at) - pg_postmaster_start_time())::float FROM run_events "
                "WHERE run_id = %s AND event = 'claimed'",
                (queued,),
            ).fetchone()
            assert back is not None
            assert wait_final(c, solving) == "COMPLETED", d.log()
            assert wait_final(c, queued) == "COMPLETED", d.log()
            # The lease survived the outage: one claim, one attempt, nothing redone.
            assert events(c, solving) == ["enqueued", "claimed", "completed"]
            assert attempts(c, solving) == 1
            assert allocations(c, solving) == len(hospital.workers)
        pings = systemd.times("WATCHDOG=1", since=down - 3, until=up + 3)
    finally:
        holder.close()
        assert d.stop() == 0, d.log()
        systemd.close()
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    print(f"serving again {back[0]:.2f} s after the server's start; longest watchdog gap {max(gaps):.2f} s")
    assert back[0] < 2.0, d.log()[-3000:]  # the bound: serving within 2 s of the return
    assert pings and max(gaps) < 3.0, (gaps, d.log()[-3000:])


def test_sigterm_during_an_outage_exits_in_time_and_the_run_is_refunded(
    pg_server: Server, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    server = controlled(pg_server)
    a = DaemonProcess(db_url, "--drain-seconds", "1", slow=True, name="stopped-in-outage", log_dir=tmp_path)
    with psycopg.connect(db_url, autocommit=True) as c:
        run_id = enqueue(c, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 6}))
        wait_for(lambda: status(c, run_id) == "GENERATING", 30, "the run to be claimed")
    server.stop()  # type: ignore[attr-defined]
    try:
        a.signal(signal.SIGTERM)
        # Drain grace 1 s, then give up on the database: far inside TimeoutStopSec.
        assert a.wait_exit(20) == 0
    finally:
        server.start()  # type: ignore[attr-defined]
        a.stop()
    # The run could not be handed back; its lease expires and the attempt is refunded.
    b = DaemonProcess(db_url, slow=True, name="after-outage", log_dir=tmp_path)
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            assert wait_final(c, run_id) == "COMPLETED", b.log()
            assert events(c, run_id) == ["enqueued", "claimed", "requeued", "claimed", "completed"]
            assert attempts(c, run_id) == 1
            error = c.execute(
                "SELECT detail->>'last_error' FROM run_events WHERE run_id = %s AND event = 'requeued'", (run_id,)
            ).fetchone()
            assert error is not None and "attempt not counted" in error[0]
            assert allocations(c, run_id) == len(hospital.workers)
    finally:
        assert b.stop() == 0, b.log()


def test_a_long_drain_keeps_asking_systemd_for_more_time(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    systemd = SystemdSocket(tmp_path)
    d = DaemonProcess(
        db_url, "--drain-seconds", "30", slow=True, log_dir=tmp_path, env=systemd.env(watchdog_seconds=30)
    )
    try:
        run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 12}))
        wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
        d.signal(signal.SIGTERM)
        assert d.wait_exit(60) == 0
    finally:
        d.stop()
        systemd.close()
    assert status(conn, run_id) == "COMPLETED"  # finished within the grace
    extensions = [m for _, m in systemd.messages if m.startswith("EXTEND_TIMEOUT_USEC=")]
    assert len(extensions) >= 2, systemd.messages


SIGNAL_STORM = """
import os, signal, sys, threading, time
from daemon.inbox import Wake
from daemon.loop import Daemon
from daemon.settings import Settings

d = Daemon(Settings(database_url="postgresql://nobody@localhost/none"))
d.install_signal_handlers()
stop = time.monotonic() + 3

def storm():
    while time.monotonic() < stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.0005)

threading.Thread(target=storm, daemon=True).start()
n = 0
while time.monotonic() < stop:  # the main thread inside the inbox, as the loop is
    d.inbox.post(Wake("work"))
    n += len(d.inbox.wait(0))
print("survived", n, d._stop_requested)
"""


def test_a_signal_arriving_inside_the_inbox_cannot_deadlock_the_loop() -> None:
    """SIGTERM lands between two bytecodes of the main thread, wherever it is: the handler
    must take no lock that code may hold (a queue.Queue.put from the handler deadlocks)."""
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_STORM], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("survived") and done.stdout.strip().endswith("True"), done.stdout


def test_a_solver_that_crashed_leaves_its_slot_able_to_stop_the_next_solve(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """A process killed inside Event.wait() must not poison the stop request of the next."""
    d = DaemonProcess(db_url, "--solver-processes", "1", "--solve-grace-seconds", "1", slow=True, log_dir=tmp_path)
    try:
        crashed = enqueue(conn, hospital.allocation_run, config=Jsonb({CRASH_KEY: True}), max_attempts=1)
        assert wait_final(conn, crashed) == "FAILED", d.log()
        hung = enqueue(conn, hospital.allocation_run, config=Jsonb({HANG_KEY: 3600, "max_seconds": 1}))
        assert wait_final(conn, hung, timeout=30) == "FAILED", d.log()
        after = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, after) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()


def test_sigterm_during_a_long_load_hands_the_run_back_refunded_at_once(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--drain-seconds", "1", slow=True, log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({LOAD_SLEEP_KEY: 120}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    d.signal(signal.SIGTERM)
    assert d.wait_exit(30) == 0  # the load's query is cancelled at the drain's deadline
    assert status(conn, run_id) == "PENDING"
    assert attempts(conn, run_id) == 0
    assert events(conn, run_id) == ["enqueued", "claimed", "requeued"]


def test_cancelling_a_run_while_it_loads_stops_the_load(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--solver-processes", "1", slow=True, log_dir=tmp_path)
    try:
        loading = enqueue(conn, hospital.allocation_run, config=Jsonb({LOAD_SLEEP_KEY: 120}))
        wait_for(lambda: status(conn, loading) == "GENERATING", 30, "the run to be claimed")
        conn.execute("SELECT cancel_run(%s)", (loading,))
        # Its one slot is free again long before the 120 s load would have ended.
        after = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, after, timeout=60) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    assert status(conn, loading) == "CANCELLED"
    assert allocations(conn, loading) == 0


def test_a_stale_cancellation_notice_hands_the_run_back_instead_of_stranding_it(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--lease-seconds", "600", slow=True, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 3}))
        wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
        # A notice for a run that is not cancelled (a stale or forged payload).
        notice = f'{{"kind": "allocator", "id": "{run_id}", "status": "CANCELLED"}}'
        conn.execute("SELECT pg_notify('receptord_run_status', %s)", (notice,))
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    assert events(conn, run_id) == ["enqueued", "claimed", "requeued", "claimed", "completed"]
    assert attempts(conn, run_id) == 1


def test_a_solver_that_cannot_be_replaced_does_not_stop_the_daemon(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """No file descriptor left for a new solver process (as under memory pressure): the daemon
    logs, keeps its run in flight, claims nothing it cannot solve, and replaces the solver as
    soon as it can."""
    d = DaemonProcess(db_url, slow=True, log_dir=tmp_path)
    try:
        wait_for(lambda: '"listening"' in d.log(), 30, "the daemon to be up")
        running = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 8}))
        busy = wait_for(lambda: re.search(r'"solver_pid": (\d+)', d.log()), 30, "the solve to start")
        idle = [p for p in solver_processes(d) if p.pid != int(busy.group(1))]
        assert len(idle) == 1
        daemon = psutil.Process(d.proc.pid)
        soft, hard = daemon.rlimit(psutil.RLIMIT_NOFILE)
        daemon.rlimit(psutil.RLIMIT_NOFILE, (daemon.num_fds(), hard))
        idle[0].kill()
        queued = enqueue(conn, hospital.allocation_run)
        wait_for(lambda: "could not start a solver process" in d.log(), 30, "the failed replacement")
        time.sleep(1)
        assert d.proc.poll() is None, d.log()
        assert status(conn, queued) == "PENDING"  # no solver process to run it: not claimed
        daemon.rlimit(psutil.RLIMIT_NOFILE, (soft, hard))
        assert wait_final(conn, running) == "COMPLETED", d.log()
        assert wait_final(conn, queued) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    # The queued run was not charged. (The running one may have been: with no descriptor left,
    # multiprocessing's forkserver itself dies, and its children look dead to the daemon.)
    assert attempts(conn, queued) == 1


def test_sigterm_while_waiting_for_the_database_at_start_exits_at_once(tmp_path: Path) -> None:
    """Started before its database is reachable, the daemon still hears SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "run", "--database-url", "postgresql://nobody@127.0.0.1:1/none"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # well inside the 60 s it would wait for the database
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
