"""Weak stability without ties: an LP whose optimum is a stable allocation, proven optimal.

With strict preferences on both sides, split each line of c seats into c one-seat copies that
every worker ranks consecutively, copy 1 first, at the line's place, each copy ranking workers
as the line does. The stable allocations are exactly the stable matchings of this one-to-one
instance (in a stable one a line's workers fill its copies in the line's order), and the
one-to-one stable matching polytope (x >= 0, each side matched at most once, one stability row
per pair) is integral (Vande Vate 1989; Rothblum 1992 for incomplete lists): its LP optimum is
a stable matching. The plain many-to-one LP is not (measured: 30.9 against 151.0).

Only pairs some stable matching can use get a column: by the lattice of stable matchings, each
worker's partner lies between its worker-optimal partner (worker-proposing Gale-Shapley,
``hints.stable_hint``) and its line-optimal partner (line-proposing Gale-Shapley, here), and
each copy's between its line-optimal and worker-optimal partners; with random preferences that
leaves a few pairs per worker. Every stable matching is feasible for the restricted LP, so its
optimum is a lower bound; when the LP solution is integral and passes the full blocking-pair
test (``feasibility.is_feasible``) it is the optimum, proven. Anything else returns None and
the caller uses the MIP. Supervisor caps, allow_unassigned and ties are not for this path.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from daemon.allocator import highs_process
from daemon.allocator.feasibility import is_feasible
from daemon.allocator.flow import FlowSolution
from daemon.allocator.model import CpSatResult
from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels, dense_levels
from daemon.allocator.stable_mip import stability_model
from daemon.solving import SolveContext

METHOD = "stable_lp"
_INTEGRAL = 1e-6  # an LP value this close to 0 or 1 counts as integral
_LP_SHARE = 0.85  # of the time left: the LP proves the optimum, the MIP would only bound it


def applies(problem: Problem, lv: Levels) -> bool:
    return not problem.supervisors and problem.unassigned_line is None and not lv.has_ties(problem)


def line_proposing(problem: Problem, lv: Levels) -> npt.NDArray[np.int64] | None:
    """Line-proposing deferred acceptance (strict preferences): the line-optimal stable
    allocation; None if a worker is left without a line."""
    by_line = np.lexsort((lv.line_level, lv.line))
    cuts = np.searchsorted(lv.line[by_line], np.arange(problem.n_lines + 1))
    lists = [lv.w[by_line[cuts[ln] : cuts[ln + 1]]].tolist() for ln in range(problem.n_lines)]
    level = np.full((problem.n_workers, problem.n_lines), np.iinfo(np.int64).max, dtype=np.int64)
    level[lv.w, lv.line] = lv.worker_level
    held = [0] * problem.n_lines
    nxt = [0] * problem.n_lines
    holder = [-1] * problem.n_workers
    cap = problem.capacity.tolist()
    todo = list(range(problem.n_lines))
    while todo:
        ln = todo.pop()
        mine = lists[ln]
        while held[ln] < cap[ln] and nxt[ln] < len(mine):
            w = mine[nxt[ln]]
            nxt[ln] += 1
            cur = holder[w]
            if cur == -1 or level[w, ln] < level[w, cur]:
                if cur != -1:
                    held[cur] -= 1
                    todo.append(cur)
                holder[w] = ln
                held[ln] += 1
    line_of = np.asarray(holder, dtype=np.int64)
    return None if (line_of < 0).any() else line_of


def _copies(lv: Levels, line_of: npt.NDArray[np.int64], n_lines: int) -> npt.NDArray[np.int64]:
    """Per worker, its copy index on its line: its position among the line's workers."""
    level = np.zeros(len(line_of), dtype=np.int64)
    on = line_of[lv.w] == lv.line
    level[lv.w[on]] = lv.line_level[on]
    order = np.lexsort((level, line_of))
    copy = np.empty(len(line_of), dtype=np.int64)
    starts = np.searchsorted(line_of[order], np.arange(n_lines))
    copy[order] = np.arange(len(line_of)) - starts[line_of[order]]
    return copy


