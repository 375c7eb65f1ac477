"""CP-SAT for allocations with side constraints flow cannot express (line caps, stability).

One Boolean per eligible (worker, line) pair with seats. The min-cost flow solution, computed
first, is given as a complete hint so the search starts from a near-optimal allocation.

Weak stability (SPEC §4.6) uses the compact encoding of stable-matching-with-ties models
(chained prefix sums): for worker w, ``got[w][k]`` = 1 when w's line is among its k best rank
levels; for line l, ``worse[l][k]`` = workers on l whom l likes strictly less than level k.
Then for each eligible pair (w, l), with w at level k of l and l at level j of w:

    1 - got[w][j] = 1 (w would rather have l)  ⇒  load(l) = capacity(l)  and  worse[l][k] = 0

linearised as ``load(l) ≥ cap·(1 - got)`` and ``worse ≤ cap·got``. Size stays O(workers x
lines) instead of the naive O(workers² x lines).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from daemon.allocator.flow import FlowSolution
from daemon.allocator.problem import Problem
from daemon.solving import SolveContext

# Line preferences (D_preferencer) are means and sums of floats: compare them after rounding
# to this many decimals so 0.1 + 0.2 and 0.3 count as a tie, as the checker does.
PREFERENCE_DECIMALS = 9


@dataclass(frozen=True)
class CpSatResult:
    status: str  # CP-SAT's status name: OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    line_of: npt.NDArray[np.int64] | None
    objective_int: float | None
    bound_int: float
    solutions: int
    wall_seconds: float


class _Progress(cp_model.CpSolverSolutionCallback):
    """Forward each improving solution to the run's heartbeat."""

    def __init__(self, ctx: SolveContext, unit: float) -> None:
        super().__init__()
        self._ctx = ctx
        self._unit = unit
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        self._ctx.report(
            best_objective=self.objective_value / self._unit,
            best_bound=self.best_objective_bound / self._unit,
            solutions=self.solutions,
        )


def _groups(items: list[int], values: npt.NDArray[np.float64]) -> list[list[int]]:
    """``items`` grouped by equal value, groups in increasing value order."""
    levels, level_of = np.unique(values, return_inverse=True)
    order = np.argsort(level_of.reshape(-1), kind="stable")
    cuts = np.searchsorted(level_of.reshape(-1)[order], np.arange(1, len(levels)))
    arr = np.asarray(items, dtype=np.int64)[order]
    return [g.tolist() for g in np.split(arr, cuts)]


def _add_stability(
    model: cp_model.CpModel,
    problem: Problem,
    x: dict[tuple[int, int], cp_model.IntVar],
    load: list[cp_model.IntVar],
    hint: npt.NDArray[np.int64],
) -> None:
    """Weak stability constraints; the helper variables are hinted from ``hint`` (line per
    worker) too, since CP-SAT uses a complete hint far better than a partial one."""
    pairs = sorted(x)
    got: dict[tuple[int, int], cp_model.IntVar] = {}  # (worker, line) → got[w][level of l]
    by_worker: dict[int, list[int]] = {}
    for w, ln in pairs:
        by_worker.setdefault(w, []).append(ln)
    for w, lines in by_worker.items():
        prefix: list[cp_model.IntVar] = []  # got[w][k-1], once there is one
        reached = False  # the hinted line is at this level or a better one
        for k, at in enumerate(_groups(lines, problem.rank[w, lines])):
            reached = reached or int(hint[w]) in at
            var = model.new_bool_var(f"got_{w}_{k}")
            model.add(var == cp_model.LinearExpr.sum([*prefix, *(x[w, ln] for ln in at)]))
            model.add_hint(var, reached)
            prefix = [var]
            for ln in at:
                got[w, ln] = var
    by_line: dict[int, list[int]] = {}
    for w, ln in pairs:
        by_line.setdefault(ln, []).append(w)
    for ln, workers in by_line.items():
        cap = int(problem.capacity[ln])
        groups = _groups(workers, np.round(problem.d_preferencer[workers, ln], PREFERENCE_DECIMALS))
        hinted_worse = 0  # hinted workers on ln at this level or worse
        suffix: list[cp_model.IntVar] = []  # workers on ln strictly worse than this level
        for k in range(len(groups) - 1, -1, -1):
            at = groups[k]
            for w in at:
                g = got[w, ln]
                model.add(load[ln] >= cap - cap * g)
                if suffix:
                    model.add(suffix[0] <= cap * g)
            hinted_worse += sum(1 for w in at if hint[w] == ln)
            var = model.new_int_var(0, cap, f"worse_{ln}_{k}")
            model.add(var == cp_model.LinearExpr.sum([*suffix, *(x[w, ln] for w in at)]))
            model.add_hint(var, hinted_worse)
            suffix = [var]


