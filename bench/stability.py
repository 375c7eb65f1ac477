"""Weak-stability benchmark (issue 14): the five goal cases, solved in-process.

In-process (``daemon.allocator.solve.solve`` on a generated AllocatorInput, no database): the
database adds the same load and write time as any allocator run (bench/allocator.py measures
those), and these cases are about the solver. Every result goes through the independent
checker (``daemon.checks.allocation``), whose blocking-pair scan is the verdict recorded.

Cases (seeded; every worker ranks every line; one supervisor per line):
- G1 1,500 x 375 x 4 seats, no ties (strict rankings both sides), goal: proven in < 5 s;
- G2 200 x 200 x 1, ties (workers rank in tied pairs), goal: proven in < 2 s;
- G3 300 x 75 x 4, ties, supervisors rank 40 workers each (the rest tie), goal: proven < 60 s;
- G4 600 x 150 x 4, ties, goal: certified gap <= 1 % in 60 s;
- G5 1,500 x 375 x 4, ties, goal: certified gap < 10 % in 120 s.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import save
from daemon.allocator.data import AllocatorInput, JobLine, Preferencer, RankTable
from daemon.allocator.solve import solve
from daemon.checks.allocation import check_allocation
from daemon.solving import SolveContext


@dataclass(frozen=True)
class Case:
    name: str
    workers: int
    lines: int
    capacity: int
    ties: bool
    supervisor_ranks: int | None  # workers each supervisor ranks (None: all)
    max_seconds: float
    goal: str
    goal_seconds: float
    goal_gap: float  # 0: proven optimal


CASES = [
    Case("G1", 1500, 375, 4, False, None, 60, "proven optimal in < 5 s", 5, 0.0),
    Case("G2", 200, 200, 1, True, None, 60, "proven optimal in < 2 s", 2, 0.0),
    Case("G3", 300, 75, 4, True, 40, 60, "proven optimal in < 60 s", 60, 0.0),
    Case("G4", 600, 150, 4, True, None, 60, "gap <= 1 % in 60 s", 60, 0.01),
    Case("G5", 1500, 375, 4, True, None, 120, "gap < 10 % in 120 s", 120, 0.10),
]


def generate(case: Case, seed: int = 14) -> AllocatorInput:
    rng = np.random.default_rng(seed)
    n_w, n_l = case.workers, case.lines
    workers = tuple(f"w{i:05d}" for i in range(n_w))
    lines = tuple(f"l{j:05d}" for j in range(n_l))
    ranks = np.argsort(rng.random((n_w, n_l)), axis=1).astype(np.float64) + 1
    if case.ties:  # 1, 1, 2, 2, 3, 3, ... (dense notation)
        ranks = np.ceil(ranks / 2)
    who, what = np.nonzero(np.ones((n_w, n_l), dtype=bool))
    worker_prefs = RankTable(who.astype(np.int32), what.astype(np.int32), ranks[who, what])
    per_sup = case.supervisor_ranks or n_w
    sup_who = np.repeat(np.arange(n_l), per_sup)
    sup_what = np.concatenate([rng.permutation(n_w)[:per_sup] for _ in range(n_l)])
    sup_rank = np.tile(np.arange(1, per_sup + 1, dtype=np.float64), n_l)
    sups = tuple(Preferencer(f"s{j:05d}", f"S{j}") for j in range(n_l))
    return AllocatorInput(
        run_id=case.name,
        allocation_run_id="bench",
        config={"stability": "weak", "max_seconds": case.max_seconds, "rank_notation": "dense", "explain": False},
        worker_ids=workers,
        line_ids=lines,
        lines=tuple(JobLine(lid, lid, case.capacity) for lid in lines),
        worker_tags={},
        worker_prefs=worker_prefs,
        preferencers=sups,
        line_preferencers=tuple((lines[j], sups[j].id) for j in range(n_l)),
        preferencer_prefs=RankTable(sup_who.astype(np.int32), sup_what.astype(np.int32), sup_rank),
        weightings=(),
        eligibility=(),
        taken_capacity={},
        preferencer_taken_workers={},
        preferencer_used_lines={},
    )


def run_case(case: Case) -> dict[str, Any]:
    inp = generate(case)
    started = time.perf_counter()
    out = solve(inp, SolveContext(threads=2))
    seconds = time.perf_counter() - started
    meta = out.metadata
    verdict = "not run"
    if out.status == "COMPLETED":
        check = check_allocation(inp, out.payload.allocations)
        verdict = "ok" if check.ok else f"{len(check.violations)} violations: {check.violations[:3]}"
    gap = meta.get("gap")
    met = (
        out.status == "COMPLETED"
        and verdict == "ok"
        and seconds <= case.goal_seconds
        and (meta.get("status") == "OPTIMAL" if case.goal_gap == 0 else gap is not None and gap <= case.goal_gap)
    )
    return {
        "case": case.name,
        "size": f"{case.workers}x{case.lines} cap {case.capacity}",
        "ties": case.ties,
        "supervisor_ranks": case.supervisor_ranks or case.workers,
        "goal": case.goal,
        "met": met,
        "run_status": out.status,
        "status": meta.get("status"),
        "method": meta.get("method"),
        "objective": meta.get("objective"),
        "best_bound": meta.get("best_bound"),
        "gap": gap,
        "seconds": seconds,
        "max_seconds": case.max_seconds,
        "checker": verdict,
        "error": out.error,
    }


def main(names: list[str] | None = None) -> dict[str, Any]:
    """Every case, saved to bench/results/stability.json; or only the ``names`` given (e.g.
    ``python -m bench stability G1``), printed and not saved, so a partial run never replaces
    the full table."""
    unknown = sorted(set(names or []) - {c.name for c in CASES})
    if unknown:
        raise SystemExit(f"unknown stability case(s) {unknown}; choose from {[c.name for c in CASES]}")
    rows = []
    for case in CASES:
        if names and case.name not in names:
            continue
        rows.append(run_case(case))
        print(rows[-1], flush=True)
    if not names:
        save("stability", {"in_process": True, "cases": rows}, table(rows))
    return {"cases": rows}


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| case | size | ties | goal | status | method | objective | best bound | gap | seconds | checker | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gap = "" if r["gap"] is None else f"{100 * r['gap']:.2f} %"
        objective = "" if r["objective"] is None else f"{r['objective']:.1f}"
        bound = "" if r["best_bound"] is None else f"{r['best_bound']:.1f}"
        out.append(
            f"| {r['case']} | {r['size']} | {'yes' if r['ties'] else 'no'} | {r['goal']} | {r['status']} "
            f"| {r['method']} | {objective} | {bound} | {gap} | {r['seconds']:.2f} | {r['checker']} "
            f"| {'met' if r['met'] else 'not met'} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main(sys.argv[1:])
