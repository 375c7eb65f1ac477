"""Solve one named run from the database now, in the foreground (`receptord allocate
--allocator-run-id ID`, `receptord plan --planner-run-id ID`).

The run goes through the same lifecycle as under a daemon (claim, heartbeat, one fenced
commit), so it is safe to do while daemons are running: whoever claims it first solves it.
"""

from __future__ import annotations

from daemon import log, runs
from daemon.db import make_pool, sql_text
from daemon.kinds import registry
from daemon.metrics import Metrics
from daemon.runner import Runner
from daemon.settings import Settings, memory_bytes
from daemon.text import bounded, printable
from daemon.workers import SolverSlot, context

log_ = log.get("receptord.foreground")


def solve_run(settings: Settings, kind_name: str, run_id: str) -> int:
    kind = registry()[kind_name]
    pool = make_pool(settings.database_url, 3, name="receptord-foreground")
    pool.open(wait=True, timeout=30)
    try:
        with pool.connection() as conn:
            claim = runs.claim_id(conn, kind, run_id, settings.name)
        if claim is None:
            with pool.connection() as conn:
                row = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
            if row is None or row[0] != kind_name:
                print(f"no {kind_name} run {printable(run_id)}")
            elif row[1] == "PENDING":  # claimable, but for another run it waits for
                with pool.connection() as conn:
                    waiting = conn.execute(sql_text("queue/waiting_why"), {"id": run_id}).fetchone()
                why = printable(waiting[0]) if waiting else "another daemon is claiming it"
                print(f"{kind_name} run {printable(run_id)} is PENDING and waits: {why}")
            else:
                claimed = f" (claimed by {printable(row[2])})" if row[2] else ""
                print(f"{kind_name} run {printable(run_id)} is {row[1]}{claimed}")
                print("only a PENDING run can be solved; to solve it again, insert a new run")
            return 1
        slot = SolverSlot(context(), settings.log_format, settings.log_level, memory_bytes(settings.slot_memory))
        try:
            runner = Runner(claim, slot, pool, settings, metrics=Metrics())  # counted, not served
            runner.start()
            runner.join()
        finally:
            slot.shutdown()
        with pool.connection() as conn:
            row = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
    finally:
        pool.close()
    assert row is not None
    _, status, _, error, metadata = row
    print(f"{kind_name} run {printable(run_id)}: {status}" + (f": {printable(error)}" if error else ""))
    if metadata:
        summary = {k: metadata[k] for k in ("status", "method", "objective", "gap", "mean_rank") if k in metadata}
        print("  " + ", ".join(f"{k}={bounded(printable(str(v)), 200)}" for k, v in summary.items()))
    return 0 if status == "COMPLETED" else 1
