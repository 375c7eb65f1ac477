"""The claim fence: every change to a claimed run is conditioned on (status GENERATING,
claimed_by, attempts), and each of the three is needed.

- ``status``: a run cancelled while solving keeps its claimer and attempt number;
- ``attempts``: the same daemon name holds the run again under a newer claim (a fixed
  RECEPTORD_DAEMON_NAME shared by two processes, or a restart that reuses it);
- ``claimed_by``: another daemon holds it under the same attempt number (attempts handed back
  with a refund: a drain, or a lease lost across a database restart).

The SQL-level tests drive the real statements (``daemon.runs``) on a real server; the process
tests replay the classic double-run with a daemon frozen past its lease. ``tests/fence_mutations.py``
deletes each clause from each fenced statement in turn and checks these tests fail.
"""

from __future__ import annotations

import signal
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon import runs
from daemon.kinds import RunKind, registry
from daemon.synthetic import Hospital, seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import DaemonProcess, allocations, attempts, enqueue, events, status, wait_final, wait_for
from tests.pg import Server
from tests.slow_kind import SLEEP_KEY

pytestmark = pytest.mark.fence


@pytest.fixture
def hospital(conn: psycopg.Connection) -> Hospital:
    return seed_allocation(conn, workers=6, lines=3, capacity=2, seed=9)


@pytest.fixture
def kind() -> RunKind:
    return registry()["allocator"]


def lifecycle(conn: psycopg.Connection, run_id: str) -> tuple[object, ...]:
    row = conn.execute(
        "SELECT status, claimed_by, attempts, heartbeat_at, progress, result_metadata, last_error "
        "FROM allocator_py_runs WHERE id = %s",
        (run_id,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def assert_fenced_out(conn: psycopg.Connection, stale: runs.Claim) -> None:
    """Every fenced statement, run with a claim that is no longer the run's, changes nothing."""
    before = lifecycle(conn, stale.run_id)
    assert not runs.heartbeat(conn, stale, {"best_objective": 1.0})
    with conn.transaction():
        assert not runs.lock(conn, stale)
        assert not runs.finish(conn, stale, "COMPLETED", {"objective": 1.0}, None)
    assert runs.release(conn, stale, "stale", refund=True) is None
    assert lifecycle(conn, stale.run_id) == before


def test_a_claim_superseded_by_the_same_daemon_name_is_fenced_out(
    conn: psycopg.Connection, hospital: Hospital, kind: RunKind
) -> None:
    run_id = enqueue(conn, hospital.allocation_run)
    first = runs.claim(conn, kind, "twin")
    assert first is not None and first.attempts == 1
    assert runs.reap(conn, kind, 0.0) == [(run_id, "PENDING", 1)]  # its lease expired
    second = runs.claim(conn, kind, "twin")
    assert second is not None and (second.daemon, second.attempts) == ("twin", 2)
    assert_fenced_out(conn, first)
    assert runs.heartbeat(conn, second, None)  # the live claim still works


def test_a_claim_taken_over_by_another_daemon_at_the_same_attempt_is_fenced_out(
    conn: psycopg.Connection, hospital: Hospital, kind: RunKind
) -> None:
    run_id = enqueue(conn, hospital.allocation_run)
    first = runs.claim(conn, kind, "draining")
    assert first is not None
    assert runs.release(conn, first, "daemon shut down", refund=True) == "PENDING"  # attempt refunded
    second = runs.claim(conn, kind, "other")
    assert second is not None and second.attempts == first.attempts == 1
    assert status(conn, run_id) == "GENERATING"
    assert_fenced_out(conn, first)
    assert runs.heartbeat(conn, second, None)


def test_a_claim_on_a_cancelled_run_is_fenced_out(conn: psycopg.Connection, hospital: Hospital, kind: RunKind) -> None:
    run_id = enqueue(conn, hospital.allocation_run)
    claim = runs.claim(conn, kind, "solver")
    assert claim is not None
    conn.execute("SELECT cancel_run(%s)", (run_id,))
    assert_fenced_out(conn, claim)
    assert status(conn, run_id) == "CANCELLED"


def test_the_live_claim_passes_the_fence(conn: psycopg.Connection, hospital: Hospital, kind: RunKind) -> None:
    """The control: the same statements with the current claim do their job."""
    run_id = enqueue(conn, hospital.allocation_run)
    claim = runs.claim(conn, kind, "solver")
    assert claim is not None
    assert runs.heartbeat(conn, claim, {"best_objective": 2.0})
    with conn.transaction():
        assert runs.lock(conn, claim)
        assert runs.finish(conn, claim, "FAILED", {"stage": "test"}, "control")
    assert status(conn, run_id) == "FAILED"


def test_a_lease_lost_across_a_database_restart_is_refunded_and_the_clock_restarts(
    conn: psycopg.Connection, hospital: Hospital, kind: RunKind
) -> None:
    run_id = enqueue(conn, hospital.allocation_run)
    claim = runs.claim(conn, kind, "quiet")
    assert claim is not None
    # Its last heartbeat predates the server's start: the daemon went quiet in an outage.
    conn.execute(
        "UPDATE allocator_py_runs SET heartbeat_at = pg_postmaster_start_time() - interval '1 second' WHERE id = %s",
        (run_id,),
    )
    up_for = conn.execute("SELECT extract(epoch FROM now() - pg_postmaster_start_time())").fetchone()
    assert up_for is not None
    # The lease counts from the server's start, not from the stale heartbeat.
    assert runs.reap(conn, kind, float(up_for[0]) + 60) == []
    assert runs.reap(conn, kind, 0.0) == [(run_id, "PENDING", 0)]
    assert "attempt not counted" in str(lifecycle(conn, run_id)[6])


def test_a_frozen_daemon_cannot_write_over_its_namesake_that_reclaimed_the_run(
    conn: psycopg.Connection, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """Two processes under one RECEPTORD_DAEMON_NAME: only the attempt number tells them apart."""
    a = DaemonProcess(db_url, slow=True, name="twin", log_dir=tmp_path)
    run_id = enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 2}))
    wait_for(lambda: status(conn, run_id) == "GENERATING", 30, "the run to be claimed")
    a.signal(signal.SIGSTOP)  # its solver finishes meanwhile; the result waits in the pipe
    b = DaemonProcess(db_url, slow=True, name="twin", log_dir=tmp_path)
    try:
        wait_for(lambda: attempts(conn, run_id) == 2, 30, "the namesake to reclaim the run")
        a.signal(signal.SIGCONT)  # wakes with a finished solve while b is still solving
        wait_for(lambda: "lease lost" in a.log(), 20, "the frozen daemon to find its lease gone")
        assert wait_final(conn, run_id) == "COMPLETED", b.log()
    finally:
        a.signal(signal.SIGCONT)
        assert a.stop() == 0, a.log()
        assert b.stop() == 0, b.log()
    assert '"finished"' not in a.log()
    assert '"finished"' in b.log()
    assert events(conn, run_id).count("completed") == 1
    assert allocations(conn, run_id) == len(hospital.workers)
    assert_valid_allocation(db_url, run_id)


