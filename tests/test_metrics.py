"""The daemon's /metrics, /healthz and /readyz (issue 13), scraped from real daemon processes
on a real server: the numbers move as runs are served, crash and wait, and readiness follows
the database through an outage while liveness holds."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg.types.json import Jsonb

from daemon.synthetic import Hospital, seed_allocation
from tests.daemons import ROOT, DaemonProcess, enqueue, wait_final, wait_for
from tests.pg import Server
from tests.slow_kind import CRASH_KEY, SLEEP_KEY


@pytest.fixture
def hospital(conn: psycopg.Connection) -> Hospital:
    return seed_allocation(conn, workers=8, lines=4, capacity=2, seed=5)


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def get(address: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError) as e:  # not listening (yet, or any more)
        return 0, str(e)


def samples(address: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape: (name, labels) -> value."""
    status, text = get(address, "/metrics")
    assert status == 200, text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(address: str, name: str, **labels: str) -> float:
    return samples(address).get((name, frozenset(labels.items())), 0.0)


def test_a_serving_daemon_counts_its_runs_and_reports_the_queue(
    hospital: Hospital, db_url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    address = free_address()
    d = DaemonProcess(db_url, "--metrics-address", address, slow=True, log_dir=tmp_path)
    try:
        wait_for(lambda: get(address, "/readyz") == (200, "ok\n"), 30, "the daemon to be ready")
        assert get(address, "/healthz") == (200, "ok\n")
        assert value(address, "receptord_solver_slots", state="total") == 2
        assert value(address, "receptord_listen_connected") == 1
        done = [enqueue(conn, hospital.allocation_run) for _ in range(3)]
        assert [wait_final(conn, run) for run in done] == ["COMPLETED"] * 3
        wait_for(
            lambda: value(address, "receptord_runs_finished_total", kind="allocator", status="COMPLETED") == 3,
            10,
            "three completed runs counted",
        )
        for phase in ("load", "solve", "write"):
            count = value(address, "receptord_run_phase_seconds_count", kind="allocator", phase=phase)
            assert count == 3, phase
        # With both solver processes busy, a third run waits, and the queue gauges say so.
        busy = [enqueue(conn, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 10})) for _ in range(2)]
        wait_for(lambda: value(address, "receptord_solver_slots", state="busy") == 2, 15, "both slots busy")
        waiting = enqueue(conn, hospital.allocation_run)
        wait_for(
            lambda: (
                value(address, "receptord_queue_pending_runs", kind="allocator") == 1
                and value(address, "receptord_queue_oldest_pending_seconds", kind="allocator") > 0
            ),
            15,
            "the waiting run in the queue gauges",
        )
        assert [wait_final(conn, run) for run in busy] == ["COMPLETED"] * 2
        assert wait_final(conn, waiting) == "COMPLETED"
        wait_for(lambda: value(address, "receptord_queue_pending_runs", kind="allocator") == 0, 15, "the queue empty")
        # A solver crash hands the run back with an attempt counted: a retry; at max_attempts 1,
        # the run is FAILED instead: poisoned.
        retried = enqueue(conn, hospital.allocation_run, config=Jsonb({CRASH_KEY: True}), max_attempts=2)
        assert wait_final(conn, retried) == "FAILED"
        assert value(address, "receptord_run_retries_total", kind="allocator") == 1
        assert value(address, "receptord_runs_poisoned_total", kind="allocator") == 1
        # Both solver processes are back: the crashed one replaced, and the run's second claim,
        # made while its first runner was still winding down, did not lose the first's slot.
        wait_for(lambda: value(address, "receptord_solver_slots", state="alive") == 2, 10, "the slot replaced")
    finally:
        assert d.stop() == 0, d.log()


def test_readiness_follows_the_database_through_an_outage_and_liveness_holds(
    pg_server: Server, hospital: Hospital, db_url: str, tmp_path: Path
) -> None:
    if pg_server.embedded is None:
        pytest.skip("needs a server the tests started (embedded or RECEPTORD_TEST_SERVER=debian)")
    address = free_address()
    d = DaemonProcess(db_url, "--metrics-address", address, slow=True, log_dir=tmp_path)
    try:
        wait_for(lambda: get(address, "/readyz") == (200, "ok\n"), 30, "the daemon to be ready")
        with psycopg.connect(db_url, autocommit=True) as c:
            busy = enqueue(c, hospital.allocation_run, config=Jsonb({SLEEP_KEY: 6}))
            wait_for(lambda: value(address, "receptord_solver_slots", state="busy") == 1, 30, "the run claimed")
        pg_server.embedded.stop()
        try:
            # The LISTEN connection may notice first; the loop's next tick names the database.
            wait_for(
                lambda: (r := get(address, "/readyz"))[0] == 503 and "database unreachable" in r[1],
                15,
                "not ready in the outage, naming the database",
            )
            assert get(address, "/healthz") == (200, "ok\n")  # alive: a restart would not help
            errors = [v for (name, _), v in samples(address).items() if name == "receptord_database_errors_total"]
            assert sum(errors) > 0
        finally:
            pg_server.embedded.start()
        wait_for(lambda: get(address, "/readyz") == (200, "ok\n"), 30, "ready again after the outage")
        with psycopg.connect(db_url, autocommit=True) as c:
            assert wait_final(c, busy) == "COMPLETED", d.log()
        assert value(address, "receptord_runs_finished_total", kind="allocator", status="COMPLETED") == 1
    finally:
        assert d.stop() == 0, d.log()


def test_a_draining_daemon_is_not_ready() -> None:
    """Checked in-process: the readiness a load balancer reads while the daemon drains."""
    from daemon.loop import Daemon
    from daemon.settings import Settings

    d = Daemon(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    try:
        assert "database unreachable: not reached yet" in d.readiness()
        d.stop()
        assert "draining: not taking new runs" in d.readiness()
        assert d.liveness() == []
    finally:
        d.inbox.close()


def test_a_bad_metrics_address_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "run", "--metrics-address", "localhost"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql:///x"},
    )
    assert done.returncode == 2, done.stderr
    assert "RECEPTORD_METRICS_ADDRESS: 'localhost' is not host:port" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_metrics_address_in_use_is_one_line_and_exit_2(db_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = subprocess.run(
            [sys.executable, "-m", "daemon.cli", "run", "--metrics-address", address, "--database-url", db_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"receptord: RECEPTORD_METRICS_ADDRESS={address}: Address already in use" in done.stderr
