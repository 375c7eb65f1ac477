"""The DBA views and `receptord status`: what a DBA sees, from plain SQL."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import psycopg

from daemon.db import ROOT
from tests.pg import as_daemon


def test_views_answer_queued_running_failed_stuck_and_throughput(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id) SELECT gen_random_uuid() FROM generate_series(1, 3)"
        )
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id, status, claimed_by, claimed_at, heartbeat_at, attempts) "
            "VALUES (gen_random_uuid(), 'GENERATING', 'gone:42', now() - interval '5 minutes', "
            "now() - interval '2 minutes', 1)"
        )
        conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, status, claimed_at, completed_at, "
            "last_error) VALUES (gen_random_uuid(), 3, 'FAILED', now() - interval '3 seconds', now(), "
            "'unknown constraint name BOGUS')"
        )
        conn.execute(
            "INSERT INTO receptord_daemons (name, host, pid, version, slots) VALUES ('alive:1', 'alive', 1, 'x', 2)"
        )
        queue = {r[0]: r[1:3] for r in conn.execute("SELECT kind, pending, running FROM receptord_queue")}
        assert queue == {"allocator": (3, 1), "planner": (0, 0)}
        running = conn.execute("SELECT claimed_by, daemon_alive FROM receptord_running").fetchall()
        assert running == [("gone:42", False)]
        failures = conn.execute("SELECT kind, last_error FROM receptord_failures").fetchall()
        assert failures == [("planner", "unknown constraint name BOGUS")]
        stuck = conn.execute("SELECT why FROM receptord_stuck").fetchall()
        assert len(stuck) == 1 and "gone:42" in stuck[0][0] and "not alive" in stuck[0][0]
        throughput = conn.execute("SELECT period, kind, failed FROM receptord_throughput").fetchall()
        assert ("last hour", "planner", 1) in throughput
        assert [r[0] for r in conn.execute("SELECT name FROM receptord_live_daemons")] == ["alive:1"]


def test_status_command_prints_every_section(db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status", "--database-url", db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for title in ("Queue", "Running", "Stuck", "Recent failures", "Throughput", "Live daemons"):
        assert title in done.stdout
    assert "allocator" in done.stdout


def test_status_command_names_the_round_a_run_waits_for(db_url: str) -> None:
    """Run as the daemon's role, like a DBA's `receptord status`: a pending round behind a
    running one is listed under Waiting with the id of the round it waits for."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id, is_exclusive, status, claimed_by, claimed_at,"
            " heartbeat_at, attempts) VALUES (gen_random_uuid(), true, 'GENERATING', 'busy:1', now(), now(), 1)"
            " RETURNING id, allocation_run_id"
        ).fetchone()
        assert row is not None
        running, allocation_run = str(row[0]), row[1]
        row = conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id, is_exclusive) VALUES (%s, true) RETURNING id",
            (allocation_run,),
        ).fetchone()
        assert row is not None
        waiting = str(row[0])
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status", "--database-url", as_daemon(db_url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    section = done.stdout.split("\nWaiting\n", 1)[1].split("\n\n", 1)[0]
    listed = [line.split() for line in section.splitlines()[2:]]
    assert [fields[:3] for fields in listed] == [["allocator", waiting, running]], done.stdout
    assert f"exclusive run {running}" in section, section


def test_status_json_is_every_view_as_rows_for_scripts(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id) SELECT gen_random_uuid() FROM generate_series(1, 2)"
        )
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status", "--json", "--database-url", as_daemon(db_url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert list(report) == ["Queue", "Waiting", "Running", "Stuck", "Recent failures", "Throughput", "Live daemons"]
    queue = {row["kind"]: row for row in report["Queue"]}
    assert queue["allocator"]["pending"] == 2
    assert isinstance(queue["allocator"]["oldest_pending_age"], str)  # an interval, as text


def test_status_watch_refreshes_until_ctrl_c(db_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "status", "--watch", "0.3", "--database-url", as_daemon(db_url)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = [proc.stdout.readline() for _ in range(40)]
        assert sum("receptord status, " in line for line in seen) >= 2, seen  # refreshed
        with psycopg.connect(db_url, autocommit=True) as conn:  # a run arrives: the next screen shows it
            conn.execute(
                "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines) VALUES (gen_random_uuid(), 1)"
            )
        later = "".join(proc.stdout.readline() for _ in range(40))
        assert re.search(r"planner\s+1\s", later), later  # the Queue table: 1 planner run pending
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0, proc.stderr.read() if proc.stderr else ""
