"""Weak stability: pairs no weakly stable allocation can use, found before the MIP (issue 14).

Pruning (``prune``), sound for every row-satisfying allocation (ties on both sides, caps,
incomplete lists, the unassigned line): lines "propose" down their lists. Each worker w keeps
b(w), the best level of a line that proposed to it; a worker *rejects* every line it ranks
strictly below b(w). A line l of c seats proposes to w when fewer than c workers other than w
that l likes at least as well as w have not rejected l. Claim: after l proposes to w, every
weakly stable allocation M gives w a line at level <= level_w(l). By induction on the
proposals: the workers who rejected l are, in M, on lines they strictly prefer to l, so not on
l; fewer than c others that l likes at least as well remain. If w were on a line it likes
strictly less than l, l would either have a free seat or hold a worker it likes strictly less
than w: (w, l) blocks. So pairs a worker ranks strictly below b(w) are in no weakly stable
allocation, and their stability rows hold (w is at level <= b(w)); dropping them changes no G
or H sum of the others (and a worker's row at its new last level holds: G = 1). The unassigned
line never proposes (it never blocks). Supervisor caps and must-fill lines only remove
allocations, so they change nothing here. With strict preferences this is line-proposing
deferred acceptance: a worker keeps the lines from its first choice down to its line-optimal
(worst stable) partner.

Measured (bench/stability.py cases): 200 x 200 x 1 keeps 11,186 of 40,000 pairs, 300 x 75 x 4
with supervisors ranking 40 workers 7,490 of 22,500, 600 x 150 x 4 21,882 of 90,000; in well
under a second. HiGHS's presolve finds these too, but slowly (most of its 15-20 s at 200 x 200).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels, dense_levels


def prune(problem: Problem, lv: Levels) -> npt.NDArray[np.bool_]:
    """Per pair of ``lv``, may a weakly stable allocation use it? (module docstring)"""
    n_w, n_l = problem.n_workers, problem.n_lines
    wlev = np.full((n_w, n_l), -1, dtype=np.int64)
    wlev[lv.w, lv.line] = lv.worker_level
    best = (lv.worker_levels - 1).copy()  # b(w): nothing rejected yet
    by_line = np.lexsort((lv.line_level, lv.line))
    cuts = np.searchsorted(lv.line[by_line], np.arange(n_l + 1))
    lists = [lv.w[by_line[cuts[ln] : cuts[ln + 1]]].tolist() for ln in range(n_l)]
    levels = [lv.line_level[by_line[cuts[ln] : cuts[ln + 1]]].tolist() for ln in range(n_l)]
    # Per line and position, the end of that position's tie group.
    group_end: list[list[int]] = []
    for lvl in levels:
        ends = [0] * len(lvl)
        end = len(lvl)
        for i in range(len(lvl) - 1, -1, -1):
            if i + 1 < len(lvl) and lvl[i + 1] != lvl[i]:
                end = i + 1
            ends[i] = end
        group_end.append(ends)
    position = np.full((n_w, n_l), -1, dtype=np.int64)
    for ln in range(n_l):
        position[lists[ln], ln] = np.arange(len(lists[ln]))
    # Per worker, its lines in order of its level (worst last), to find the ones it rejects.
    by_worker = np.lexsort((lv.worker_level, lv.w))
    wcuts = np.searchsorted(lv.w[by_worker], np.arange(n_w + 1))
    wlines = [lv.line[by_worker[wcuts[w] : wcuts[w + 1]]].tolist() for w in range(n_w)]
    wlevels = [lv.worker_level[by_worker[wcuts[w] : wcuts[w + 1]]].tolist() for w in range(n_w)]
    b = best.tolist()
    cap = problem.capacity.tolist()
    nxt = [0] * n_l
    alive_before = [0] * n_l  # non-rejecting workers before nxt
    todo = [ln for ln in range(n_l) if ln != problem.unassigned_line]
    queued = set(todo)
    wl = wlev  # local alias
    while todo:
        ln = todo.pop()
        queued.discard(ln)
        mine, ends = lists[ln], group_end[ln]
        while nxt[ln] < len(mine):
            p = nxt[ln]
            w = mine[p]
            others = alive_before[ln] + sum(1 for q in range(p, ends[p]) if wl[mine[q], ln] <= b[mine[q]])
            others -= 1 if wl[w, ln] <= b[w] else 0
            if others >= cap[ln]:
                break
            level = int(wl[w, ln])
            if level < b[w]:
                old = b[w]
                b[w] = level
                # Lines w now rejects: levels in (level, old]; those past their pointer lose w.
                for ln2, lev2 in zip(wlines[w], wlevels[w], strict=True):
                    if level < lev2 <= old and ln2 != ln:
                        if position[w, ln2] < nxt[ln2]:
                            alive_before[ln2] -= 1
                        if ln2 not in queued and ln2 != problem.unassigned_line:
                            queued.add(ln2)
                            todo.append(ln2)
            alive_before[ln] += 1 if wl[w, ln] <= b[w] else 0
            nxt[ln] += 1
    keep: npt.NDArray[np.bool_] = lv.worker_level <= np.asarray(b, dtype=np.int64)[lv.w]
    return keep


def restrict(lv: Levels, keep: npt.NDArray[np.bool_], n_workers: int, n_lines: int) -> Levels:
    """``lv`` on the kept pairs, levels renumbered densely (same orders, same ties)."""
    w, line = lv.w[keep], lv.line[keep]
    worker_level = dense_levels(w, lv.worker_level[keep].astype(np.float64))
    line_level = dense_levels(line, lv.line_level[keep].astype(np.float64))
    worker_levels = np.zeros(n_workers, dtype=np.int64)
    np.maximum.at(worker_levels, w, worker_level + 1)
    line_levels = np.zeros(n_lines, dtype=np.int64)
    np.maximum.at(line_levels, line, line_level + 1)
    return Levels(w, line, worker_level, line_level, worker_levels, line_levels)
