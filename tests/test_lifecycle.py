"""The run lifecycle end to end: real daemon processes, a real PostgreSQL, plain SQL inserts."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.synthetic import Hospital, seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import DaemonProcess, allocations, enqueue, events, status, wait_final, wait_for
from tests.pg import DAEMON_PASSWORD
from tests.slow_kind import SLEEP_KEY


@pytest.fixture
def hospital(conn: psycopg.Connection) -> Hospital:
    return seed_allocation(conn, workers=12, lines=6, capacity=2, seed=3)


def test_insert_reaches_completed_with_one_allocation_per_worker(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, run_id, timeout=60) == "COMPLETED", d.log()
        row = conn.execute(
            "SELECT completed_at IS NOT NULL, result_metadata ? 'objective', attempts, claimed_by "
            "FROM allocator_py_runs WHERE id = %s",
            (run_id,),
        ).fetchone()
        assert row is not None
        assert row[:3] == (True, True, 1)
        assert ":" in row[3]  # host:pid
        assert allocations(conn, run_id) == len(hospital.workers)
        distinct = conn.execute(
            "SELECT count(DISTINCT worker_mapping) FROM allocator_py_allocations WHERE run_id = %s", (run_id,)
        ).fetchone()
        assert distinct == (len(hospital.workers),)
        assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
        assert_valid_allocation(db_url, run_id)
    finally:
        assert d.stop() == 0, d.log()


@pytest.mark.parametrize(("n_daemons", "n_runs"), [(2, 200), (4, 1000)])
def test_daemons_racing_for_one_queue_solve_each_run_exactly_once(
    conn: psycopg.Connection, db_url: str, tmp_path: Path, n_daemons: int, n_runs: int
) -> None:
    small = seed_allocation(conn, workers=4, lines=3, capacity=2, seed=5)
    names = {f"racer{i}" for i in range(n_daemons)}
    daemons = [DaemonProcess(db_url, name=name, log_dir=tmp_path) for name in sorted(names)]
    try:
        with conn.transaction():
            run_ids = [enqueue(conn, small.allocation_run) for _ in range(n_runs)]
        wait_for(
            lambda: conn.execute(
                "SELECT count(*) = %s FROM allocator_py_runs WHERE status = 'COMPLETED'", (n_runs,)
            ).fetchone()[0],  # type: ignore[index]
            timeout=600,
            what=f"all {n_runs} runs to complete",
            interval=0.5,
        )
    finally:
        codes = [d.stop() for d in daemons]
    assert codes == [0] * n_daemons, [d.log()[-3000:] for d in daemons]
    # Each run: enqueued, claimed once, completed once, in that order: never claimed twice.
    histories = Counter(
        tuple(r[0])
        for r in conn.execute(
            "SELECT array_agg(event ORDER BY id) FROM run_events WHERE run_id = ANY(%s::uuid[]) GROUP BY run_id",
            (run_ids,),
        )
    )
    assert histories == Counter({("enqueued", "claimed", "completed"): n_runs})
    per_run = conn.execute(
        "SELECT count(*), min(n), max(n) FROM "
        "(SELECT run_id, count(*) AS n FROM allocator_py_allocations GROUP BY run_id) s"
    ).fetchone()
    assert per_run == (n_runs, 4, 4)
    for run_id in run_ids[:: n_runs // 10]:
        assert_valid_allocation(db_url, run_id)
    by_daemon = Counter(
        r[0] for r in conn.execute("SELECT claimed_by FROM allocator_py_runs WHERE id = ANY(%s::uuid[])", (run_ids,))
    )
    assert set(by_daemon) == names, f"every daemon should have worked: {by_daemon}"
    deadlocks = conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()
    assert deadlocks == (0,)


def test_expired_lease_is_reclaimed_and_completed(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    # A run claimed by a daemon that died without a trace: GENERATING, stale heartbeat (since
    # the server started: a heartbeat from before a restart is refunded, tested apart).
    run_id = enqueue(conn, hospital.allocation_run)
    conn.execute(
        "UPDATE allocator_py_runs SET status = 'GENERATING', claimed_by = 'ghost:1', attempts = 1, "
        "claimed_at = pg_postmaster_start_time(), heartbeat_at = pg_postmaster_start_time() WHERE id = %s",
        (run_id,),
    )
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0
    assert events(conn, run_id) == ["enqueued", "claimed", "requeued", "claimed", "completed"]
    row = conn.execute("SELECT attempts FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row == (2,)
    assert allocations(conn, run_id) == len(hospital.workers)


def test_expired_lease_without_attempts_left_fails_with_reason(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    run_id = enqueue(conn, hospital.allocation_run, max_attempts=1)
    conn.execute(
        "UPDATE allocator_py_runs SET status = 'GENERATING', claimed_by = 'ghost:1', attempts = 1, "
        "heartbeat_at = pg_postmaster_start_time() WHERE id = %s",
        (run_id,),
    )
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        assert wait_final(conn, run_id) == "FAILED"
    finally:
        assert d.stop() == 0
    row = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    assert "lease expired" in row[0] and "ghost:1" in row[0] and "gave up after 1 attempts" in row[0]
    assert allocations(conn, run_id) == 0


def test_cancelled_pending_run_is_never_started(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    run_id = enqueue(conn, hospital.allocation_run)
    assert conn.execute("SELECT cancel_run(%s)", (run_id,)).fetchone() == ("CANCELLED",)
    later = enqueue(conn, hospital.allocation_run)
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        assert wait_final(conn, later) == "COMPLETED"
    finally:
        assert d.stop() == 0
    assert events(conn, run_id) == ["enqueued", "cancelled"]
    assert allocations(conn, run_id) == 0


def test_cancelling_a_running_solve_stops_it_and_writes_nothing(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, slow=True, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 60}))
        wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
        # Progress from the solver process reaches the heartbeat.
        wait_for(
            lambda: conn.execute("SELECT progress FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()[0],  # type: ignore[index]
            10,
            "progress in the heartbeat",
        )
        conn.execute("SELECT cancel_run(%s)", (run_id,))
        # The daemon lets go of it: its log says so, and its slot takes the next run.
        wait_for(lambda: "solve abandoned" in d.log(), 10, "the solve to stop")
        next_run = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, next_run) == "COMPLETED"
    finally:
        assert d.stop() == 0
    assert status(conn, run_id) == "CANCELLED"
    assert allocations(conn, run_id) == 0
    assert events(conn, run_id) == ["enqueued", "claimed", "cancelled"]


def test_sigterm_hands_unfinished_runs_back_without_burning_an_attempt(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    # One slot: the second run waits in the queue, and must still be waiting after the drain
    # frees the slot, because a stopping daemon claims nothing.
    d = DaemonProcess(db_url, "--drain-seconds", "1", "--solver-processes", "1", slow=True, log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 120}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    pending = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 120}))
    d.signal(signal.SIGTERM)
    assert d.wait_exit(30) == 0, d.log()
    row = conn.execute("SELECT status, attempts, claimed_by FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row == ("PENDING", 0, None)
    assert allocations(conn, run_id) == 0
    assert events(conn, run_id) == ["enqueued", "claimed", "requeued"]
    # Draining means no new claims: the second run was never touched.
    assert events(conn, pending) == ["enqueued"]


def test_sigterm_lets_a_solve_finish_within_the_grace_period(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--drain-seconds", "30", slow=True, log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 2}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    d.signal(signal.SIGTERM)
    assert d.wait_exit(60) == 0, d.log()
    assert status(conn, run_id) == "COMPLETED"
    assert allocations(conn, run_id) == len(hospital.workers)


# Polls 600 s apart and reaper ticks (lease/4) 150 s apart: only a NOTIFY explains a claim
# within CLAIM_WITHIN seconds. The control below waits as long and shows the same daemon
# without LISTEN does not claim.
SLOW_POLL = ["--poll-seconds", "600", "--lease-seconds", "600"]
CLAIM_WITHIN = 5.0


def test_notify_wakes_an_idle_daemon_long_before_its_poll(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, *SLOW_POLL, log_dir=tmp_path)
    try:
        wait_for(lambda: '"listening"' in d.log(), 30, "the daemon to LISTEN")
        time.sleep(1)  # let its first (empty) poll pass
        run_id = enqueue(conn, hospital.allocation_run)
        wait_for(lambda: status(conn, run_id) != "PENDING", CLAIM_WITHIN, "NOTIFY to wake the daemon")
        assert wait_final(conn, run_id, timeout=30) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0


def test_without_notify_the_same_daemon_leaves_a_new_run_waiting_for_its_poll(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """The control that gives the NOTIFY test its teeth."""
    d = DaemonProcess(db_url, *SLOW_POLL, "--no-listen", log_dir=tmp_path)
    try:
        wait_for(lambda: conn.execute("SELECT 1 FROM receptord_daemons").fetchone(), 30, "the daemon to start")
        time.sleep(1)  # let its first (empty) poll pass
        run_id = enqueue(conn, hospital.allocation_run)
        time.sleep(CLAIM_WITHIN)
        assert status(conn, run_id) == "PENDING"
    finally:
        assert d.stop() == 0


def test_polling_alone_finds_runs_when_listen_is_off(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    d = DaemonProcess(db_url, "--no-listen", "--poll-seconds", "0.5", log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, run_id, timeout=30) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0
    assert '"listening"' not in d.log()


def test_logs_carry_the_run_and_never_the_password(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    # The daemon's login really uses its password (tests.pg.as_daemon puts it in the URL): it
    # must never reach a log line, even when the daemon logs its database URL.
    secret = DAEMON_PASSWORD
    d = DaemonProcess(db_url, log_dir=tmp_path)
    try:
        run_id = enqueue(conn, hospital.allocation_run)
        assert wait_final(conn, run_id) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0
    text = d.log()
    assert '"database"' in text  # the URL is logged ...
    assert secret not in text  # ... without its password
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    run_lines = [line for line in lines if line.get("logger") == "receptord.runner"]
    assert run_lines, text
    for line in run_lines:
        assert (line.get("run_id"), line.get("kind")) == (run_id, "allocator"), line
    assert any(line.get("event") == "finished" for line in run_lines)
