"""``result_metadata`` of a planner run: fill, what stays unfilled, and each soft goal."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from daemon.planner import goals, leave, readable
from daemon.planner.leave import LeavePattern
from daemon.planner.problem import Problem, seats_of
from daemon.planner.rules.predicates import specialty_key


def _fill(problem: Problem, lines: Sequence[Sequence[int]]) -> dict[str, list[int]]:
    fill = {p.id: [0] * problem.n_terms for p in (*problem.positions, *problem.barred)}
    for held in lines:
        for t, i in enumerate(held):
            fill[problem.positions[i].id][t] += 1
    return fill


def demand(problem: Problem, lines: Sequence[Sequence[int]]) -> dict[str, Any]:
    fill = _fill(problem, lines)
    unfilled, dropped = [], []
    barred = {p.id for p in problem.barred}
    for p in (*problem.positions, *problem.barred):
        seats = seats_of(p, problem.n_terms)
        for t, (cap, got) in enumerate(zip(seats, fill[p.id], strict=True)):
            if got < cap:
                unfilled.append(
                    {
                        "position": p.id,
                        "name": p.name,
                        "term_index": t,
                        "unfilled": cap - got,
                        "excludable": p.excludable,
                        "barred": p.id in barred,
                    }
                )
        if p.excludable and any(seats) and not any(fill[p.id]):
            dropped.append(p.id)
    return {
        "fill": fill,
        "unfilled": unfilled,
        "unfilled_required_seats": sum(u["unfilled"] for u in unfilled if not u["excludable"]),
        "dropped_positions": dropped,
        "closed_positions": [p.id for p in problem.closed],
    }


def demand_proof(
    problem: Problem, lines: Sequence[Sequence[int]], lines_proven: bool, seats_proven: bool
) -> dict[str, Any]:
    """The plan's hard goal, apart from the soft ones: lines, then required seats, each with
    whether it is proven the best possible (the soft goals' gap says nothing about this)."""
    unfilled = goals.unfilled_required(problem, lines)
    seats_proven = seats_proven or unfilled == goals.fewest_unfilled(problem, len(lines))
    return {
        "lines_requested": problem.inp.n_job_lines,
        "lines_built": len(lines),
        "lines_proven_most": lines_proven or len(lines) == problem.inp.n_job_lines,
        "required_seats_unfilled": unfilled,
        "required_seats_unfilled_proven_least": seats_proven,
        "proven_optimal": (lines_proven or len(lines) == problem.inp.n_job_lines) and seats_proven,
    }


SCORE_NOTE = (
    "soft goals only, lower is better: a large weight per term beyond a line's reading limits, "
    "then 10 per term shared by a pair of lines (all pairs) minus specialty affinity; the "
    "minimum distance is raised after CP-SAT (diversity.local_search); the bound is a counting "
    "bound that plans rarely approach, so the distance to it is not a measure of the plan"
)


def soft_score(problem: Problem, lines: Sequence[Sequence[int]]) -> dict[str, Any]:
    return {
        "score": goals.soft_score(problem, lines),
        "score_bound": goals.soft_score_bound(problem, len(lines)),
        "score_note": SCORE_NOTE,
    }


def diversity(lines: Sequence[Sequence[int]]) -> dict[str, Any]:
    grid = np.asarray(lines, dtype=np.int64).reshape(len(lines), -1)
    n, n_terms = grid.shape
    if n < 2:
        return {
            "identical_pairs": 0,
            "min_hamming": None,
            "mean_hamming": None,
            "shared_terms_all_pairs": 0,
            "weight": goals.DIVERSITY_WEIGHT,
        }
    shared = sum((grid[:, t, None] == grid[None, :, t]).astype(np.int64) for t in range(n_terms))
    upper = shared[np.triu_indices(n, k=1)]
    hamming = n_terms - upper
    return {
        "identical_pairs": int(np.sum(hamming == 0)),
        "min_hamming": int(hamming.min()),
        "mean_hamming": round(float(hamming.mean()), 3),
        "shared_terms_all_pairs": int(upper.sum()),
        "weight": goals.DIVERSITY_WEIGHT,
    }


def reading(problem: Problem, lines: Sequence[Sequence[int]]) -> dict[str, Any]:
    rural, repeats = readable.excess(problem, lines)
    return {
        "on": readable.enabled(problem),
        "rural_terms_beyond_one": rural,
        "specialty_terms_beyond_two": repeats,
        "weight": goals.reading_weight(problem, len(lines)),
    }


def affinity(problem: Problem, lines: Sequence[Sequence[int]]) -> dict[str, Any]:
    table = goals.affinity_table(problem)
    keys = [specialty_key(p.parent_specialty) for p in problem.positions]
    score = sum(table.get((keys[a], keys[b]), 0) for held in lines for a, b in itertools.pairwise(held))
    return {"score": score, "pairs_in_matrix": len(table), "weight": goals.AFFINITY_WEIGHT}


def leave_goal(problem: Problem, lines: Sequence[Sequence[int]], plan: Sequence[LeavePattern]) -> dict[str, Any]:
    year = problem.year_weeks
    load = np.zeros(year + 1, dtype=np.int64)
    unit: dict[tuple[int, int], int] = {}
    term_of_week = np.repeat(np.arange(problem.n_terms), problem.terms)
    for held, pattern in zip(lines, plan, strict=True):
        for block in pattern:
            for week in block.weeks:
                load[week] += 1
                key = (held[term_of_week[week - 1]], week)
                unit[key] = unit.get(key, 0) + 1
    total = int(load.sum())
    return {
        "first_half_share": round(float(load[: year // 2 + 1].sum()) / total, 3) if total else None,
        "target_first_half_share": leave.FIRST_HALF_SHARE,
        "most_lines_on_leave_in_a_week": int(load.max()),
        "most_from_one_position_in_a_week": max(unit.values(), default=0),
        "split_leave_lines": sum(1 for p in plan if len(p) > 1),
    }
