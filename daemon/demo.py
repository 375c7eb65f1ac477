"""``receptord demo``: the whole pipeline on an embedded PostgreSQL, no server of your own.

Starts the embedded server in a local folder, migrates a fresh database, and runs the
natural pipeline through a real daemon with plain INSERTs: a planner run generates
accreditation-compliant job lines for a Victorian health service, synthetic doctors rank
those lines, and an allocator run matches them. It prints what a workforce unit would look
at and writes both runs to workbooks.

``--keep`` (a newcomer's way in) then keeps the server and the daemon running and prints the
connection string, a ``psql`` line and two ready INSERTs, so runs can be enqueued by hand and
watched with ``receptord status --watch``; Ctrl-C drains the daemon and stops both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from daemon import log, migrate
from daemon.db import connect, sql_text
from daemon.embedded import EmbeddedPostgres
from daemon.loop import Daemon
from daemon.offline import export_allocator_run
from daemon.planner.example import positions as example_positions
from daemon.settings import Settings
from daemon.synthetic import seed_positions, seed_workers

DEMO_DB = "receptord_demo"
FINAL = ("COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED")


def main(folder: str, *, workers: int, lines: int, keep: bool = False) -> int:
    log.configure("console", "info")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    out = Path(folder).resolve()
    server = EmbeddedPostgres(out / "pgdata")
    with connect(server.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DEMO_DB}")
    url = server.url(DEMO_DB)
    migrate.upgrade(url)
    print(f"\nEmbedded PostgreSQL ready, schema migrated: {url}\n")

    daemon = Daemon(Settings(database_url=url, log_format="console", poll_seconds=1.0))
    if keep:
        daemon.install_signal_handlers()  # Ctrl-C (or SIGTERM) drains it, then we exit
    thread = threading.Thread(target=daemon.run, name="daemon")
    thread.start()
    try:
        with connect(url, autocommit=True) as conn:
            allocation_run = seed_positions(conn, example_positions(), name="Demo Health 2027 PGY1")
            planner = _insert(
                conn,
                "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, max_seconds) "
                "VALUES (%s, %s, '{VIC_PGY1}', 20) RETURNING id",
                (allocation_run, lines),
            )
            print(f"1. Planner run {planner}: {lines} VIC_PGY1 job lines for a 33-position health service.")
            if not _report(conn, planner):
                return 1
            for name, terms, leave in conn.execute(sql_text("demo/lines"), {"run": planner}).fetchall()[:5]:
                print(f"   {name}: {terms}; leave {leave}")
            seed_workers(conn, allocation_run, workers=workers, ranked=10, seed=7)
            allocator = _insert(
                conn, "INSERT INTO allocator_py_runs (allocation_run_id) VALUES (%s) RETURNING id", (allocation_run,)
            )
            print(f"\n2. {workers} doctors ranked their top 10 lines; allocator run {allocator} matches them.")
            if not _report(conn, allocator):
                return 1
            for name, line, rank, cost in conn.execute(sql_text("demo/allocations"), {"run": allocator}).fetchall()[:8]:
                print(f"   {name:<24} {line:<10} rank {rank if rank is not None else '-':<4} cost {cost}")
            export_allocator_run(url, allocator, out / "allocator-run.xlsx")
            print(f"\nReplay the allocation offline: receptord allocate --parse-xlsx {out / 'allocator-run.xlsx'}")
            if keep:
                spare = seed_positions(conn, example_positions(), name="Demo Health 2028 PGY1", seed=2)
                _way_in(url, server, allocation_run, spare)
                while thread.is_alive():  # until Ctrl-C: the daemon serves what is inserted
                    thread.join(0.5)
                print("\nStopped: the daemon drained; the embedded PostgreSQL stops with this process.")
                return 0
    finally:
        daemon.stop()
        thread.join()
    # The embedded server stops with this process: a connection string to it would not work.
    print(
        "\nThe demo's PostgreSQL has stopped. On a database of your own: "
        "DATABASE_URL=... receptord migrate, then receptord status for the DBA views."
    )
    return 0


def _way_in(url: str, server: EmbeddedPostgres, allocation_run: str, spare: str) -> None:
    """What a newcomer needs to enqueue runs by hand and watch them (``--keep``)."""
    print(
        f"""
The demo's PostgreSQL and daemon keep running (Ctrl-C stops both). From another terminal:

  connect:  {server.psql()} '{url}'
  watch:    DATABASE_URL='{url}' receptord status --watch

Enqueue by hand (in psql); the daemon claims each at once, and status shows it COMPLETED:

  INSERT INTO allocator_py_runs (allocation_run_id) VALUES ('{allocation_run}');
  INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, max_seconds)
    VALUES ('{spare}', 20, '{{VIC_PGY1}}', 20);

The first matches the demo's doctors to its lines again; the second plans 20 lines for a
second year of the same health service (a planner run does not replace lines doctors ranked).
""",
        flush=True,
    )


def _insert(conn: psycopg.Connection[Any], statement: str, params: tuple[Any, ...]) -> str:
    row = conn.execute(statement, params).fetchone()
    assert row is not None
    return str(row[0])


def _report(conn: psycopg.Connection[Any], run_id: str, timeout: float = 120) -> bool:
    """Wait for the run to finish and print its outcome; True when COMPLETED."""
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
        if row and row[1] in FINAL:
            break
        time.sleep(0.1)
    _, status, _, error, metadata = row or (None, "TIMEOUT", None, "no result in time", None)
    print(f"   -> {status}" + (f": {error}" if error else ""))
    if metadata:
        keys = ("status", "method", "objective", "gap", "lines_built", "mean_rank", "rank_histogram", "seconds")
        print("   " + json.dumps({k: metadata[k] for k in keys if k in metadata}))
    return bool(status == "COMPLETED")