def solve_lp(
    problem: Problem, lv: Levels, worker_opt: FlowSolution, ctx: SolveContext, deadline: float
) -> CpSatResult | None:
    """The optimum, proven, or None (see the module's docstring)."""
    started = time.perf_counter()
    mw = worker_opt.line_of
    ml = line_proposing(problem, lv)
    if ml is None or (mw < 0).any():
        return None
    load = np.bincount(mw, minlength=problem.n_lines)
    if not np.array_equal(load, np.bincount(ml, minlength=problem.n_lines)):
        return None  # the rural hospitals theorem says equal: preferences were not strict
    if (problem.must_fill & (load == 0)).any():
        return None  # no stable allocation fills it (same theorem): the MIP says infeasible
    cw, cl = _copies(lv, mw, problem.n_lines), _copies(lv, ml, problem.n_lines)
    rows = np.arange(problem.n_workers)
    wlev = np.zeros((problem.n_workers, problem.n_lines), dtype=np.int64)
    wlev[lv.w, lv.line] = lv.worker_level
    llev = np.zeros_like(wlev)
    llev[lv.w, lv.line] = lv.line_level
    width = int(problem.capacity.max()) + 1
    # A worker's clone order: its level of the line, then the copy.
    lo, hi = wlev[rows, mw] * width + cw, wlev[rows, ml] * width + cl
    # A copy's partners (line level): best in ml, worst in mw.
    best = np.full((problem.n_lines, width), -1, dtype=np.int64)
    worst = np.full((problem.n_lines, width), -1, dtype=np.int64)
    best[ml, cl] = llev[rows, ml]
    worst[mw, cw] = llev[rows, mw]
    cand = (lv.worker_level >= wlev[lv.w, mw[lv.w]]) & (lv.worker_level <= wlev[lv.w, ml[lv.w]])
    cols_w: list[int] = []
    cols_copy: list[int] = []  # line * width + copy
    for w, ln, lw, ll in zip(
        lv.w[cand].tolist(),
        lv.line[cand].tolist(),
        lv.worker_level[cand].tolist(),
        lv.line_level[cand].tolist(),
        strict=True,
    ):
        for j in range(int(load[ln])):
            key = lw * width + j
            if lo[w] <= key <= hi[w] and best[ln, j] <= ll <= worst[ln, j]:
                cols_w.append(w)
                cols_copy.append(ln * width + j)
    cw_arr = np.asarray(cols_w, dtype=np.int64)
    cc_arr = np.asarray(cols_copy, dtype=np.int64)
    c_line = cc_arr // width
    key_w = wlev[cw_arr, c_line] * width + cc_arr % width
    key_l = llev[cw_arr, c_line]
    # The clone instance restricted to these pairs, with its own levels (strict on both sides).
    copies, copy_of = np.unique(cc_arr, return_inverse=True)
    copy_of = copy_of.reshape(-1).astype(np.int64)
    clone = Levels(
        w=cw_arr,
        line=copy_of,
        worker_level=dense_levels(cw_arr, key_w.astype(np.float64)),
        line_level=dense_levels(copy_of, key_l.astype(np.float64)),
        worker_levels=np.bincount(cw_arr, minlength=problem.n_workers),
        line_levels=np.bincount(copy_of, minlength=len(copies)),
    )
    model = stability_model(
        clone,
        capacity=np.ones(len(copies)),
        lower=np.zeros(len(copies)),
        cost=problem.cost_int[cw_arr, c_line] / problem.unit,
    )
    model = replace(model, integer=np.zeros(0, dtype=np.int64))  # the LP relaxation: integral here
    # Most of the time left: when the LP is not done by then, the MIP gets the rest.
    budget = _LP_SHARE * (deadline - time.perf_counter())
    answer = highs_process.solve(model, {"time_limit": max(budget, 0.5)}, ctx)
    if answer.status != "OPTIMAL" or answer.values is None:
        return None
    x = answer.values[: len(cw_arr)]
    if (np.minimum(np.abs(x), np.abs(1 - x)) > _INTEGRAL).any():
        return None
    chosen = x > 0.5
    line_of = np.full(problem.n_workers, -1, dtype=np.int64)
    line_of[cw_arr[chosen]] = c_line[chosen]
    if not is_feasible(problem, line_of):
        return None
    objective = int(problem.cost_int[rows, line_of].sum())
    return CpSatResult(
        status="OPTIMAL",
        line_of=line_of,
        objective_int=objective,
        # The LP bounds every stable allocation and its optimum is this one: the bound is exact.
        bound_int=float(objective),
        solutions=1,
        wall_seconds=time.perf_counter() - started,
        workers=1,
        method=METHOD,
    )
