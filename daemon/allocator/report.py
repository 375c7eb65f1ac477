"""Turn a solved assignment into result rows and JSON-able result metadata (SPEC §4)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.allocator.problem import Allocation, Problem


def allocations(problem: Problem, line_of: npt.NDArray[np.int64]) -> tuple[Allocation, ...]:
    """One row per worker, in worker id order (the Problem's canonical order)."""
    rows = []
    for w, ln in enumerate(line_of.tolist()):
        rows.append(
            Allocation(
                worker=problem.worker_ids[w],
                job_line=problem.line_ids[ln],
                worker_rank=float(problem.rank[w, ln]) if problem.ranked[w, ln] else None,
                dissatisfaction=float(problem.cost[w, ln]),
            )
        )
    return tuple(rows)


def objective(problem: Problem, line_of: npt.NDArray[np.int64]) -> float:
    """The true (unscaled) objective of an assignment."""
    return float(problem.cost[np.arange(problem.n_workers), line_of].sum())


def _rank_key(rank: float) -> str:
    return str(int(rank)) if rank == int(rank) else f"{rank:g}"


def metadata(
    problem: Problem,
    line_of: npt.NDArray[np.int64],
    *,
    status: str,
    method: str,
    best_bound: float,
    solve_seconds: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Status, objective, bound, gap, timings and rank statistics of a solution.

    Ranks are the normalised (fractional) ranks; the histogram counts "1", "2", "1.5", … and
    "unranked" for workers placed on a line they did not rank. Mean and worst rank cover the
    ranked placements only (``unranked`` says how many others there are).
    """
    obj = objective(problem, line_of)
    rows = np.arange(problem.n_workers)
    ranked = problem.ranked[rows, line_of]
    ranks = problem.rank[rows, line_of][ranked]
    histogram = Counter(_rank_key(float(r)) for r in np.sort(ranks))
    if (~ranked).any():
        histogram["unranked"] = int((~ranked).sum())
    gap = max(0.0, obj - best_bound) / max(abs(obj), 1e-9) if status != "OPTIMAL" else 0.0
    return {
        "status": status,
        "method": method,
        "objective": obj,
        "best_bound": obj if status == "OPTIMAL" else best_bound,
        "gap": gap,
        "solve_seconds": solve_seconds,
        "rounding_error_bound": problem.rounding_bound,
        "cost_scale": problem.scale,
        "n_workers": problem.n_workers,
        "n_job_lines": problem.n_lines,
        "rank_histogram": dict(histogram),
        "mean_rank": float(ranks.mean()) if ranks.size else None,
        "worst_rank": float(ranks.max()) if ranks.size else None,
        "unranked": int((~ranked).sum()),
        **(extra or {}),
    }
