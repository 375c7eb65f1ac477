"""What the weak-stability formulations share: both sides' preference levels over the open pairs.

SPEC §4.6 (and ``model.py``, the checker): a worker prefers line l to l' when its fractional
rank of l is lower (an unranked line counts at the budget, so a worker's unranked lines tie);
a line prefers worker w to w' when ``D_preferencer`` is lower after rounding to
``PREFERENCE_DECIMALS`` (a line without supervisors ties all workers). Only eligible pairs on
lines with seats take part: no other pair can block. The dummy "unassigned" line
(allow_unassigned) is every worker's last choice and never full, so it never blocks.

A *level* is a dense rank within one side's list, 0 the best: two pairs share a level exactly
when that side is indifferent between them. A formulation's stability row for pair (w, l) then
reads: w has a line at level <= level_w(l), or l is full of workers at level <= level_l(w).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from daemon.allocator.model import PREFERENCE_DECIMALS
from daemon.allocator.problem import Problem

IntArray = npt.NDArray[np.int64]


def dense_levels(group: IntArray, value: npt.NDArray[np.float64]) -> IntArray:
    """Per item, the dense rank of ``value`` within its ``group`` (0 = smallest)."""
    order = np.lexsort((value, group))
    g, v = group[order], value[order]
    starts = np.ones(len(g), dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    new_level = starts.copy()
    new_level[1:] |= v[1:] != v[:-1]
    count = np.cumsum(new_level) - 1
    # Subtract, per group, the count at its first item: levels restart at 0 in every group.
    first = np.maximum.accumulate(np.where(starts, np.arange(len(g)), 0))
    levels = np.empty(len(g), dtype=np.int64)
    levels[order] = count - count[first]
    return levels


@dataclass(frozen=True)
class Levels:
    """The open (eligible, seats > 0) pairs in row-major order, with each side's level."""

    w: IntArray  # worker of each pair
    line: IntArray  # line of each pair
    worker_level: IntArray  # the pair's line's level in the worker's list
    line_level: IntArray  # the pair's worker's level in the line's list
    worker_levels: IntArray  # per worker, how many levels its list has
    line_levels: IntArray  # per line, how many levels its list has

    @staticmethod
    def of(problem: Problem) -> Levels:
        w, line = np.nonzero(problem.eligible & (problem.capacity > 0)[None, :])
        w, line = w.astype(np.int64), line.astype(np.int64)
        worker_level = dense_levels(w, problem.rank[w, line])
        view = np.round(problem.d_preferencer[w, line], PREFERENCE_DECIMALS)
        line_level = dense_levels(line, view)
        worker_levels = np.zeros(problem.n_workers, dtype=np.int64)
        np.maximum.at(worker_levels, w, worker_level + 1)
        line_levels = np.zeros(problem.n_lines, dtype=np.int64)
        np.maximum.at(line_levels, line, line_level + 1)
        return Levels(w, line, worker_level, line_level, worker_levels, line_levels)

    def has_ties(self, problem: Problem) -> bool:
        """Does either side tie two of its open pairs? The dummy line's indifference does not
        count: no worker prefers it to anything, so it never takes part in a blocking pair."""
        per_worker = np.bincount(self.w, minlength=problem.n_workers)
        per_line = np.bincount(self.line, minlength=problem.n_lines)
        real = np.ones(problem.n_lines, dtype=bool)
        if problem.unassigned_line is not None:
            real[problem.unassigned_line] = False
        return bool((per_worker > self.worker_levels).any() or (per_line[real] > self.line_levels[real]).any())
