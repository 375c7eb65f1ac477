"""``receptord demo``: the whole loop on an embedded PostgreSQL, no server of your own needed.

Starts the embedded server in a local folder, migrates a fresh database, seeds a synthetic
hospital, enqueues an allocator run with a plain INSERT, runs the daemon until the run is
final, and prints what a workforce unit would look at.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from daemon import log, migrate
from daemon.db import connect, sql_text
from daemon.embedded import EmbeddedPostgres
from daemon.loop import Daemon
from daemon.offline import export_allocator_run
from daemon.settings import Settings
from daemon.synthetic import seed_allocation

DEMO_DB = "receptord_demo"
FINAL = ("COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED")


def main(folder: str, *, workers: int, lines: int) -> int:
    log.configure("console", "info")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    server = EmbeddedPostgres(Path(folder).resolve() / "pgdata")
    with connect(server.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DEMO_DB}")
    url = server.url(DEMO_DB)
    migrate.upgrade(url)
    print(f"\nEmbedded PostgreSQL ready, schema migrated: {url}\n")

    capacity = -(-workers // lines) + 1  # some slack: not every line can be everyone's first
    with connect(url, autocommit=True) as conn:
        hospital = seed_allocation(conn, workers=workers, lines=lines, capacity=capacity, ranked=10, seed=7)
        run_id = str(
            conn.execute(
                "INSERT INTO allocator_py_runs (allocation_run_id) VALUES (%s) RETURNING id",
                (hospital.allocation_run,),
            ).fetchone()[0]  # type: ignore[index]
        )
    print(f"Seeded {workers} doctors ranking their top 10 of {lines} job lines ({capacity} seats each).")
    print(f"Enqueued allocator run {run_id} with a plain INSERT; starting the daemon.\n")

    daemon = Daemon(Settings(database_url=url, log_format="console", poll_seconds=1.0))
    thread = threading.Thread(target=daemon.run, name="daemon")
    thread.start()
    status = _wait_final(url, run_id, timeout=120)
    daemon.stop()
    thread.join()

    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, last_error, result_metadata FROM allocator_py_runs WHERE id = %s",
            (run_id,),
        ).fetchone()
        assert row is not None
        status, error, metadata = row
        print(f"\nRun {run_id}: {status}" + (f" — {error}" if error else ""))
        if metadata:
            print(json.dumps(metadata, indent=2)[:2000])
        allocations = conn.execute(sql_text("demo/allocations"), {"run": run_id}).fetchall()
    if allocations:
        print(f"\n{'doctor':<28} {'job line':<36} {'rank':>5} {'dissatisfaction':>16}")
        for name, line, rank, cost in allocations[:15]:
            print(f"{name:<28} {line:<36} {rank if rank is not None else '-':>5} {cost:>16}")
        if len(allocations) > 15:
            print(f"... and {len(allocations) - 15} more")
    if status == "COMPLETED":
        workbook = Path(folder).resolve() / "allocator-run.xlsx"
        export_allocator_run(url, run_id, workbook)
        print(f"Replay it offline: receptord allocate --parse-xlsx {workbook}")
    print("\nInspect it yourself with the DBA views, e.g.:")
    print(f"  DATABASE_URL='{url}' receptord status")
    return 0 if status == "COMPLETED" else 1


def _wait_final(url: str, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT status FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
            if row and row[0] in FINAL:
                return str(row[0])
            time.sleep(0.1)
    return "TIMEOUT"
