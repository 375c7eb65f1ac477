"""Planner runs writing one allocation run's job lines at the same time as each other, or as
someone ranking those lines: real daemons, real transactions, no mocks.

The races are made deterministic with a test-only gate: a statement-level BEFORE INSERT
trigger (plain SQL) that takes a shared advisory lock the test holds exclusively, so a
daemon's finishing transaction stops at a known statement until the test lets it go.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from daemon.planner.hospitals import vic_hospital
from daemon.synthetic import seed_positions, seed_workers
from tests.daemons import DaemonProcess, wait_final, wait_for
from tests.pg import as_daemon

Conn = psycopg.Connection[Any]

GATE = 0x7465737467617465  # "testgate": the test's advisory lock key
N = 5  # lines per planner run


def install_gate(conn: Conn, table: str) -> None:
    """Every INSERT into ``table`` first waits until the test opens the gate."""
    conn.execute(
        "CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_advisory_xact_lock_shared({GATE}); RETURN NULL; END $$"
    )
    conn.execute(f"CREATE TRIGGER test_gate BEFORE INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION test_gate()")


@contextlib.contextmanager
def gate_closed(db_url: str) -> Iterator[None]:
    with psycopg.connect(db_url, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        yield
        gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))


def daemons_waiting_on_advisory_locks(conn: Conn) -> int:
    """Sessions waiting on an advisory lock: the test's gate or the planner's line lock (the
    test's own sessions never wait on one)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'"
    ).fetchone()
    assert row is not None
    return int(row[0])


def blocked_by(conn: Conn, pid: int) -> bool:
    """Some session waits for session ``pid``."""
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,)).fetchone()
    return row is not None and row[0] > 0


def blocked(conn: Conn, pid: int) -> bool:
    """Session ``pid`` waits for some other session."""
    row = conn.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)).fetchone()
    return row is not None and bool(row[0])


def plan(conn: Conn, allocation_run: str) -> str:
    row = conn.execute(
        "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, max_seconds) "
        "VALUES (%s, %s, '{UNRESTRICTED}', 20) RETURNING id",
        (allocation_run, N),
    ).fetchone()
    assert row is not None
    return str(row[0])


def lines(conn: Conn, allocation_run: str) -> dict[str, str]:
    """id -> planner_run of the allocation run's job lines."""
    return {
        str(i): str(p)
        for i, p in conn.execute("SELECT id, planner_run FROM job_lines WHERE allocation_run = %s", (allocation_run,))
    }


def snapshots(conn: Conn, allocation_run: str) -> dict[str, list[str]]:
    """planner run -> the planner_run of each line it snapshotted before replacing it."""
    out: dict[str, list[str]] = {}
    for run, snap in conn.execute(
        "SELECT planner_run, snapshot FROM job_lines_history WHERE allocation_run = %s", (allocation_run,)
    ):
        assert str(run) not in out, "one snapshot per replacing run"
        out[str(run)] = [ln["planner_run"] for ln in snap["lines"]]
    return out


