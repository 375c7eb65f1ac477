"""Queue benchmark: pickup latency, throughput with 1/2/4 daemons, per-run queue overhead.

All against the embedded PostgreSQL on a Unix socket, daemons as real `receptord run`
processes, runs as plain INSERTs. Timestamps come from the server's clock (created_at,
claimed_at, completed_at), so client scheduling noise does not enter the latencies.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any

import psycopg

from bench.common import Daemon, fresh_database, percentiles, save, wait_for_daemons
from daemon import runs
from daemon.kinds import registry
from daemon.synthetic import seed_allocation

PICKUP_RUNS = 500
THROUGHPUT_RUNS = 400
OVERHEAD_RUNS = 500


def pickup(listen: bool) -> dict[str, Any]:
    """INSERT commit → claim, one run at a time into an idle daemon."""
    url = fresh_database()
    flags = ["--poll-seconds", "5"] if listen else ["--no-listen", "--poll-seconds", "0.2"]
    daemon = Daemon(url, *flags, name="pickup-listen" if listen else "pickup-poll")
    with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(url, autocommit=True) as events:
        wait_for_daemons(conn, [daemon_name(listen)])
        hospital = seed_allocation(conn, workers=4, lines=3, capacity=2, seed=1)
        events.execute("LISTEN receptord_run_status")
        gaps = random.Random(7)
        for _ in range(PICKUP_RUNS):
            # A random pause first, so each insert meets an idle daemon at a random point of
            # its wait (back to back, a poll-only daemon would find each run at once).
            time.sleep(gaps.uniform(0.005, 0.05))
            row = conn.execute(
                "INSERT INTO allocator_py_runs (allocation_run_id) VALUES (%s) RETURNING id",
                (hospital.allocation_run,),
            ).fetchone()
            assert row is not None
            _wait_completed(events, str(row[0]))
        rows = conn.execute(
            "SELECT extract(epoch FROM claimed_at - created_at) * 1000, "
            "       (result_metadata->'seconds'->>'solve')::float8 * 1000 "
            "  FROM allocator_py_runs WHERE status = 'COMPLETED'"
        ).fetchall()
    daemon.stop()
    assert len(rows) == PICKUP_RUNS
    return {
        "pickup_ms": percentiles([float(r[0]) for r in rows]),
        "solve_ms_median": statistics.median(float(r[1]) for r in rows),
    }


def daemon_name(listen: bool) -> str:
    return "pickup-listen" if listen else "pickup-poll"


def _wait_completed(events: psycopg.Connection[Any], run_id: str) -> None:
    for note in events.notifies(timeout=30):
        payload = json.loads(note.payload)
        if payload["id"] == run_id and payload["status"] == "COMPLETED":
            return
    raise TimeoutError(f"run {run_id} did not complete")


def throughput(n_daemons: int) -> dict[str, Any]:
    """Tiny runs per second, enqueued in one batch, with ``n_daemons`` daemons of 2 slots each."""
    url = fresh_database()
    names = [f"tp{n_daemons}-{i}" for i in range(n_daemons)]
    daemons = [Daemon(url, name=n) for n in names]
    with psycopg.connect(url, autocommit=True) as conn:
        wait_for_daemons(conn, names)
        hospital = seed_allocation(conn, workers=4, lines=3, capacity=2, seed=1)
        row = conn.execute(
            "WITH r AS (INSERT INTO allocator_py_runs (allocation_run_id) "
            "  SELECT %s FROM generate_series(1, %s) RETURNING created_at) SELECT min(created_at) FROM r",
            (hospital.allocation_run, THROUGHPUT_RUNS),
        ).fetchone()
        assert row is not None
        started = row[0]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = conn.execute("SELECT count(*) FROM allocator_py_runs WHERE status = 'COMPLETED'").fetchone()
            if done and done[0] == THROUGHPUT_RUNS:
                break
            time.sleep(0.2)
        span = conn.execute("SELECT extract(epoch FROM max(completed_at) - %s) FROM allocator_py_runs", (started,))
        seconds = float(span.fetchone()[0])  # type: ignore[index]
    for d in daemons:
        d.stop()
    return {
        "daemons": n_daemons,
        "runs": THROUGHPUT_RUNS,
        "seconds": seconds,
        "runs_per_second": THROUGHPUT_RUNS / seconds,
    }


def overhead() -> dict[str, Any]:
    """The queue's own statements per run, timed from the client: claim, one heartbeat, and the
    finishing transaction (lock, finish, commit) with no results to write."""
    url = fresh_database()
    kind = registry()["allocator"]
    claim_ms, beat_ms, finish_ms = [], [], []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id) SELECT gen_random_uuid() FROM generate_series(1, %s)",
            (OVERHEAD_RUNS,),
        )
        for _ in range(OVERHEAD_RUNS):
            t0 = time.perf_counter()
            c = runs.claim(conn, kind, "bench:1")
            t1 = time.perf_counter()
            assert c is not None
            assert runs.heartbeat(conn, c, {"best_objective": 1.0})
            t2 = time.perf_counter()
            with conn.transaction():
                assert runs.lock(conn, c)
                assert runs.finish(conn, c, "COMPLETED", {"objective": 1.0}, None)
            t3 = time.perf_counter()
            claim_ms.append((t1 - t0) * 1000)
            beat_ms.append((t2 - t1) * 1000)
            finish_ms.append((t3 - t2) * 1000)
    total = [a + b + c for a, b, c in zip(claim_ms, beat_ms, finish_ms, strict=True)]
    return {
        "claim_ms": percentiles(claim_ms),
        "heartbeat_ms": percentiles(beat_ms),
        "finish_ms": percentiles(finish_ms),
        "total_ms": percentiles(total),
    }


def main() -> dict[str, Any]:
    results: dict[str, Any] = {
        "pickup_notify": pickup(listen=True),
        "pickup_poll_0.2s": pickup(listen=False),
        "throughput": [throughput(n) for n in (1, 2, 4)],
        "overhead": overhead(),
    }
    tiny_solve = results["pickup_notify"]["solve_ms_median"]
    results["overhead"]["share_of_tiny_solve"] = results["overhead"]["total_ms"]["median"] / tiny_solve
    save("queue", results, table(results))
    return results


def table(r: dict[str, Any]) -> str:
    n, p = r["pickup_notify"]["pickup_ms"], r["pickup_poll_0.2s"]["pickup_ms"]
    o = r["overhead"]
    lines = [
        "| measure | median | p95 | p99 |",
        "|---|---|---|---|",
        f"| pickup, LISTEN/NOTIFY ({n['n']} runs) | {n['median']:.1f} ms | {n['p95']:.1f} ms | {n['p99']:.1f} ms |",
        f"| pickup, polling every 0.2 s ({p['n']} runs) "
        f"| {p['median']:.1f} ms | {p['p95']:.1f} ms | {p['p99']:.1f} ms |",
        f"| queue overhead per run: claim + heartbeat + finish | {o['total_ms']['median']:.2f} ms "
        f"| {o['total_ms']['p95']:.2f} ms | {o['total_ms']['p99']:.2f} ms |",
        "",
        "| daemons (2 slots each) | tiny runs/s |",
        "|---|---|",
        *(f"| {t['daemons']} | {t['runs_per_second']:.0f} |" for t in r["throughput"]),
        "",
        f"Queue overhead is {100 * o['share_of_tiny_solve']:.0f}% of a tiny run's solve "
        f"({r['pickup_notify']['solve_ms_median']:.1f} ms median, 4 workers x 3 lines, incl. process hand-off).",
    ]
    return "\n".join(lines)
