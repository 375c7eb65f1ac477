"""Weak stability with ties: the one-seat-copies MIP (issue 14), NOT dispatched (measured below).

Copies (``clone_model``): each line of c seats becomes min(c, n) one-seat copies (n: workers
left on it), ordered. A worker prefers a copy of l strictly to a copy of l' when it prefers l
strictly to l', and copy i to copy j of the same line when i < j; copies of two different lines
it ties are incomparable (not tied: a partial order). A copy ranks workers as its line does.
Weakly stable allocations of the original are exactly the projections of the weakly stable
matchings of this instance (no pair (w, copy) with w strictly preferring the copy, and the copy
empty or holding a worker it likes strictly less than w):
- matching -> allocation: copy j + 1 occupied by w' while copy j is empty would block (w'
  prefers copy j); w2 on a later copy than w1 while the line likes w2 strictly better would
  block (w2, copy of w1). So a line's workers fill a prefix of its copies, in its order. A
  blocking pair (w, l) of the projection: w strictly prefers l; l has a free seat (its first
  empty copy blocks with w) or holds a worker it likes strictly less than w (that one's copy
  blocks with w, which prefers every copy of l to its own line's).
- allocation -> matching (fill each line's copies in its order, ties in any order): a blocking
  (w, copy j of l). If w is on l at a later copy, copy j holds a worker l likes at least as well.
  If w is on a line it ties with l, w does not strictly prefer copy j. Otherwise w strictly
  prefers l, and copy j is empty (l has a free seat) or holds w'' that l likes strictly less
  than w, so l's worst worker (on its last copy) too: (w, l) blocks the allocation.
  With n < c copies, the line is full only when all its n workers, w included, are on it.
In rows, with y[w, l, j] per (pair, copy), G[w, k] the running sum over w's copies at line
levels <= k and H[l_j, k] the running sum over copy j's workers at levels <= k, the row for
(w, l_j) reads G[w, lev_w(l)] - Σ_{i>j} y[w, l, i] + H[l_j, lev_l(w)] - y[w, l, j] >= 1. With
strict preferences this is the stable marriage polytope of ``stable_lp`` (integral); with ties
its LP bound is still far above the many-to-one rows' (``stable_mip``). Also valid, and added:
copy j's load >= copy j + 1's.

Measured (bench/stability.py cases, pruned pairs, presolve off, loaded 2-core machine): at
300 x 75 x 4 the root LP bound is 4,005.4 against the optimum 4,014.9, where the many-to-one
rows give 3,757.0 (after HiGHS's presolve); but the copies model is three times larger, HiGHS
found no solution better than the start in 60 s, and at 600 x 150 x 4 (186,000 columns) the
root LP was not solved in 60 s. So ``stable.py`` does not use it; it is kept, tested against
brute force, for a bound-only or column-generation use.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from daemon.allocator import highs_process
from daemon.allocator.model import CpSatResult
from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels
from daemon.allocator.stable_mip import _block_cumsum, _capped_lines, _caps, _Rows, lower_bound_int
from daemon.solving import SolveContext

METHOD = "highs_mip_copies"
IntArray = npt.NDArray[np.int64]


class Copies:
    """The (pair, copy) columns of ``clone_model`` and how to map allocations to them."""

    def __init__(self, problem: Problem, lv: Levels) -> None:
        n_on = np.bincount(lv.line, minlength=problem.n_lines)
        n_copies = np.minimum(problem.capacity, n_on).astype(np.int64)
        if problem.unassigned_line is not None:  # one target of its own, never blocking
            n_copies[problem.unassigned_line] = min(1, int(n_on[problem.unassigned_line]))
        self.n_copies = n_copies
        self.copy_off = np.concatenate([[0], np.cumsum(n_copies)]).astype(np.int64)
        per_pair = n_copies[lv.line]
        self.pair = np.repeat(np.arange(len(lv.w), dtype=np.int64), per_pair)
        starts = np.cumsum(per_pair) - per_pair
        self.copy = np.arange(len(self.pair), dtype=np.int64) - np.repeat(starts, per_pair)
        self.target = self.copy_off[lv.line[self.pair]] + self.copy
        self.w = lv.w[self.pair]
        self.line = lv.line[self.pair]

    def y_of(self, problem: Problem, lv: Levels, line_of: IntArray) -> npt.NDArray[np.float64] | None:
        """The columns' values at ``line_of``, each line's workers on its copies in its order;
        None if ``line_of`` uses a pair without columns or overfills a line's copies."""
        on = line_of[lv.w] == lv.line
        if on.sum() != (line_of >= 0).sum():
            return None
        pairs = np.flatnonzero(on)
        order = pairs[np.lexsort((lv.line_level[pairs], lv.line[pairs]))]
        lines = lv.line[order]
        starts = np.searchsorted(lines, lines)  # first index of each line in ``order``
        copy = np.arange(len(order)) - starts
        unassigned = problem.unassigned_line
        if unassigned is not None:
            copy[lines == unassigned] = 0
        if (copy >= self.n_copies[lines]).any():
            return None
        pair_start = np.searchsorted(self.pair, order)
        y = np.zeros(len(self.pair))
        y[pair_start + copy] = 1.0
        return y