def test_a_frozen_daemon_cannot_write_over_another_that_reclaimed_the_run_after_a_restart(
    pg_server: Server, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    """After a restart the lease is refunded, so the new claim has the frozen one's attempt
    number: only claimed_by tells them apart."""
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    a = DaemonProcess(db_url, slow=True, name="frozen", log_dir=tmp_path)
    with psycopg.connect(db_url, autocommit=True) as c:
        run_id = enqueue(c, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 2}))
        wait_for(lambda: status(c, run_id) == "GENERATING", 30, "the run to be claimed")
    a.signal(signal.SIGSTOP)
    pg_server.embedded.restart()
    b = DaemonProcess(db_url, slow=True, name="rescuer", log_dir=tmp_path)
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            claimed = "SELECT claimed_by FROM allocator_py_runs WHERE id = %s"
            wait_for(lambda: c.execute(claimed, (run_id,)).fetchone() == ("rescuer",), 30, "the rescuer's claim")
            assert attempts(c, run_id) == 1
            a.signal(signal.SIGCONT)
            wait_for(lambda: "lease lost" in a.log(), 20, "the frozen daemon to find its lease gone")
            assert wait_final(c, run_id) == "COMPLETED", b.log()
            assert events(c, run_id).count("completed") == 1
            assert allocations(c, run_id) == len(hospital.workers)
    finally:
        a.signal(signal.SIGCONT)
        assert a.stop() == 0, a.log()
        assert b.stop() == 0, b.log()
    assert '"finished"' not in a.log()
    assert '"finished"' in b.log()


def test_heartbeats_are_hot_updates(conn: psycopg.Connection, hospital: Hospital, kind: RunKind) -> None:
    """A heartbeat touches no indexed column, so it rewrites the row in place (HOT) instead of
    adding an entry to every index of the queue table each second."""
    enqueue(conn, hospital.allocation_run)
    claim = runs.claim(conn, kind, "beating")
    assert claim is not None

    def counts() -> tuple[int, int]:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'allocator_py_runs'"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    updates, hot = counts()
    for _ in range(20):
        assert runs.heartbeat(conn, claim, {"best_objective": 1.0})
    updates_after, hot_after = counts()
    assert updates_after - updates == 20
    assert hot_after - hot >= 18  # a page may fill up now and then
