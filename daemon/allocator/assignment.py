"""Exact fast path for pure assignments: scipy's linear_sum_assignment, one column per seat.

When nothing but eligibility and seats constrains the allocation (no must-fill line, no
binding supervisor cap, no stability), the problem is a linear assignment of workers to seats.
Min-cost flow solves it exactly too, but measured 10-25x slower than ``linear_sum_assignment``
at capacity 1 (1,500 x 1,500: about 1 s against 0.1 s).

Same answer as the flow: both minimise the same integer objective, ``Problem.cost_int``
(scaled cost plus the seeded jitter), so they reach the same optimal value, and the same
allocation whenever that optimum is unique, which the jitter makes the rule rather than the
exception. A line's seats are identical columns, so which seat a worker takes is immaterial.

Exactness in floating point. linear_sum_assignment works in doubles. Its costs here are the
integer costs, which it shifts by their minimum (or, when that leaves them too wide, the costs
less each row's minimum): integers in [0, R], with +inf for ineligible pairs or closed lines
(it never picks an infinite cell, and reports an infeasible matrix when it would have to). Its
shortest-augmenting-path method (Crouse 2016) then computes only sums and differences of
integers, and for n rows they stay within (2n+1)·R in magnitude:

- adding row k raises the optimum by minVal = OPT_k - OPT_(k-1), in [0, n·R];
- column duals v only decrease, by at most minVal per row added: -v <= OPT_n <= n·R;
- matched row duals are u = c - v <= R + n·R; a path cost minVal + c - u - v is at most (2n+1)·R.

When (2n+1)·R < 2^53 every one of those numbers is an exactly represented integer, so the float
solve is the exact integer solve; otherwise the flow solves the problem instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from daemon.allocator.flow import FlowSolution
from daemon.allocator.problem import Problem

METHOD = "linear_sum_assignment"

# The dense workers x seats matrix is float64 and scipy copies it once more: 30 M cells is
# about 0.5 GB at the peak. Bigger problems go to the flow, which needs one arc per pair.
MAX_CELLS = 30_000_000
# Measured (2 cores): the seat matrix grows with the lines' capacities and the flow's network
# does not, so past about 6 seats per line the flow is as fast or faster (5,000 x 500 lines of
# 10 seats: flow 1.4-1.7 s, this path 1.9-2.0 s; 2,000 x 50 of 40: 0.04 s against 0.17 s),
# while at 1-5 seats this path is 2-6x faster (1,500 x 1,500 of 1: 0.16 s against 1.1 s).
MAX_SEATS_PER_LINE = 6

_EXACT = 2.0**53  # doubles represent every integer of smaller magnitude


@dataclass(frozen=True)
class AssignmentPlan:
    """What the fast path needs beyond the Problem; made only when the path applies."""

    closed: npt.NDArray[np.bool_] | None  # ineligible, or the line has no seats; None: no such pair
    row_min: npt.NDArray[np.int64] | None  # per worker, least open cost_int; None: no need to reduce
    seats: npt.NDArray[np.int64]  # columns per line: its seats, at most its eligible workers
    placeable: bool  # every worker has an open pair, and there are seats for all


def is_pure_assignment(problem: Problem) -> bool:
    """Only eligibility and seats constrain the allocation (no must-fill, caps, stability)."""
    return problem.config.stability == "none" and not problem.supervisors and not problem.must_fill.any()


def _exact(n_rows: int, width: int) -> bool:
    return (2 * n_rows + 1) * width < _EXACT


def plan_assignment(problem: Problem) -> AssignmentPlan | None:
    """The plan for ``solve_assignment``; None when the problem is not a pure assignment, its
    seat matrix would be too big (or the flow faster), or its costs too wide for an exact float
    solve."""
    if not is_pure_assignment(problem):
        return None
    n_w, cost = problem.n_workers, problem.cost_int
    has_seats = problem.capacity > 0
    closed: npt.NDArray[np.bool_] | None = None
    if has_seats.all() and problem.eligible.all():  # the common case needs no masks
        seats = np.minimum(problem.capacity, n_w)
        low, high = int(cost.min()), int(cost.max())
        placeable = True
    else:
        open_ = problem.eligible & has_seats[None, :]
        closed = ~open_
        seats = np.minimum(problem.capacity, open_.sum(axis=0))
        placeable = bool(open_.any(axis=1).all())
        low, high = (int(cost[open_].min()), int(cost[open_].max())) if placeable else (0, 0)
    n_seats = int(seats.sum())
    if n_w * n_seats > MAX_CELLS or n_seats > MAX_SEATS_PER_LINE * int(np.count_nonzero(seats)):
        return None
    placeable = placeable and n_seats >= n_w
    # linear_sum_assignment subtracts the least entry itself: the range of all costs is the
    # width, unless taking each row's least cost off first narrows it enough.
    if not placeable or _exact(n_w, high - low):
        return AssignmentPlan(closed, None, seats, placeable)
    info = np.iinfo(np.int64)
    row_min = cost.min(axis=1) if closed is None else np.where(closed, info.max, cost).min(axis=1)
    row_max = cost.max(axis=1) if closed is None else np.where(closed, info.min, cost).max(axis=1)
    if not _exact(n_w, int((row_max - row_min).max())):
        return None
    return AssignmentPlan(closed, row_min, seats, placeable)


def solve_assignment(problem: Problem, plan: AssignmentPlan) -> FlowSolution | None:
    """The min-cost assignment of every worker to an open seat; None if there is none."""
    if not plan.placeable:
        return None
    # Exact: |cost_int| < 2^53 (costs.scale_for), so are the row-reduced costs.
    if plan.row_min is None:
        matrix = problem.cost_int.astype(np.float64)
    else:
        matrix = np.subtract(problem.cost_int, plan.row_min[:, None], dtype=np.float64)
    if plan.closed is not None:
        matrix[plan.closed] = np.inf
    seat_line: npt.NDArray[np.int64] | None = None
    if not (plan.seats == 1).all():
        seat_line = np.repeat(np.arange(problem.n_lines), plan.seats)
        matrix = np.repeat(matrix, plan.seats, axis=1)
    try:
        rows, cols = linear_sum_assignment(matrix)
    except ValueError as exc:
        if "infeasible" in str(exc):
            return None
        raise
    line_of = np.full(problem.n_workers, -1, dtype=np.int64)
    line_of[rows] = cols if seat_line is None else seat_line[cols]
    return FlowSolution(line_of, int(problem.cost_int[np.arange(problem.n_workers), line_of].sum()))