def clone_model(problem: Problem, lv: Levels, cp: Copies) -> highs_process.Model:
    """The copies MIP; columns: y per (pair, copy), G per (worker, level), H per (copy, level),
    then a binary "line used" per capped line."""
    n_y = len(cp.pair)
    n_w = problem.n_workers
    n_t = int(cp.copy_off[-1])
    # Copy levels: the line's levels, renumbered per copy (every copy sees the same workers).
    line_levels_t = lv.line_levels[np.repeat(np.arange(problem.n_lines), cp.n_copies)]
    t_level = lv.line_level[cp.pair]
    g_off = np.concatenate([[0], np.cumsum(lv.worker_levels)]).astype(np.int64)
    h_off = np.concatenate([[0], np.cumsum(line_levels_t)]).astype(np.int64)
    n_g, n_h = int(g_off[-1]), int(h_off[-1])
    capped = _capped_lines(problem)
    g0, h0 = n_y, n_y + n_g
    n_cols = n_y + n_g + n_h + len(capped)
    col = np.arange(n_y, dtype=np.int64)
    r = _Rows([], [], [], [], [])
    r.add(n_w, cp.w, col, 1.0, (1.0, 1.0))  # each worker on one copy
    t_cap = np.ones(n_t)
    if problem.unassigned_line is not None and cp.n_copies[problem.unassigned_line] > 0:
        t_cap[cp.copy_off[problem.unassigned_line]] = float(problem.capacity[problem.unassigned_line])
    r.add(n_t, cp.target, col, 1.0, (0.0, t_cap))
    lower = np.minimum(problem.must_fill, problem.capacity > 0).astype(np.float64)
    r.add(problem.n_lines, cp.line, col, 1.0, (lower, np.inf))  # must-fill lines
    # Copy j's load >= copy j + 1's: one row per copy j + 1 >= 1.
    t_line = np.repeat(np.arange(problem.n_lines), cp.n_copies)
    t_copy = np.arange(n_t) - cp.copy_off[t_line]
    later = np.flatnonzero(t_copy > 0)
    row_of_t = np.full(n_t + 1, -1, dtype=np.int64)
    row_of_t[later] = np.arange(len(later))
    minus = np.flatnonzero(cp.copy > 0)  # -y on copy j + 1 (its own row)
    plus = np.flatnonzero(cp.copy < cp.n_copies[cp.line] - 1)  # +y on copy j (the next one's row)
    r.add(
        len(later),
        np.concatenate([row_of_t[cp.target[plus] + 1], row_of_t[cp.target[minus]]]),
        np.concatenate([col[plus], col[minus]]),
        np.concatenate([np.ones(len(plus)), -np.ones(len(minus))]),
        (0.0, np.inf),
    )
    # G[w, k] - G[w, k-1] - Σ y at level k = 0.
    g_idx = g_off[cp.w] + lv.worker_level[cp.pair]
    g_all = np.arange(n_g, dtype=np.int64)
    g_prev = g_all[np.isin(g_all, g_off[:-1], invert=True)]
    r.add(
        n_g,
        np.concatenate([g_idx, g_all, g_prev]),
        np.concatenate([col, g0 + g_all, g0 + g_prev - 1]),
        np.concatenate([-np.ones(n_y), np.ones(n_g), -np.ones(len(g_prev))]),
        (0.0, 0.0),
    )
    h_idx = h_off[cp.target] + t_level
    h_all = np.arange(n_h, dtype=np.int64)
    h_prev = h_all[np.isin(h_all, h_off[:-1], invert=True)]
    r.add(
        n_h,
        np.concatenate([h_idx, h_all, h_prev]),
        np.concatenate([col, h0 + h_all, h0 + h_prev - 1]),
        np.concatenate([-np.ones(n_y), np.ones(n_h), -np.ones(len(h_prev))]),
        (0.0, 0.0),
    )
    # Stability rows for (w, l_j): G[w, lev] - Σ_{i>j} y[w, l, i] + H[l_j, lt] - y[w, l, j] >= 1.
    n_cp = cp.n_copies[cp.line]
    last_level = lv.worker_level[cp.pair] == lv.worker_levels[cp.w] - 1
    live = ~(last_level & (cp.copy == n_cp - 1))
    if problem.unassigned_line is not None:
        live &= cp.line != problem.unassigned_line
    rows = np.flatnonzero(live)
    n_rows = len(rows)
    row_of = np.full(n_y, -1, dtype=np.int64)
    row_of[rows] = np.arange(n_rows)
    # -y[w, l, i] in the rows of (w, l, j) for j < i: columns of one pair are consecutive.
    later_r: list[IntArray] = []
    later_c: list[IntArray] = []
    max_c = int(cp.n_copies.max()) if len(cp.n_copies) else 0
    for d in range(1, max_c):
        src = np.flatnonzero(cp.copy >= d)  # y[w, l, i] with i = copy >= d, row j = i - d
        dst = src - d
        ok = row_of[dst] >= 0
        later_r.append(row_of[dst[ok]])
        later_c.append(col[src[ok]])
    lr = np.concatenate(later_r) if later_r else np.zeros(0, dtype=np.int64)
    lc = np.concatenate(later_c) if later_c else np.zeros(0, dtype=np.int64)
    every = np.arange(n_rows, dtype=np.int64)
    r.add(
        n_rows,
        np.concatenate([every, every, every, lr]),
        np.concatenate([g0 + g_idx[rows], h0 + h_idx[rows], col[rows], lc]),
        np.concatenate([np.ones(n_rows), np.ones(n_rows), -np.ones(n_rows), -np.ones(len(lr))]),
        (1.0, np.inf),
    )
    y_col = {ln: n_y + n_g + n_h + i for i, ln in enumerate(capped)}
    _caps(problem, replace(lv, line=cp.line), r, y_col)

    matrix = sparse.csr_matrix(
        (np.concatenate(r.vals), (np.concatenate(r.rows), np.concatenate(r.cols))), shape=(r.count, n_cols)
    )
    h_cap = np.repeat(t_cap, line_levels_t)
    col_upper = np.concatenate([np.ones(n_y), np.ones(n_g), h_cap, np.ones(len(capped))])
    cost = np.zeros(n_cols)
    cost[:n_y] = problem.cost_int[cp.w, cp.line] / problem.unit
    return highs_process.Model(
        col_lower=np.zeros(n_cols),
        col_upper=col_upper,
        cost=cost,
        integer=np.concatenate([col, np.arange(n_y + n_g + n_h, n_cols, dtype=np.int64)]),
        row_lower=np.concatenate(r.lower),
        row_upper=np.concatenate(r.upper),
        indptr=matrix.indptr.astype(np.int64),
        indices=matrix.indices.astype(np.int64),
        data=matrix.data,
    )