def solve_cp_sat(problem: Problem, hint: FlowSolution, ctx: SolveContext, deadline: float) -> CpSatResult:
    """Minimise the integer objective from ``hint``; search until ``deadline`` (perf_counter)."""
    cfg = problem.config
    model = cp_model.CpModel()
    open_pairs = problem.eligible & (problem.capacity > 0)[None, :]
    w_idx, l_idx = np.nonzero(open_pairs)
    x = {(int(w), int(ln)): model.new_bool_var(f"x_{w}_{ln}") for w, ln in zip(w_idx, l_idx, strict=True)}
    of_worker: list[list[cp_model.IntVar]] = [[] for _ in range(problem.n_workers)]
    of_line: list[list[cp_model.IntVar]] = [[] for _ in range(problem.n_lines)]
    for (w, ln), var in x.items():
        of_worker[w].append(var)
        of_line[ln].append(var)
    for vars_ in of_worker:
        model.add_exactly_one(vars_)
    hinted_load = np.bincount(hint.line_of, minlength=problem.n_lines)
    load: list[cp_model.IntVar] = []
    for ln, vars_ in enumerate(of_line):
        var = model.new_int_var(int(problem.must_fill[ln]), int(problem.capacity[ln]), f"load_{ln}")
        model.add(var == sum(vars_))
        model.add_hint(var, int(hinted_load[ln]))
        load.append(var)
    used: dict[int, cp_model.IntVar] = {}  # a fresh line that receives workers, for line caps
    for sup in problem.supervisors:
        if sup.max_new_workers is not None:
            model.add(sum(load[ln] for ln in sup.lines) <= sup.max_new_workers)
        if sup.max_new_lines is not None:
            for ln in sup.lines[sup.fresh]:
                if int(ln) not in used:
                    used[int(ln)] = model.new_bool_var(f"used_{ln}")
                    model.add(load[ln] <= int(problem.capacity[ln]) * used[int(ln)])
                    model.add_hint(used[int(ln)], bool(hinted_load[ln] > 0))
            model.add(sum(used[int(ln)] for ln in sup.lines[sup.fresh]) <= sup.max_new_lines)
    if cfg.stability == "weak":
        _add_stability(model, problem, x, load, hint.line_of)
    keys = list(x)
    model.minimize(cp_model.LinearExpr.weighted_sum([x[k] for k in keys], [int(problem.cost_int[k]) for k in keys]))
    for (w, ln), var in x.items():
        model.add_hint(var, bool(hint.line_of[w] == ln))

    solver = cp_model.CpSolver()
    params: Any = solver.parameters
    params.num_workers = cfg.num_workers
    # Building a big model takes seconds of Python: the search gets what is left, but never
    # less than a second, which even a mid-sized model's presolve needs.
    params.max_time_in_seconds = max(deadline - time.perf_counter(), 1.0)
    params.random_seed = cfg.rng_seed % 2**31
    # Not interleave_search, the documented route to parallel determinism: with a hint it
    # aborts the process on some infeasible models (ortools 9.15, "heuristics.fixed_search").
    # Same-input determinism comes from the seeded tie-break making the optimum unique.
    progress = _Progress(ctx, problem.unit)
    ctx.bind_solver(solver)
    status = solver.solve(model, progress)
    name = solver.status_name(status)
    line_of: npt.NDArray[np.int64] | None = None
    objective: float | None = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        line_of = np.full(problem.n_workers, -1, dtype=np.int64)
        for (w, ln), var in x.items():
            if solver.boolean_value(var):
                line_of[w] = ln
        objective = solver.objective_value
    return CpSatResult(
        status=name,
        line_of=line_of,
        objective_int=objective,
        bound_int=solver.best_objective_bound,
        solutions=progress.solutions,
        wall_seconds=solver.wall_time,
    )
