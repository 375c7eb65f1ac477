"""Allocator benchmark: end to end through a real daemon on the embedded PostgreSQL, each tier
beside scipy's linear_sum_assignment on the same rank matrix in the same run.

Tiers (full rankings): S 50x50, M 200x200, L 1,500x1,500 (2.25 M preference rows), all
capacity 1; XL 5,000 workers x 500 lines of capacity 10; M-stable: M with weak stability,
tied ranks (pairs share a rank) and one supervisor per line ranking every worker.

The reference is the assignment optimum of a cost matrix computed here from the raw rows,
independently of the model's code: the optimum itself for the pure tiers, a lower bound for
the stable one (stability only adds constraints).
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from bench.common import Daemon, fresh_database, save, wait_for_daemons
from daemon.allocator.load import ranks
from daemon.db import sql_text
from daemon.synthetic import Hospital, seed_allocation

Matrix = np.ndarray[Any, Any]

ALPHA = 0.3  # the default preferencer_weight


@dataclass(frozen=True)
class Tier:
    name: str
    workers: int
    lines: int
    capacity: int
    config: dict[str, Any] = field(default_factory=dict)
    stable: bool = False


TIERS = [
    Tier("S", 50, 50, 1),
    Tier("M", 200, 200, 1),
    Tier("L", 1500, 1500, 1),
    Tier("XL", 5000, 500, 10),
    Tier("M-stable", 200, 200, 1, {"stability": "weak", "max_seconds": 60, "rank_notation": "dense"}, stable=True),
]


def rank_matrix(conn: psycopg.Connection[Any], query: str, rows: list[str], cols: list[str], **ids: Any) -> Matrix:
    table = ranks(conn, query, ids, rows, cols)
    matrix = np.zeros((len(rows), len(cols)))
    matrix[table.who, table.what] = table.rank
    return matrix


def cost_matrix(conn: psycopg.Connection[Any], h: Hospital, supervised: bool) -> Matrix:
    """The objective's cost of each (worker, line), computed here from the raw rows: full
    rankings, ties at the mean of their positions; a line's supervisor's rank of the worker,
    or (W+1)/2 for every worker when the line has none."""
    ranks = rank_matrix(
        conn,
        "allocator/worker_prefs",
        h.workers,
        h.lines,
        workers=h.workers,
        lines=h.lines,
        run_workers=h.workers,
        run_lines=h.lines,
        whole_run=False,
    )
    worker_cost = rankdata(ranks, method="average", axis=1)
    if supervised:  # supervisor i owns line i and ranks every worker (synthetic.seed_allocation)
        sups = [r[0] for r in conn.execute(sql_text("bench/line_supervisors"), {"lines": h.lines})]
        by_sup = rank_matrix(conn, "allocator/preferencer_prefs", sups, h.workers, preferencers=sups, workers=h.workers)
        line_cost = by_sup.T  # [worker, line]
    else:
        line_cost = np.full(ranks.shape, (len(h.workers) + 1) / 2)
    return np.asarray((1 - ALPHA) * worker_cost + ALPHA * line_cost, dtype=np.float64)


def reference(tier: Tier, cost: Matrix) -> tuple[float, float]:
    """(objective, seconds) of the assignment optimum; a lower bound for the stable tier."""
    seats = np.repeat(cost, tier.capacity, axis=1)
    started = time.perf_counter()
    rows, cols = linear_sum_assignment(seats)
    seconds = time.perf_counter() - started
    return float(seats[rows, cols].sum()), seconds


def run_tier(conn: psycopg.Connection[Any], tier: Tier) -> dict[str, Any]:
    seeded = time.perf_counter()
    h = seed_allocation(
        conn,
        workers=tier.workers,
        lines=tier.lines,
        capacity=tier.capacity,
        seed=zlib.crc32(tier.name.encode()),
        name=f"bench {tier.name}",
        supervisors=tier.lines if tier.stable else 0,
    )
    if tier.stable:  # dense ranks with ties: 1,1,2,2,3,3,...
        conn.execute(
            "UPDATE preference_worker_job_lines SET rank = ceil(rank / 2.0) WHERE worker_mapping = ANY(%s::uuid[])",
            (h.workers,),
        )
    seeded = time.perf_counter() - seeded
    row = conn.execute(
        "INSERT INTO allocator_py_runs (allocation_run_id, config) VALUES (%s, %s) RETURNING id",
        (h.allocation_run, json.dumps(tier.config)),
    ).fetchone()
    assert row is not None
    run_id = row[0]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        final = conn.execute(
            "SELECT status, extract(epoch FROM completed_at - claimed_at), result_metadata, last_error "
            "FROM allocator_py_runs WHERE id = %s AND status NOT IN ('PENDING', 'GENERATING')",
            (run_id,),
        ).fetchone()
        if final:
            break
        time.sleep(0.05)
    else:
        raise TimeoutError(tier.name)
    status, wall, meta, error = final
    ref_objective, ref_seconds = reference(tier, cost_matrix(conn, h, tier.stable))
    meta = meta or {}
    solve = float(meta.get("solve_seconds", float("nan"))) - float(meta.get("build_seconds", 0.0))
    return {
        "tier": tier.name,
        "size": f"{tier.workers}x{tier.lines} cap {tier.capacity}",
        "status": status,
        "error": error,
        "seed_seconds": seeded,
        "end_to_end_seconds": float(wall),
        "daemon_seconds": meta.get("seconds"),
        "build_seconds": meta.get("build_seconds"),
        "solve_seconds": solve,
        "reference_seconds": ref_seconds,
        "solve_vs_reference": solve / ref_seconds if ref_seconds else None,
        # The independent check of the allocation, in the solver process (part of "solve").
        "check_seconds": meta.get("check_seconds"),
        "method": meta.get("method"),
        "solver_status": meta.get("status"),
        "objective": meta.get("objective"),
        "best_bound": meta.get("best_bound"),
        "gap": meta.get("gap"),
        "reference_objective": ref_objective,
        "reference_is": "lower bound (no stability)" if tier.stable else "optimum",
    }


def main(names: list[str] | None = None) -> dict[str, Any]:
    """Every tier, saved to bench/results/allocator.json; or only the ``names`` given (e.g.
    ``python -m bench allocator L``), printed and not saved, so a partial run never
    replaces the full table."""
    unknown = sorted(set(names or []) - {t.name for t in TIERS})
    if unknown:
        raise SystemExit(f"unknown allocator tier(s) {unknown}; choose from {[t.name for t in TIERS]}")
    tiers = [t for t in TIERS if not names or t.name in names]
    url = fresh_database()
    daemon = Daemon(url, "--solver-processes", "1", name="bench-allocator")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            wait_for_daemons(conn, ["bench-allocator"])
            rows = []
            for tier in tiers:
                rows.append(run_tier(conn, tier))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        daemon.stop()
    if names:
        print(table(rows))
    else:
        save("allocator", {"tiers": rows}, table(rows))
    return {"tiers": rows}


def _check(row: dict[str, Any]) -> str:
    """The independent check's time, and its share of the daemon's solve phase."""
    check, solve = row.get("check_seconds"), (row.get("daemon_seconds") or {}).get("solve")
    if check is None or not solve:
        return ""
    return f"{1000 * check:.0f} ms ({100 * check / solve:.0f} % of solve)"


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| tier | size | status | method | end to end | solve | linear_sum_assignment | ratio "
        "| check | objective | reference | gap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['tier']} | {r['size']} | {r['solver_status']} | {r['method']} | {r['end_to_end_seconds']:.2f} s "
            f"| {1000 * r['solve_seconds']:.1f} ms | {1000 * r['reference_seconds']:.1f} ms "
            f"| {r['solve_vs_reference']:.1f}x | {_check(r)} | {r['objective']:.1f} | {r['reference_objective']:.1f} "
            f"({r['reference_is']}) | {r['gap']} |"
        )
    return "\n".join(out)
