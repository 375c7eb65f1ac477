"""stable_clone (the one-seat-copies MIP, not dispatched): its optimum is the brute-force
minimum over weakly stable allocations, ties on either side, caps, must-fill, allow_unassigned.

Mutations these catch (each made by hand, the test seen failing, then restored):
- no -Σ_{i>j} y[w, l, i] terms in the stability rows (``max_c`` loop skipped): w strictly
  prefers an earlier copy of its own line, so the rows cut stable allocations off;
- the stability rows dropped altogether (``live`` all False).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from hypothesis import assume, given

from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput
from daemon.allocator.feasibility import is_feasible
from daemon.allocator.stability import Levels
from daemon.allocator.stable_clone import solve_copies
from daemon.allocator.stable_prune import prune, restrict
from daemon.solving import SolveContext
from tests.allocator.alloc_strategies import SETTINGS
from tests.allocator.test_alloc_stable_prune import instances


def _brute_force(inp: AllocatorInput) -> int | None:
    problem = build_problem(inp)
    lv = Levels.of(problem)
    options = [lv.line[lv.w == w].tolist() for w in range(problem.n_workers)]
    best: int | None = None
    for choice in itertools.product(*options):
        line_of = np.asarray(choice, dtype=np.int64)
        if is_feasible(problem, line_of):
            cost = int(problem.cost_int[np.arange(problem.n_workers), line_of].sum())
            best = cost if best is None else min(best, cost)
    return best


@SETTINGS
@given(instances())
def test_copies_mip_equals_brute_force(inp: AllocatorInput) -> None:
    problem = build_problem(inp)
    lv = Levels.of(problem)
    # A worker without an open pair: the daemon says INFEASIBLE before any solver runs.
    assume((lv.worker_levels > 0).all())
    expected = _brute_force(inp)
    for pairs in (lv, restrict(lv, prune(problem, lv), problem.n_workers, problem.n_lines)):
        result = solve_copies(problem, pairs, None, SolveContext(), time.perf_counter() + 20)
        if expected is None:
            assert result.status == "INFEASIBLE"
            continue
        assert result.status == "OPTIMAL" and result.line_of is not None and result.objective_int is not None
        assert is_feasible(problem, result.line_of)
        slack = problem.rounding_bound * problem.unit + 1e-6
        assert expected <= result.objective_int <= expected + slack
