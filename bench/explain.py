"""What explanations cost: the allocator's solve with ``explain`` on and off, in the solver
itself (no database: what a solver slot spends), on the M and L tiers' shapes (200 x 200 and
1,500 x 1,500, capacity 1, full random rankings). Five solves each way, alternated; medians.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any

import numpy as np

from bench.common import save
from daemon.allocator.data import AllocatorInput, JobLine, RankTable
from daemon.allocator.solve import solve
from daemon.solving import SolveContext

SIZES = {"M": 200, "L": 1500}
REPEATS = 5


def hospital(n: int, seed: int) -> AllocatorInput:
    """n workers each ranking all n lines of one seat, in random order."""
    rng = np.random.default_rng(seed)
    who = np.repeat(np.arange(n, dtype=np.int32), n)
    what = np.concatenate([rng.permutation(n).astype(np.int32) for _ in range(n)])
    rank = np.tile(np.arange(1, n + 1, dtype=np.float64), n)
    line_ids = tuple(f"l{i:05d}" for i in range(n))
    return AllocatorInput(
        run_id="bench",
        allocation_run_id="bench",
        config={},
        worker_ids=tuple(f"w{i:05d}" for i in range(n)),
        line_ids=line_ids,
        lines=tuple(JobLine(lid, lid, 1) for lid in line_ids),
        worker_prefs=RankTable(who, what, rank),
    )


def run_size(tier: str, n: int) -> dict[str, Any]:
    base = hospital(n, seed=n)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    explain_seconds, rows = [], 0
    for _ in range(REPEATS):
        for explain in (False, True):
            out = solve(dataclasses.replace(base, config={"explain": explain}), SolveContext())
            seconds[explain].append(out.metadata["solve_seconds"])
            if explain:
                explain_seconds.append(out.metadata["explain_seconds"])
                rows = out.metadata["explanations"]["rows"]
    off, on = statistics.median(seconds[False]), statistics.median(seconds[True])
    return {
        "tier": tier,
        "size": f"{n}x{n} cap 1",
        "method": out.metadata["method"],
        "explanation_rows": rows,
        "solve_seconds_without": off,
        "solve_seconds_with": on,
        "explain_seconds": statistics.median(explain_seconds),
        "added": on / off - 1.0,
        "repeats": REPEATS,
    }


def main() -> dict[str, Any]:
    rows = []
    for tier, n in SIZES.items():
        rows.append(run_size(tier, n))
        print(rows[-1], flush=True)
    save("explain", {"tiers": rows}, table(rows))
    return {"tiers": rows}


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| tier | size | method | rows | solve without | solve with | explaining | added |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['tier']} | {r['size']} | {r['method']} | {r['explanation_rows']:,} "
            f"| {r['solve_seconds_without'] * 1000:.0f} ms | {r['solve_seconds_with'] * 1000:.0f} ms "
            f"| {r['explain_seconds'] * 1000:.0f} ms | {r['added']:.0%} |"
        )
    return "\n".join(out)
