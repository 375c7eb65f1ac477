"""CP-SAT for allocations with side constraints flow cannot express (line caps, stability).

One Boolean per eligible (worker, line) pair with seats. A feasible starting solution (see
``hints``) is given as a complete hint, helper variables included: CP-SAT with two workers
finds good assignments mostly from a good hint (NOTES).

Weak stability (SPEC §4.6) uses the compact encoding of stable-matching-with-ties models
(chained prefix sums): for worker w, ``got[w][j]`` = 1 when w's line is among its j best rank
levels; for line l, ``worse[l][k]`` = workers on l whom l likes strictly less than level k.
Then for each eligible pair (w, l), with l at level j of w and w at level k of l:

    1 - got[w][j] = 1 (w would rather have l)  =>  load(l) = capacity(l)  and  worse[l][k] = 0

linearised as ``load(l) >= cap·(1 - got)`` and ``worse <= cap·got``. Size stays O(workers x
lines) instead of the naive O(workers² x lines).

Model building is Python-bound (a few microseconds per variable), so the hot parts write to
the model proto in bulk (hints, objective) instead of one wrapper call per variable.
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

# Measured model-building cost per (worker, line) variable on this project's machines: about
# 5 us, and 9 times that with stability (two chains of helper variables, four constraints per
# pair). Used to skip CP-SAT when merely building the model would overrun the time limit.
BUILD_SECONDS_PER_PAIR = 5e-6
STABILITY_BUILD_FACTOR = 9.0


@dataclass(frozen=True)
class CpSatResult:
    status: str  # CP-SAT status name (OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN) or SKIPPED
    line_of: npt.NDArray[np.int64] | None
    objective_int: int | None  # recomputed exactly: CP-SAT reports a double with noise
    bound_int: float
    solutions: int
    wall_seconds: float
    workers: int = 0  # CP-SAT search workers it ran with (0: not run)
    method: str = "cp_sat"  # the engine (stable_rotations, highs_mip for weak stability; see solve.py)


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


def search_workers(configured: int | None, ctx: SolveContext) -> int:
    """CP-SAT workers: the run's config when it says, else the daemon's setting (at least 1:
    0 would mean every core)."""
    return configured if configured is not None else max(1, ctx.threads)


def estimated_build_seconds(problem: Problem) -> float:
    pairs = int((problem.eligible & (problem.capacity > 0)[None, :]).sum())
    factor = STABILITY_BUILD_FACTOR if problem.config.stability == "weak" else 1.0
    return pairs * BUILD_SECONDS_PER_PAIR * factor


def _groups(items: list[int], values: npt.NDArray[np.float64]) -> list[list[int]]:
    """``items`` grouped by equal value, groups in increasing value order."""
    levels, level_of = np.unique(values, return_inverse=True)
    level_of = level_of.reshape(-1)
    order = np.argsort(level_of, kind="stable")
    cuts = np.searchsorted(level_of[order], np.arange(1, len(levels)))
    return [g.tolist() for g in np.split(np.asarray(items, dtype=np.int64)[order], cuts)]


class _Builder:
    """The model under construction, with its hint collected for one bulk write."""

    def __init__(self, problem: Problem, hint: FlowSolution) -> None:
        self.problem = problem
        self.hint = hint.line_of
        self.model = cp_model.CpModel()
        self._hint_vars: list[int] = []
        self._hint_values: list[int] = []
        w_idx, l_idx = np.nonzero(problem.eligible & (problem.capacity > 0)[None, :])
        self.w_idx, self.l_idx = w_idx, l_idx
        self.x = [self.model.new_bool_var("") for _ in range(len(w_idx))]
        self._hint_many(self.x, (self.hint[w_idx] == l_idx).astype(np.int64).tolist())
        self.load: list[cp_model.IntVar] = []

    def _hint_many(self, variables: list[cp_model.IntVar], values: list[int]) -> None:
        self._hint_vars.extend(v.index for v in variables)
        self._hint_values.extend(values)

    def hinted(self, var: cp_model.IntVar, value: int) -> cp_model.IntVar:
        self._hint_vars.append(var.index)
        self._hint_values.append(value)
        return var

    def assignment(self) -> None:
        """Each worker on exactly one line; loads within seats and must-fill bounds."""
        p = self.problem
        of_worker: list[list[cp_model.IntVar]] = [[] for _ in range(p.n_workers)]
        of_line: list[list[cp_model.IntVar]] = [[] for _ in range(p.n_lines)]
        for w, ln, var in zip(self.w_idx.tolist(), self.l_idx.tolist(), self.x, strict=True):
            of_worker[w].append(var)
            of_line[ln].append(var)
        for variables in of_worker:
            self.model.add_exactly_one(variables)
        hinted_load = np.bincount(self.hint, minlength=p.n_lines)
        for ln, variables in enumerate(of_line):
            lower = min(int(p.must_fill[ln]), int(p.capacity[ln]))
            var = self.hinted(self.model.new_int_var(lower, int(p.capacity[ln]), ""), int(hinted_load[ln]))
            self.model.add(var == cp_model.LinearExpr.sum(variables))
            self.load.append(var)

    def caps(self) -> None:
        """Supervisors' max_workers and max_job_lines (net of earlier rounds)."""
        p = self.problem
        used: dict[int, cp_model.IntVar] = {}  # a fresh line that receives workers
        for sup in p.supervisors:
            if sup.max_new_workers is not None:
                self.model.add(cp_model.LinearExpr.sum([self.load[ln] for ln in sup.lines]) <= sup.max_new_workers)
            if sup.max_new_lines is None:
                continue
            fresh = [int(ln) for ln in sup.lines[sup.fresh]]
            for ln in fresh:
                if ln not in used:
                    used[ln] = self.hinted(self.model.new_bool_var(""), int((self.hint == ln).any()))
                    self.model.add(self.load[ln] <= int(p.capacity[ln]) * used[ln])
            self.model.add(cp_model.LinearExpr.sum([used[ln] for ln in fresh]) <= sup.max_new_lines)

    def stability(self) -> None:
        """Weak stability: no worker and line that both strictly prefer each other."""
        p = self.problem
        pairs = list(zip(self.w_idx.tolist(), self.l_idx.tolist(), strict=True))
        x = dict(zip(pairs, self.x, strict=True))
        got: dict[tuple[int, int], cp_model.IntVar] = {}  # (worker, line) -> got[w][level of l]
        by_worker: dict[int, list[int]] = {}
        by_line: dict[int, list[int]] = {}
        for w, ln in pairs:
            by_worker.setdefault(w, []).append(ln)
            by_line.setdefault(ln, []).append(w)
        for w, lines in by_worker.items():
            prefix: list[cp_model.IntVar] = []  # got[w][j-1], once there is one
            reached = False  # the hinted line is at this level or a better one
            for at in _groups(lines, p.rank[w, lines]):
                reached = reached or int(self.hint[w]) in at
                var = self.hinted(self.model.new_bool_var(""), int(reached))
                self.model.add(var == cp_model.LinearExpr.sum([*prefix, *(x[w, ln] for ln in at)]))
                prefix = [var]
                for ln in at:
                    got[w, ln] = var
        for ln, workers in by_line.items():
            cap = int(p.capacity[ln])
            groups = _groups(workers, np.round(p.d_preferencer[workers, ln], PREFERENCE_DECIMALS))
            hinted_worse = 0  # hinted workers on ln at this level or worse
            suffix: list[cp_model.IntVar] = []  # workers on ln strictly worse than this level
            for at in reversed(groups):
                for w in at:
                    self.model.add(self.load[ln] >= cap - cap * got[w, ln])
                    if suffix:
                        self.model.add(suffix[0] <= cap * got[w, ln])
                hinted_worse += sum(1 for w in at if self.hint[w] == ln)
                var = self.hinted(self.model.new_int_var(0, cap, ""), hinted_worse)
                self.model.add(var == cp_model.LinearExpr.sum([*suffix, *(x[w, ln] for w in at)]))
                suffix = [var]

    def finish(self) -> cp_model.CpModel:
        """Objective and hint, written to the proto in bulk."""
        proto: Any = self.model.proto
        proto.objective.vars.extend(v.index for v in self.x)
        proto.objective.coeffs.extend(self.problem.cost_int[self.w_idx, self.l_idx].tolist())
        proto.solution_hint.vars.extend(self._hint_vars)
        proto.solution_hint.values.extend(self._hint_values)
        return self.model


