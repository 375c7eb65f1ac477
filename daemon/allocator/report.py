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
        if ln == problem.unassigned_line:
            continue  # unassigned: listed in the metadata, never a row
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
    """The true (unscaled) objective of an assignment, ``unassigned_penalty`` included."""
    return float(problem.cost[np.arange(problem.n_workers), line_of].sum())


def unassigned_count(problem: Problem, line_of: npt.NDArray[np.int64]) -> int:
    return 0 if problem.unassigned_line is None else int((line_of == problem.unassigned_line).sum())


OVER_PENALTY = "every eligible placement costs more than unassigned_penalty"
NO_LINE = "no eligible job line with seats left"
SEATS_TAKEN = "every seat on their eligible job lines is taken by better-placed workers"
CAPS = "supervisor caps (max_workers / max_job_lines) close their eligible job lines with spare seats"
OTHER = "placing them would break weak stability or leave a must-have job line empty"


def unassigned(problem: Problem, line_of: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    """Who is left unassigned and the first reason that applies (a simple classification)."""
    if problem.unassigned_line is None:
        return []
    real = problem.n_real_lines
    load = np.bincount(line_of, minlength=problem.n_lines)[:real]
    spare = load < problem.capacity[:real]
    capped = np.zeros(real, dtype=bool)
    for sup in problem.supervisors:
        capped[sup.lines] = True
    out = []
    for w in np.flatnonzero(line_of == problem.unassigned_line).tolist():
        open_ = problem.eligible[w, :real] & (problem.capacity[:real] > 0)
        if (
            problem.eligible[w, :real].any()
            and problem.cost[w, :real][problem.eligible[w, :real]].min() > problem.penalty
        ):
            why = OVER_PENALTY
        elif not open_.any():
            why = NO_LINE
        elif not (open_ & spare).any():
            why = SEATS_TAKEN
        elif (open_ & spare & capped).any():
            why = CAPS
        else:
            why = OTHER
        out.append({"worker_mapping": problem.worker_ids[w], "why": why, "penalty": problem.penalty})
    return out


def rank_key(rank: float) -> str:
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
    "unranked" for workers placed on a line they did not rank. Mean and worst rank cover every
    placed worker, a placement on an unranked line at the worker's unranked budget (the rank
    it costs). Unassigned workers (allow_unassigned) are in none of these: ``unassigned``
    lists them with why, ``n_unassigned`` counts them.
    """
    obj = objective(problem, line_of)
    placed = np.flatnonzero(line_of != problem.unassigned_line) if problem.unassigned_line is not None else None
    rows = np.arange(problem.n_workers) if placed is None else placed
    on = line_of[rows]
    ranked = problem.ranked[rows, on]
    all_ranks = problem.rank[rows, on]
    histogram = Counter(rank_key(float(r)) for r in np.sort(all_ranks[ranked]))
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
        "n_job_lines": problem.n_real_lines,
        "rank_histogram": dict(histogram),
        "mean_rank": float(all_ranks.mean()) if all_ranks.size else None,
        "worst_rank": float(all_ranks.max()) if all_ranks.size else None,
        "unranked": int((~ranked).sum()),
        **(
            {}
            if problem.unassigned_line is None
            else {
                "n_unassigned": unassigned_count(problem, line_of),
                "unassigned": unassigned(problem, line_of),
                "unassigned_penalty": problem.penalty,
            }
        ),
        **(extra or {}),
    }
