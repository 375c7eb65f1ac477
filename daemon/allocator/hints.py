"""Feasible starting solutions for CP-SAT, where the plain flow optimum is not one.

NOTES measured it: CP-SAT with two workers finds good solutions of assignment models only
from a good hint. The flow optimum ignores ``max_job_lines`` and stability, and as a hint that
violates them it is of little use. So:

- line caps: keep the busiest lines of an over-cap supervisor open, close its other fresh
  lines and solve the flow again (a feasible allocation, usually close to optimal);
- stability: worker-proposing deferred acceptance (Gale-Shapley) with ties broken by cost,
  then by the seeded jitter. It is stable for the tie-broken preferences, hence weakly stable
  for the real ones, and it is the workers' best stable matching, so it is cheap too.
"""

from __future__ import annotations

import heapq
from dataclasses import replace

import numpy as np

from daemon.allocator.flow import FlowSolution, solve_flow
from daemon.allocator.model import PREFERENCE_DECIMALS
from daemon.allocator.problem import Problem

_REPAIR_ROUNDS = 5  # a line shared by supervisors: closing for one can shift load to another


def line_cap_hint(problem: Problem, start: FlowSolution) -> FlowSolution | None:
    """``start`` with over-cap supervisors' least-used fresh lines closed; None if stuck."""
    capacity = problem.capacity.copy()
    solution = start
    for _ in range(_REPAIR_ROUNDS):
        load = np.bincount(solution.line_of, minlength=problem.n_lines)
        over = False
        for sup in problem.supervisors:
            if sup.max_new_lines is None:
                continue
            fresh = sup.lines[sup.fresh]
            used = fresh[load[fresh] > 0]
            if len(used) <= sup.max_new_lines:
                continue
            over = True
            # Keep must-fill lines, then the busiest (ties by index, for determinism); close
            # every other fresh line of this supervisor, so the new flow cannot move there.
            keep = sorted(used, key=lambda ln: (not problem.must_fill[ln], -load[ln], ln))[: sup.max_new_lines]
            capacity[np.setdiff1d(fresh, keep)] = 0
        if not over:
            return solution
        repaired = solve_flow(replace(problem, capacity=capacity))
        if repaired is None:
            return None
        solution = repaired
    return None


def stable_hint(problem: Problem) -> FlowSolution | None:
    """Worker-proposing deferred acceptance; None if some worker ends up unplaced."""
    open_ = problem.eligible & (problem.capacity > 0)[None, :]
    # Each worker's proposal order: best rank first, then cheapest, then jitter.
    proposals = []
    for w in range(problem.n_workers):
        lines = np.flatnonzero(open_[w])
        order = np.lexsort((problem.cost_int[w, lines], problem.rank[w, lines]))
        proposals.append(lines[order].tolist())
    view = np.round(problem.d_preferencer, PREFERENCE_DECIMALS)
    # Per line, a max-heap (by negated keys) of its tentative workers: worst on top.
    held: list[list[tuple[float, int, int]]] = [[] for _ in range(problem.n_lines)]
    next_choice = [0] * problem.n_workers
    free = list(range(problem.n_workers - 1, -1, -1))
    while free:
        w = free.pop()
        if next_choice[w] >= len(proposals[w]):
            return None  # rejected everywhere: no hint
        ln = proposals[w][next_choice[w]]
        next_choice[w] += 1
        heapq.heappush(held[ln], (-float(view[w, ln]), -int(problem.cost_int[w, ln]), w))
        if len(held[ln]) > problem.capacity[ln]:
            free.append(heapq.heappop(held[ln])[2])
    line_of = np.full(problem.n_workers, -1, dtype=np.int64)
    for ln, entries in enumerate(held):
        for _, _, w in entries:
            line_of[w] = ln
    rows = np.arange(problem.n_workers)
    return FlowSolution(line_of, int(problem.cost_int[rows, line_of].sum()))