def completed_event(conn: Conn, run_id: str) -> int:
    row = conn.execute("SELECT id FROM run_events WHERE run_id = %s AND event = 'completed'", (run_id,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def daemon(db_url: str, tmp_path: Path) -> Iterator[DaemonProcess]:
    d = DaemonProcess(db_url, "--solver-processes", "2", log_dir=tmp_path)
    yield d
    assert d.stop() == 0, d.log()[-5000:]


def test_two_planner_runs_for_one_allocation_run_write_one_after_the_other(
    conn: Conn, db_url: str, daemon: DaemonProcess
) -> None:
    """Two runs enqueued together, solved side by side by one daemon's two slots, both held at
    their first job_lines INSERT until both are in their finishing transaction: the later
    writer must see, snapshot and replace the earlier writer's lines. Three pairs in a row on
    one allocation run, so each pair's first writer also replaces the previous survivor."""
    install_gate(conn, "job_lines")
    allocation_run = seed_positions(conn, vic_hospital(), name="two planners", seed=11)
    survivor: str | None = None
    for pair in range(3):
        with gate_closed(db_url):
            with conn.transaction():
                runs = {plan(conn, allocation_run), plan(conn, allocation_run)}
            # Both finishing transactions are in: one at the gate (or both, unserialised).
            wait_for(lambda: daemons_waiting_on_advisory_locks(conn) == 2, 120, "both runs to start writing")
        for run in runs:
            assert wait_final(conn, run, timeout=120) == "COMPLETED", daemon.log()[-3000:]

        now = lines(conn, allocation_run)
        assert len(now) == N, f"pair {pair}: {len(now)} lines, from runs {sorted(set(now.values()))}"
        (last,) = set(now.values())
        (first,) = runs - {last}
        assert completed_event(conn, first) < completed_event(conn, last)
        snaps = snapshots(conn, allocation_run)
        assert snaps[last] == [first] * N, f"pair {pair}: the last writer snapshotted {snaps.get(last)}"
        if survivor is None:
            assert first not in snaps
        else:
            assert snaps[first] == [survivor] * N
        # Rotations only for the surviving lines, and every surviving line has some.
        rotated = {
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT job_line FROM rotations WHERE allocation_run = %s", (allocation_run,)
            )
        }
        assert rotated == set(now)
        survivor = last
    assert conn.execute(
        "SELECT count(*) FROM job_lines_history WHERE allocation_run = %s", (allocation_run,)
    ).fetchone() == (5,)


def generated_first(conn: Conn, daemon: DaemonProcess, seed: int) -> tuple[str, str, str, str, str]:
    """An allocation run with lines from one completed planner run and a worker ranking none
    of them: (allocation run, planner run, worker mapping, first line id, its name)."""
    allocation_run = seed_positions(conn, vic_hospital(), name="in use meanwhile", seed=seed)
    first = plan(conn, allocation_run)
    assert wait_final(conn, first, timeout=120) == "COMPLETED", daemon.log()[-3000:]
    (worker,) = seed_workers(conn, allocation_run, workers=1, ranked=0, seed=seed)
    row = conn.execute(
        "SELECT id, name FROM job_lines WHERE allocation_run = %s ORDER BY sort_order LIMIT 1", (allocation_run,)
    ).fetchone()
    assert row is not None
    return allocation_run, first, worker, str(row[0]), str(row[1])


def test_a_preference_committed_while_the_planner_waits_fails_the_planner_run(
    conn: Conn, db_url: str, daemon: DaemonProcess
) -> None:
    """A worker's ranking is uncommitted when the planner's finishing transaction reaches the
    lines; it commits while the planner waits: the planner must see it and fail, deleting
    nothing."""
    allocation_run, first, worker, line, name = generated_first(conn, daemon, seed=12)
    with psycopg.connect(db_url) as ranking:  # a transaction stays open until commit()
        ranking.execute("INSERT INTO preference_worker_job_lines VALUES (%s, %s, 1)", (worker, line))
        second = plan(conn, allocation_run)
        pid = ranking.info.backend_pid
        wait_for(lambda: blocked_by(conn, pid), 120, "the planner's write to wait for the ranking")
        ranking.commit()
    assert wait_final(conn, second, timeout=60) == "FAILED", daemon.log()[-3000:]
    error = conn.execute("SELECT last_error FROM allocation_planner_runs WHERE id = %s", (second,)).fetchone()
    assert error is not None and "already in use" in error[0], error
    assert f"{name} (1 preferences, 0 allocations)" in error[0], error[0]
    assert conn.execute(
        "SELECT count(*) FROM preference_worker_job_lines WHERE worker_mapping = %s AND job_line = %s", (worker, line)
    ).fetchone() == (1,)
    assert set(lines(conn, allocation_run).values()) == {first}
    assert len(lines(conn, allocation_run)) == N
    assert conn.execute("SELECT count(*) FROM job_lines_history").fetchone() == (0,)


def test_a_preference_on_lines_being_replaced_waits_and_then_fails(
    conn: Conn, db_url: str, daemon: DaemonProcess
) -> None:
    """The planner has checked the lines are unused and holds them (stopped at its history
    snapshot); a worker ranks one meanwhile: the ranking must wait for the planner, then fail
    because the line is gone, rather than commit and be cascade-deleted."""
    allocation_run, first, worker, line, _ = generated_first(conn, daemon, seed=13)
    install_gate(conn, "job_lines_history")
    outcome: list[BaseException | None] = []
    with psycopg.connect(db_url, autocommit=True) as ranking:

        def rank() -> None:
            try:
                ranking.execute("INSERT INTO preference_worker_job_lines VALUES (%s, %s, 1)", (worker, line))
                outcome.append(None)
            except psycopg.Error as e:
                outcome.append(e)

        pid = ranking.info.backend_pid
        t = threading.Thread(target=rank)
        with gate_closed(db_url):
            second = plan(conn, allocation_run)
            wait_for(lambda: daemons_waiting_on_advisory_locks(conn) == 1, 120, "the planner to reach its snapshot")
            t.start()
            wait_for(lambda: not t.is_alive() or blocked(conn, pid), 30, "the ranking to wait or finish")
            ranking_waited = t.is_alive()
            # Leaving the block opens the gate: the planner finishes.
        t.join(60)
    assert not t.is_alive()
    assert ranking_waited, "the ranking did not wait for the planner holding the line"
    assert len(outcome) == 1 and isinstance(outcome[0], psycopg.errors.ForeignKeyViolation), outcome
    assert wait_final(conn, second, timeout=60) == "COMPLETED", daemon.log()[-3000:]
    now = lines(conn, allocation_run)
    assert len(now) == N and set(now.values()) == {second}
    assert snapshots(conn, allocation_run) == {second: [first] * N}
    assert conn.execute("SELECT count(*) FROM preference_worker_job_lines").fetchone() == (0,)


def test_the_daemon_role_may_lock_job_lines_but_not_change_them(db_url: str) -> None:
    """The planner locks the lines it replaces (SELECT ... FOR UPDATE needs an UPDATE grant
    on some column); the grant is on planner_run only, so no line the daemon did not write
    can be edited."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        run = conn.execute("INSERT INTO allocationruns (name) VALUES ('r') RETURNING id").fetchone()[0]  # type: ignore[index]
        planner = conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines) VALUES (%s, 1) RETURNING id", (run,)
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO job_lines (allocation_run, name, planner_run) VALUES (%s, 'generated', %s)", (run, planner)
        )
    with psycopg.connect(as_daemon(db_url), autocommit=True) as daemon:
        with daemon.transaction():
            assert len(daemon.execute("SELECT id FROM job_lines FOR UPDATE").fetchall()) == 1
        for column, value in [("name", "'x'"), ("max_n_workers", "5"), ("allocation_run", "gen_random_uuid()")]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                daemon.execute(f"UPDATE job_lines SET {column} = {value}")


def test_a_planner_run_refuses_to_write_lines_above_read_committed(conn: Conn, db_url: str, tmp_path: Path) -> None:
    """Under REPEATABLE READ the finishing transaction's snapshot predates the line lock, so
    the previous writer's lines would be invisible and kept: the run fails instead."""
    conn.execute(
        sql.SQL("ALTER DATABASE {} SET default_transaction_isolation = 'repeatable read'").format(
            sql.Identifier(conn.info.dbname)
        )
    )
    d = DaemonProcess(db_url, log_dir=tmp_path)  # started after: all its sessions use the setting
    try:
        allocation_run = seed_positions(conn, vic_hospital(), name="repeatable read", seed=14)
        run = plan(conn, allocation_run)
        assert wait_final(conn, run, timeout=120) == "FAILED", d.log()[-3000:]
    finally:
        assert d.stop() == 0, d.log()[-5000:]
    error = conn.execute("SELECT last_error FROM allocation_planner_runs WHERE id = %s", (run,)).fetchone()
    assert error is not None and "repeatable read" in error[0] and "read committed" in error[0], error
    assert lines(conn, allocation_run) == {}
