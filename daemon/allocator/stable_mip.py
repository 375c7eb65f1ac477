"""Weak stability as a MIP for HiGHS (``highspy``): the general path, ties and caps included.

The classic MAX-HRT stability row for a pair (w, l), l with c seats, reads

    c · (lines w has at least as good as l) + (other workers on l that l likes at least as well) >= c

("at least as good" on both sides: with ties this is weak stability, SPEC §4.6). Written out,
each row has a term per better line and per better worker: O(workers x lines) terms a row. As in
``model.py``, the sums are chained prefix sums instead: continuous G[w, j] = Σ x over w's lines
at levels 0..j and H[l, k] = Σ x over l's workers at levels 0..k (``stability.Levels``), each
defined from the previous one, so every stability row has three terms (c·G + H - x >= c: H
counts w itself, the classic row does not) and the LP relaxation is unchanged. Rows whose
worker side is w's last level always hold (G = 1) and are left out.

The objective is the integer objective (``cost_int``, tie-break jitter included) divided by
``Problem.unit``. HiGHS stops at an absolute gap of ``Problem.rounding_bound``: finer than the
precision of the objective itself, so OPTIMAL means optimal within the documented rounding
error, as for CP-SAT. It starts from the Gale-Shapley solution (``hints.stable_hint``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from daemon.allocator import highs_process
from daemon.allocator.flow import FlowSolution
from daemon.allocator.model import CpSatResult
from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels
from daemon.solving import SolveContext

METHOD = "highs_mip"


@dataclass
class _Rows:
    """A CSR row block under construction: (row, column, value) triplets and row bounds."""

    rows: list[npt.NDArray[np.int64]]
    cols: list[npt.NDArray[np.int64]]
    vals: list[npt.NDArray[np.float64]]
    lower: list[npt.NDArray[np.float64]]
    upper: list[npt.NDArray[np.float64]]
    count: int = 0

    def add(
        self,
        n: int,
        rows: npt.NDArray[np.int64],
        cols: npt.NDArray[np.int64],
        vals: npt.NDArray[np.float64] | float,
        bounds: tuple[npt.NDArray[np.float64] | float, npt.NDArray[np.float64] | float],
    ) -> None:
        """``n`` rows; ``rows`` numbers their triplets from 0; ``bounds``: (lower, upper)."""
        lower, upper = bounds
        self.rows.append(rows + self.count)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)))
        self.count += n


def build(problem: Problem, lv: Levels) -> highs_process.Model:
    """The MIP; its first columns are the pairs' x, in ``lv``'s order."""
    # Y: a binary "line used" per line under a max_job_lines cap (a fixed charge, as in model.py).
    capped_lines = _capped_lines(problem)
    return stability_model(
        lv,
        capacity=problem.capacity.astype(np.float64),
        lower=np.minimum(problem.must_fill, problem.capacity > 0).astype(np.float64),
        cost=problem.cost_int[lv.w, lv.line] / problem.unit,
        n_extra=len(capped_lines),
        extra_rows=lambda r, first: _caps(problem, lv, r, {ln: first + i for i, ln in enumerate(capped_lines)}),
    )


def _capped_lines(problem: Problem) -> list[int]:
    return sorted({int(ln) for s in problem.supervisors if s.max_new_lines is not None for ln in s.lines[s.fresh]})


def stability_model(
    lv: Levels,
    *,
    capacity: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    n_extra: int = 0,
    extra_rows: Callable[[_Rows, int], None] | None = None,
) -> highs_process.Model:
    """Workers (``lv.w``) each on exactly one target (``lv.line``), targets' loads within
    [lower, capacity], and the stability rows. Columns: x per pair (integer), G, H, then
    ``n_extra`` binary columns that ``extra_rows`` uses."""
    n_pairs = len(lv.w)
    n_workers, n_targets = len(lv.worker_levels), len(lv.line_levels)
    g_off = np.concatenate([[0], np.cumsum(lv.worker_levels)]).astype(np.int64)
    h_off = np.concatenate([[0], np.cumsum(lv.line_levels)]).astype(np.int64)
    n_g, n_h = int(g_off[-1]), int(h_off[-1])
    g0, h0 = n_pairs, n_pairs + n_g  # first G and H columns
    n_cols = n_pairs + n_g + n_h + n_extra

    pair = np.arange(n_pairs, dtype=np.int64)
    r = _Rows([], [], [], [], [])
    # Each worker on exactly one target.
    r.add(n_workers, lv.w, pair, 1.0, (1.0, 1.0))
    # Loads within seats, must-fill lines at least 1.
    r.add(n_targets, lv.line, pair, 1.0, (lower, capacity))
    # G[w, j] - G[w, j-1] - Σ x at level j = 0.
    g_idx = g_off[lv.w] + lv.worker_level
    g_all = np.arange(n_g, dtype=np.int64)
    g_prev = g_all[np.isin(g_all, g_off[:-1], invert=True)]
    r.add(
        n_g,
        np.concatenate([g_idx, g_all, g_prev]),
        np.concatenate([pair, g0 + g_all, g0 + g_prev - 1]),
        np.concatenate([-np.ones(n_pairs), np.ones(n_g), -np.ones(len(g_prev))]),
        (0.0, 0.0),
    )
    # H[l, k] - H[l, k-1] - Σ x at level k = 0.
    h_idx = h_off[lv.line] + lv.line_level
    h_all = np.arange(n_h, dtype=np.int64)
    h_prev = h_all[np.isin(h_all, h_off[:-1], invert=True)]
    r.add(
        n_h,
        np.concatenate([h_idx, h_all, h_prev]),
        np.concatenate([pair, h0 + h_all, h0 + h_prev - 1]),
        np.concatenate([-np.ones(n_pairs), np.ones(n_h), -np.ones(len(h_prev))]),
        (0.0, 0.0),
    )
    # Stability: c · G[w, level_w(l)] + H[l, level_l(w)] - x[w, l] >= c, where G can still be
    # 0. H counts w itself, which the classic row does not: without the -x the row holds for
    # the same integer points but its LP is weaker (x[w, l] counted c + 1 times): with one
    # seat per target and strict preferences it is no longer the integral stable marriage
    # polytope.
    live = lv.worker_level < lv.worker_levels[lv.w] - 1
    n_live = int(live.sum())
    live_rows = np.arange(n_live, dtype=np.int64)
    c_live = capacity[lv.line[live]]
    r.add(
        n_live,
        np.concatenate([live_rows, live_rows, live_rows]),
        np.concatenate([g0 + g_idx[live], h0 + h_idx[live], pair[live]]),
        np.concatenate([c_live, np.ones(n_live), -np.ones(n_live)]),
        (c_live, np.inf),
    )
    if extra_rows is not None:
        extra_rows(r, n_pairs + n_g + n_h)

    matrix = sparse.csr_matrix(
        (np.concatenate(r.vals), (np.concatenate(r.rows), np.concatenate(r.cols))), shape=(r.count, n_cols)
    )
    target_of_h = np.repeat(np.arange(n_targets), lv.line_levels)
    col_upper = np.concatenate([np.ones(n_pairs), np.ones(n_g), capacity[target_of_h], np.ones(n_extra)])
    col_cost = np.zeros(n_cols)
    col_cost[:n_pairs] = cost
    extra = np.arange(n_pairs + n_g + n_h, n_cols, dtype=np.int64)
    return highs_process.Model(
        col_lower=np.zeros(n_cols),
        col_upper=col_upper,
        cost=col_cost,
        integer=np.concatenate([pair, extra]),
        row_lower=np.concatenate(r.lower),
        row_upper=np.concatenate(r.upper),
        indptr=matrix.indptr.astype(np.int64),
        indices=matrix.indices.astype(np.int64),
        data=matrix.data,
    )


def _caps(problem: Problem, lv: Levels, r: _Rows, y_col: dict[int, int]) -> None:
    """Supervisors' max_workers and max_job_lines (net of earlier rounds), as in model.py."""
    for sup in problem.supervisors:
        on = np.flatnonzero(np.isin(lv.line, sup.lines)).astype(np.int64)
        if sup.max_new_workers is not None:
            r.add(1, np.zeros(len(on), dtype=np.int64), on, 1.0, (-np.inf, float(sup.max_new_workers)))
        if sup.max_new_lines is None:
            continue
        fresh = [int(ln) for ln in sup.lines[sup.fresh]]
        for ln in fresh:  # load(l) <= cap(l) · Y[l]
            mine = np.flatnonzero(lv.line == ln).astype(np.int64)
            cols = np.append(mine, y_col[ln])
            vals = np.append(np.ones(len(mine)), -float(problem.capacity[ln]))
            r.add(1, np.zeros(len(cols), dtype=np.int64), cols, vals, (-np.inf, 0.0))
        cols = np.array([y_col[ln] for ln in fresh], dtype=np.int64)
        r.add(1, np.zeros(len(cols), dtype=np.int64), cols, 1.0, (-np.inf, float(sup.max_new_lines)))


