"""Exact min-cost flow for the transportation part of the allocator (OR-Tools).

Network: source supply on each worker (1) → worker→line arcs (capacity 1, scaled cost) → line
→ its capped supervisor, if any → sink. "At least one worker" on a must-fill line is a lower
bound of 1 on the line's outgoing arc, removed the textbook way: the line demands one unit and
its parent node supplies one, so the arc keeps capacity - 1. A supervisor's ``max_workers`` is
the capacity of its arc to the sink; that only forms a flow network when each line has at most
one capped supervisor (``Problem.needs_cp_sat`` checks that). ``max_job_lines`` and stability
are not flows: as a CP-SAT hint the flow ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from daemon.allocator.problem import Problem


@dataclass(frozen=True)
class FlowSolution:
    line_of: npt.NDArray[np.int64]  # per worker, its line index
    cost_int: int  # the scaled objective (jitter included)


def parents(problem: Problem) -> npt.NDArray[np.int64]:
    """Per line: index of its only capped supervisor, or -1 (several caps: left to CP-SAT)."""
    parent = np.full(problem.n_lines, -1, dtype=np.int64)
    count = np.zeros(problem.n_lines, dtype=np.int64)
    for s, sup in enumerate(problem.supervisors):
        if sup.max_new_workers is not None:
            parent[sup.lines] = s
            count[sup.lines] += 1
    parent[count > 1] = -1
    return parent


def solve_flow(problem: Problem) -> FlowSolution | None:
    """The min-cost assignment under capacities, must-fill and worker caps; None if none."""
    if (problem.must_fill & (problem.capacity == 0)).any():
        return None  # a lower bound above the capacity: no flow, and no arc to express it
    n_w, n_l, n_s = problem.n_workers, problem.n_lines, len(problem.supervisors)
    sink = n_w + n_l + n_s
    mcf = min_cost_flow.SimpleMinCostFlow()
    # Row-major nonzero: arcs in (worker id, line id) order, so ties resolve the same way
    # whatever order the input rows came in.
    w_idx, l_idx = np.nonzero(problem.eligible)
    assign_arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        w_idx, n_w + l_idx, np.ones(len(w_idx), np.int64), problem.cost_int[w_idx, l_idx]
    )
    must = problem.must_fill.astype(np.int64)
    parent = parents(problem)
    parent_node = np.where(parent >= 0, n_w + n_l + parent, sink)
    mcf.add_arcs_with_capacity_and_unit_cost(
        n_w + np.arange(n_l),
        parent_node,
        np.maximum(problem.capacity - must, 0),
        np.zeros(n_l, np.int64),
    )
    supply = np.zeros(sink + 1, dtype=np.int64)
    supply[:n_w] = 1
    supply[n_w : n_w + n_l] -= must
    np.add.at(supply, parent_node, must)
    supply[sink] -= n_w
    for s, sup in enumerate(problem.supervisors):
        if sup.max_new_workers is not None and (parent == s).any():
            mcf.add_arc_with_capacity_and_unit_cost(n_w + n_l + s, sink, sup.max_new_workers, 0)
    mcf.set_nodes_supplies(np.arange(sink + 1), supply)
    status = mcf.solve()
    if status == mcf.INFEASIBLE:
        return None
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status!r}")
    used = mcf.flows(assign_arcs) > 0
    line_of = np.full(n_w, -1, dtype=np.int64)
    line_of[w_idx[used]] = l_idx[used]
    return FlowSolution(line_of, int(mcf.optimal_cost()))