def solve_cp_sat(problem: Problem, hint: FlowSolution, ctx: SolveContext, deadline: float) -> CpSatResult:
    """Minimise the integer objective from ``hint``; search until ``deadline`` (perf_counter)."""
    cfg = problem.config
    builder = _Builder(problem, hint)
    builder.assignment()
    builder.caps()
    if cfg.stability == "weak":
        builder.stability()
    model = builder.finish()

    solver = cp_model.CpSolver()
    params: Any = solver.parameters
    params.num_workers = search_workers(cfg.num_workers, ctx)
    # The search gets what building left of max_seconds, less a tenth for CP-SAT's overshoot
    # on big models (presolve checks the clock rarely) and for reading the solution back; but
    # never less than a second, which even a mid-sized model's presolve needs.
    params.max_time_in_seconds = max(0.9 * (deadline - time.perf_counter()), 1.0)
    params.random_seed = cfg.rng_seed % 2**31
    # Not interleave_search, the documented route to parallel determinism: with a hint it
    # aborts the process on some infeasible models (ortools 9.15, "heuristics.fixed_search").
    # Same-input determinism comes from the seeded tie-break making the optimum unique.
    progress = _Progress(ctx, problem.unit)
    ctx.bind_solver(solver)
    status = solver.solve(model, progress)
    line_of: npt.NDArray[np.int64] | None = None
    objective: int | None = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.asarray(solver.response_proto.solution, dtype=np.int64)
        chosen = values[[v.index for v in builder.x]] > 0
        line_of = np.full(problem.n_workers, -1, dtype=np.int64)
        line_of[builder.w_idx[chosen]] = builder.l_idx[chosen]
        objective = int(problem.cost_int[builder.w_idx[chosen], builder.l_idx[chosen]].sum())
    return CpSatResult(
        status=solver.status_name(status),
        line_of=line_of,
        objective_int=objective,
        # The objective is integral, so rounding the reported bound only removes float noise
        # (3788800689.0000005 for 3788800689) and stays a valid lower bound.
        bound_int=float(round(solver.best_objective_bound)),
        solutions=progress.solutions,
        wall_seconds=solver.wall_time,
        workers=int(params.num_workers),
    )