def start_values(problem: Problem, lv: Levels, line_of: npt.NDArray[np.int64], n_cols: int) -> npt.NDArray[np.float64]:
    """Every column's value at the allocation ``line_of`` (G and H from x; Y: line used)."""
    x = (line_of[lv.w] == lv.line).astype(np.float64)
    g = np.zeros(int(lv.worker_levels.sum()))
    h = np.zeros(int(lv.line_levels.sum()))
    g_off = np.concatenate([[0], np.cumsum(lv.worker_levels)])
    h_off = np.concatenate([[0], np.cumsum(lv.line_levels)])
    np.add.at(g, (g_off[lv.w] + lv.worker_level)[x > 0], 1.0)
    np.add.at(h, (h_off[lv.line] + lv.line_level)[x > 0], 1.0)
    # Prefix sums within each worker's (line's) block.
    g = _block_cumsum(g, lv.worker_levels)
    h = _block_cumsum(h, lv.line_levels)
    values = np.concatenate([x, g, h])
    used = np.bincount(line_of, minlength=problem.n_lines) > 0
    values = np.concatenate([values, used[_capped_lines(problem)].astype(np.float64)])
    assert len(values) == n_cols
    out: npt.NDArray[np.float64] = values.astype(np.float64)
    return out


def _block_cumsum(values: npt.NDArray[np.float64], sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Prefix sums of ``values`` restarting at each block (blocks of ``sizes``, in order)."""
    if len(values) == 0:
        return values
    total = np.cumsum(values)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    base = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    out: npt.NDArray[np.float64] = total - np.repeat(base, sizes)
    return out


def lower_bound_int(value: float, unit: float) -> float:
    """A HiGHS bound (objective / unit, float) as a valid bound on the integer objective:
    rounded down, less a relative margin for the simplex's float error."""
    scaled = value * unit
    return float(math.floor(scaled - 1e-9 * abs(scaled) - 1.0))


def solve_mip(problem: Problem, lv: Levels, hint: FlowSolution, ctx: SolveContext, deadline: float) -> CpSatResult:
    """Minimise from ``hint`` until ``deadline`` (perf_counter) or a stop request."""
    started = time.perf_counter()
    model = build(problem, lv)
    if (hint.line_of >= 0).all():  # HiGHS checks a start and ignores it if infeasible
        model = replace(model, start=start_values(problem, lv, hint.line_of, len(model.cost)))
    options: dict[str, Any] = {
        "time_limit": max(deadline - time.perf_counter(), 0.5),
        "mip_rel_gap": 0.0,
        "mip_abs_gap": problem.rounding_bound,
        "random_seed": problem.config.rng_seed % 2**31,
        # HiGHS's MIP search is serial; its parallel parts gain little here, and the daemon's
        # cores are shared by concurrent solves.
        "threads": 1,
        # On the pruned pairs (stable_prune) HiGHS's presolve costs far more than it saves:
        # measured on a loaded machine, 200 x 200 x 1 with ties proven in 2.5 s without it and
        # 8.5-21 s with it (its probing alone can take the whole time limit); 300 x 75 x 4
        # proven in the 60 s without it, left at 1.5 % with it; 600 x 150 x 4 bound 9,859
        # without it, nothing at all with it (probing hit the time limit).
        "presolve": "off",
    }
    answer = highs_process.solve(model, options, ctx)
    line_of: npt.NDArray[np.int64] | None = None
    objective: int | None = None
    if answer.values is not None:
        x = answer.values[: len(lv.w)] > 0.5
        line_of = np.full(problem.n_workers, -1, dtype=np.int64)
        line_of[lv.w[x]] = lv.line[x]
        objective = int(problem.cost_int[lv.w[x], lv.line[x]].sum())
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
