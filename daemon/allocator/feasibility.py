"""Is an assignment feasible for the Problem? A fast, vectorised test of every hard rule.

Used to accept a heuristic starting solution when CP-SAT ends without one (large stability
models can spend the whole time limit in presolve). The independent checker in
``daemon.checks.allocation`` re-verifies results from the raw input; this is the solver's own
quick gate on its own arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from daemon.allocator.model import PREFERENCE_DECIMALS
from daemon.allocator.problem import Problem


def _no_blocking_pair(problem: Problem, line_of: npt.NDArray[np.int64], load: npt.NDArray[np.int64]) -> bool:
    rows = np.arange(problem.n_workers)
    open_ = problem.eligible & (problem.capacity > 0)[None, :]
    wants = open_ & (problem.rank < problem.rank[rows, line_of][:, None])
    view = np.round(problem.d_preferencer, PREFERENCE_DECIMALS)
    worst = np.full(problem.n_lines, -np.inf)
    np.maximum.at(worst, line_of, view[rows, line_of])
    spare = load < problem.capacity
    blocking = wants & (spare[None, :] | (view < worst[None, :]))
    return not bool(blocking.any())


def is_feasible(problem: Problem, line_of: npt.NDArray[np.int64]) -> bool:
    if line_of.shape != (problem.n_workers,) or (line_of < 0).any():
        return False
    if not problem.eligible[np.arange(problem.n_workers), line_of].all():
        return False
    load = np.bincount(line_of, minlength=problem.n_lines)
    if (load > problem.capacity).any() or (problem.must_fill & (load == 0)).any():
        return False
    for sup in problem.supervisors:
        if sup.max_new_workers is not None and load[sup.lines].sum() > sup.max_new_workers:
            return False
        fresh_used = int((load[sup.lines[sup.fresh]] > 0).sum())
        if sup.max_new_lines is not None and fresh_used > sup.max_new_lines:
            return False
    return problem.config.stability != "weak" or _no_blocking_pair(problem, line_of, load)