def start_values(
    problem: Problem, lv: Levels, cp: Copies, line_of: IntArray, n_cols: int
) -> npt.NDArray[np.float64] | None:
    y = cp.y_of(problem, lv, line_of)
    if y is None:
        return None
    line_levels_t = lv.line_levels[np.repeat(np.arange(problem.n_lines), cp.n_copies)]
    g_off = np.concatenate([[0], np.cumsum(lv.worker_levels)])
    h_off = np.concatenate([[0], np.cumsum(line_levels_t)])
    g = np.zeros(int(g_off[-1]))
    h = np.zeros(int(h_off[-1]))
    on = y > 0
    np.add.at(g, (g_off[cp.w] + lv.worker_level[cp.pair])[on], 1.0)
    np.add.at(h, (h_off[cp.target] + lv.line_level[cp.pair])[on], 1.0)
    g = _block_cumsum(g, lv.worker_levels)
    h = _block_cumsum(h, line_levels_t)
    used = np.bincount(line_of[line_of >= 0], minlength=problem.n_lines) > 0
    values = np.concatenate([y, g, h, used[_capped_lines(problem)].astype(np.float64)])
    return values if len(values) == n_cols else None


def solve_copies(
    problem: Problem,
    lv: Levels,
    start: IntArray | None,
    ctx: SolveContext,
    deadline: float,
    *,
    options: dict[str, Any] | None = None,
) -> CpSatResult:
    """The copies MIP on ``lv``'s pairs (pruned or not), from ``start``, until ``deadline``."""
    started = time.perf_counter()
    cp = Copies(problem, lv)
    model = clone_model(problem, lv, cp)
    if start is not None and (start >= 0).all():
        values = start_values(problem, lv, cp, start, len(model.cost))
        if values is not None:
            model = replace(model, start=values)
    options = options or {"mip_rel_gap": 0.0, "mip_abs_gap": problem.rounding_bound, "threads": 1, "presolve": "off"}
    opts = dict(options, time_limit=max(deadline - time.perf_counter(), 0.5))
    answer = highs_process.solve(model, opts, ctx)
    line_of: IntArray | None = None
    objective: int | None = None
    if answer.values is not None:
        x = answer.values[: len(cp.pair)] > 0.5
        line_of = np.full(problem.n_workers, -1, dtype=np.int64)
        line_of[cp.w[x]] = cp.line[x]
        objective = int(problem.cost_int[cp.w[x], cp.line[x]].sum())
    bound = answer.dual_bound
    return CpSatResult(
        status=answer.status,
        line_of=line_of,
        objective_int=objective,
        bound_int=lower_bound_int(bound, problem.unit) if math.isfinite(bound) else float("-inf"),
        solutions=1 if line_of is not None else 0,
        wall_seconds=time.perf_counter() - started,
        workers=1,
        method=METHOD,
    )
