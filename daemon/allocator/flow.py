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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from daemon.allocator.problem import Problem, SupervisorCaps


@dataclass(frozen=True)
class FlowSolution:
    line_of: npt.NDArray[np.int64]  # per worker, its line index
    cost_int: int  # the scaled objective (jitter included)


def parents(supervisors: Sequence[SupervisorCaps], n_lines: int) -> npt.NDArray[np.int64]:
    """Per line: index of its only capped supervisor, or -1 (several caps: left to CP-SAT)."""
    parent = np.full(n_lines, -1, dtype=np.int64)
    count = np.zeros(n_lines, dtype=np.int64)
    for s, sup in enumerate(supervisors):
        if sup.max_new_workers is not None:
            parent[sup.lines] = s
            count[sup.lines] += 1
    parent[count > 1] = -1
    return parent


def solve_flow(problem: Problem) -> FlowSolution | None:
    """The min-cost assignment under capacities, must-fill and worker caps; None if none."""
    if (problem.must_fill & (problem.capacity == 0)).any():
        return None  # a lower bound above the capacity: no flow, and no arc to express it
    n_w = problem.n_workers
    mcf = min_cost_flow.SimpleMinCostFlow()
    # Row-major nonzero: arcs in (worker id, line id) order, so ties resolve the same way
    # whatever order the input rows came in.
    w_idx, l_idx = np.nonzero(problem.eligible)
    assign_arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        w_idx, n_w + l_idx, np.ones(len(w_idx), np.int64), problem.cost_int[w_idx, l_idx]
    )
    if not solve_to_sink(mcf, n_w, problem.capacity, problem.must_fill, problem.supervisors):
        return None
    used = mcf.flows(assign_arcs) > 0
    line_of = np.full(n_w, -1, dtype=np.int64)
    line_of[w_idx[used]] = l_idx[used]
    return FlowSolution(line_of, int(mcf.optimal_cost()))


def solve_to_sink(
    mcf: min_cost_flow.SimpleMinCostFlow,
    n_workers: int,
    capacity: npt.NDArray[np.int64],
    must_fill: npt.NDArray[np.bool_],
    supervisors: Sequence[SupervisorCaps],
    *,
    n_extra: int = 0,
) -> bool:
    """Close a network whose worker → line arcs are in place and solve it; False if infeasible.

    Node numbering: workers from 0 (one unit each), lines from ``n_workers``, then whatever
    nodes the caller added (``n_extra``: the sparse path's hubs), then one node per supervisor
    and the sink. Each line flows through its capped supervisor (``parents``), at most its
    ``max_workers`` in all, or straight to the sink. Must-fill lower bounds as in the module
    docstring."""
    n_lines = len(capacity)
    first_cap = n_workers + n_lines + n_extra
    sink = first_cap + len(supervisors)
    must = must_fill.astype(np.int64)
    parent = parents(supervisors, n_lines)
    parent_node = np.where(parent >= 0, first_cap + parent, sink)
    mcf.add_arcs_with_capacity_and_unit_cost(
        n_workers + np.arange(n_lines), parent_node, np.maximum(capacity - must, 0), np.zeros(n_lines, np.int64)
    )
    for s, sup in enumerate(supervisors):
        if sup.max_new_workers is not None:
            mcf.add_arc_with_capacity_and_unit_cost(first_cap + s, sink, sup.max_new_workers, 0)
    supply = np.zeros(sink + 1, dtype=np.int64)
    supply[:n_workers] = 1
    supply[n_workers : n_workers + n_lines] -= must
    np.add.at(supply, parent_node, must)
    supply[sink] -= n_workers
    mcf.set_nodes_supplies(np.arange(sink + 1), supply)
    status = mcf.solve()
    if status == mcf.INFEASIBLE:
        return False
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status!r}")
    return True
