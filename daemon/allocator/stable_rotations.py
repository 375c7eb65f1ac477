"""Weak stability without ties: the minimum-cost stable allocation, exactly, by rotations.

With strict preferences on both sides, split each line into one-seat copies that every worker
ranks consecutively, copy 0 first, at the line's place, each copy ranking workers as the line
does. The stable allocations are exactly the stable matchings of this one-to-one instance (in a
stable one a line's workers fill its copies in the line's order: a better worker on a later
copy would block with the earlier one), at the same cost. Workers are the "men", copies the
"women"; M0 is the worker-optimal matching (worker-proposing Gale-Shapley,
``hints.stable_hint``), Mz the line-optimal one (line-proposing, ``line_proposing``).

Exactness (Irving, Leather & Gusfield 1987, J. ACM 34(3); Gusfield & Irving 1989, "The Stable
Marriage Problem", MIT Press):

1. A rotation exposed in a stable matching M is a cycle (m_0, w_0), ..., (m_{r-1}, w_{r-1}) of
   M's pairs with w_{i+1} = s_M(m_i), the first woman after w_i on m_i's list who prefers m_i
   to her partner in M; eliminating it gives each m_i the woman w_{i+1} (index mod r) and a
   stable matching again. Eliminating exposed rotations from M0 until Mz meets every rotation
   exactly once (Gusfield 1987, SIAM J. Comput. 16(1)): ``_rotations`` does so with a stack.
2. The stable matchings are exactly M0 with the rotations of a closed set S of the rotation
   poset eliminated (closed: with a rotation, every rotation preceding it), one-to-one (Irving
   & Leather 1986, SIAM J. Comput. 15(3)). The poset is the transitive closure of two kinds of
   explicit precedence of r' before r (Gusfield & Irving's type 1 and type 2):
   - type 1: r' moves some m_i of r to w_i (r needs m_i matched with w_i);
   - type 2: some woman w strictly between w_i and w_{i+1} on m_i's list is moved by r' from a
     man she likes less than m_i to one she likes more (r needs every such woman to prefer
     her partner to m_i, else she, not w_{i+1}, would be s(m_i); women only gain).
3. Eliminating r changes the cost by w(r) = sum_i cost(m_i, w_{i+1}) - cost(m_i, w_i) whatever
   else was eliminated, so cost(M) = cost(M0) + w(S): any integer pair costs will do.
4. A minimum-weight closed set is the source side of a minimum s-t cut (Picard 1976,
   Management Science 22(11)): arcs source -> r of capacity -w(r) when w(r) < 0, r -> sink of
   capacity w(r) when w(r) > 0, and an arc r -> r' for each r' explicitly preceding r, of
   capacity 1 + (the sum of -w over the negative weights): more than the cut around the
   source alone, so no minimum cut crosses it and the source side is closed.
Hence the result is a minimum-cost stable allocation: OPTIMAL, bound = objective. It still goes
through the full blocking-pair test (``feasibility.is_feasible``); a failed guard returns None
and the caller uses the MIP.

Only short lists are read. Every stable partner of a worker lies between its M0 and Mz
partners (inclusive), and so does s_M(m) while m is not at its Mz partner: that copy prefers m
to her partner in M (m is her best stable partner, and not her partner in M). A copy prefers m
to her partner only if she prefers m to her M0 partner (copies only gain). So each worker's
list keeps the copies between its two partners that rank it at least as high as their M0
partner; the elimination never needs another pair, nor does the type-2 scan (a copy left out
prefers her partner to m from M0 on: no rotation has to move her past m). At bench G1
(1,500 x 375 x 4) that is 34 pairs per worker, 267 rotations, 17,593 precedences.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow

from daemon.allocator.feasibility import is_feasible
from daemon.allocator.flow import FlowSolution
from daemon.allocator.model import CpSatResult
from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels

METHOD = "stable_rotations"
_INT64_MAX = np.iinfo(np.int64).max


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


@dataclass(frozen=True)
class _Lists:
    """Every worker's short list (module docstring), best first, all workers end to end:
    worker m's entries are ``start[m]`` (its M0 partner) to ``end[m]`` (its Mz partner)."""

    copy: list[int]  # the copy: line * width + copy index
    line: npt.NDArray[np.int64]  # the copy's line
    level: list[int]  # the worker's level in the copy's (its line's) list, 0 the best
    cost: list[int]  # cost_int of the worker on that line
    start: list[int]
    end: list[int]


@dataclass(frozen=True)
class _Rotation:
    men: list[int]
    old: list[int]  # per man, the list entry it leaves (w_i)
    new: list[int]  # per man, the list entry it gets (w_{i+1})


def _short_lists(
    problem: Problem, lv: Levels, mw: npt.NDArray[np.int64], ml: npt.NDArray[np.int64], load: npt.NDArray[np.int64]
) -> tuple[_Lists, int]:
    cw, cl = _copies(lv, mw, problem.n_lines), _copies(lv, ml, problem.n_lines)
    rows = np.arange(problem.n_workers)
    wlev = np.zeros((problem.n_workers, problem.n_lines), dtype=np.int64)
    wlev[lv.w, lv.line] = lv.worker_level
    llev = np.zeros_like(wlev)
    llev[lv.w, lv.line] = lv.line_level
    width = int(load.max(initial=0)) + 1
    # A worker's order of copies: its level of the line, then the copy index.
    lo, hi = wlev[rows, mw] * width + cw, wlev[rows, ml] * width + cl
    worst = np.zeros((problem.n_lines, width), dtype=np.int64)  # each copy's M0 partner's level
    worst[mw, cw] = llev[rows, mw]
    between = (lv.worker_level >= wlev[lv.w, mw[lv.w]]) & (lv.worker_level <= wlev[lv.w, ml[lv.w]])
    pw, pl = lv.w[between], lv.line[between]
    reps = load[pl]
    w = np.repeat(pw, reps)
    line = np.repeat(pl, reps)
    j = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    key = np.repeat(lv.worker_level[between], reps) * width + j
    level = np.repeat(lv.line_level[between], reps)
    keep = (key >= lo[w]) & (key <= hi[w]) & (level <= worst[line, j])
    w, line, j, key, level = w[keep], line[keep], j[keep], key[keep], level[keep]
    order = np.lexsort((key, w))
    w, line, j, level = w[order], line[order], j[order], level[order]
    start = np.searchsorted(w, rows)
    end = np.searchsorted(w, rows, side="right") - 1
    lists = _Lists(
        copy=(line * width + j).tolist(),
        line=line,
        level=level.tolist(),
        cost=problem.cost_int[w, line].tolist(),
        start=start.tolist(),
        end=end.tolist(),
    )
    return lists, problem.n_lines * width


def _rotations(lists: _Lists, n_copies: int) -> tuple[list[_Rotation], list[list[int]], list[list[int]]] | None:
    """Every rotation, by eliminating exposed ones from M0 until Mz, in the order found; and per
    copy, its partners' negated levels (increasing: copies only gain) and the rotation that
    brought each (-1 for the M0 partner). None if a worker runs off its list (not the instance
    the module's docstring assumes)."""
    copy, level, end = lists.copy, lists.level, lists.end
    n = len(lists.start)
    at = list(lists.start)  # each worker's current entry
    scan = [i + 1 for i in at]  # where its search for s(m) resumes: entries before never qualify
    holder = [-1] * n_copies
    holder_level = [0] * n_copies
    gained: list[list[int]] = [[] for _ in range(n_copies)]
    by: list[list[int]] = [[] for _ in range(n_copies)]
    for m in range(n):
        c = copy[at[m]]
        holder[c], holder_level[c] = m, level[at[m]]
        gained[c].append(-level[at[m]])
        by[c].append(-1)
    rotations: list[_Rotation] = []
    stack: list[int] = []
    on_stack = [False] * n
    first = 0  # workers before it are at their Mz partners
    while True:
        if not stack:
            while first < n and at[first] == end[first]:
                first += 1
            if first == n:
                return rotations, gained, by
            stack.append(first)
            on_stack[first] = True
        m = stack[-1]
        i = scan[m]
        while i <= end[m] and level[i] >= holder_level[copy[i]]:  # the copy prefers her partner
            i += 1
        if i > end[m]:
            return None
        scan[m] = i
        nxt = holder[copy[i]]
        if not on_stack[nxt]:
            stack.append(nxt)
            on_stack[nxt] = True
            continue
        men = []
        while True:  # the cycle nxt, ..., m: a rotation exposed in the current matching
            x = stack.pop()
            on_stack[x] = False
            men.append(x)
            if x == nxt:
                break
        men.reverse()
        r = len(rotations)
        rotations.append(_Rotation(men, [at[x] for x in men], [scan[x] for x in men]))
        for x in men:
            i = scan[x]
            c = copy[i]
            holder[c], holder_level[c] = x, level[i]
            gained[c].append(-level[i])
            by[c].append(r)
            at[x], scan[x] = i, i + 1


def _precedences(
    lists: _Lists, rotations: list[_Rotation], gained: list[list[int]], by: list[list[int]]
) -> set[tuple[int, int]]:
    """The explicit precedences (r', r): r' before r, type 1 and type 2 (module docstring)."""
    edges: set[tuple[int, int]] = set()
    last: dict[int, int] = {}  # per worker, the last rotation found that moved it
    for r, rot in enumerate(rotations):
        for x, old, new in zip(rot.men, rot.old, rot.new, strict=True):
            if x in last:  # type 1: it brought x to ``old``, which r takes x away from
                edges.add((last[x], r))
            last[x] = r
            for i in range(old + 1, new):
                # Type 2: the copy ranks x above her M0 partner (short lists) and prefers her
                # partner when r is exposed: the rotation that took her past x comes first.
                c = lists.copy[i]
                edges.add((by[c][bisect_right(gained[c], -lists.level[i])], r))
    return edges


def _min_weight_closed_set(weights: list[int], edges: set[tuple[int, int]]) -> list[int] | None:
    """The rotations of a minimum-weight closed set (module docstring, 4); None on overflow."""
    n = len(weights)
    source, sink = n, n + 1
    total = sum(-w for w in weights if w < 0)
    if total >= _INT64_MAX:
        return None
    flow = max_flow.SimpleMaxFlow()
    # SimpleMaxFlow knows only the nodes some arc names; with none into the sink (no rotation
    # costs anything) its solve() would silently return an empty cut: name both terminals.
    flow.add_arc_with_capacity(source, sink, 0)
    for r, w in enumerate(weights):
        if w < 0:
            flow.add_arc_with_capacity(source, r, -w)
        elif w > 0:
            flow.add_arc_with_capacity(r, sink, w)
    for before, after in edges:
        flow.add_arc_with_capacity(after, before, total + 1)  # no cut is this dear: uncut
    if flow.solve(source, sink) != flow.OPTIMAL:
        return None
    return [r for r in flow.get_source_side_min_cut() if r < n]


@dataclass(frozen=True)
class Poset:
    """The rotations (in the order found: a topological order) with their weights and
    explicit precedences (before, after), over the workers' short lists."""

    lists: _Lists
    rotations: list[_Rotation]
    weights: list[int]  # per rotation, the change in cost_int that eliminating it makes
    edges: set[tuple[int, int]]

    def matching(self, closed: Iterable[int]) -> npt.NDArray[np.int64]:
        """Per worker, its line in M0 with the rotations of the closed set ``closed`` eliminated."""
        final = list(self.lists.start)
        for r in closed:  # a worker's rotations in a closed set: a prefix of its chain, the last wins
            rot = self.rotations[r]
            for x, new in zip(rot.men, rot.new, strict=True):
                final[x] = max(final[x], new)
        return self.lists.line[np.asarray(final, dtype=np.int64)]


def rotation_poset(problem: Problem, lv: Levels, worker_opt: FlowSolution) -> Poset | None:
    """The rotation poset from the worker-optimal allocation ``worker_opt``; None if a guard
    fails (a worker left out, unequal loads, a must-fill line left empty)."""
    mw = worker_opt.line_of
    ml = line_proposing(problem, lv)
    if ml is None or (mw < 0).any():
        return None
    load = np.bincount(mw, minlength=problem.n_lines)
    if not np.array_equal(load, np.bincount(ml, minlength=problem.n_lines)):
        return None  # the rural hospitals theorem says equal: preferences were not strict
    if (problem.must_fill & (load == 0)).any():
        return None  # no stable allocation fills it (same theorem): the MIP says infeasible
    lists, n_copies = _short_lists(problem, lv, mw, ml, load)
    found = _rotations(lists, n_copies)
    if found is None:
        return None
    rotations, gained, by = found
    weights = [sum(lists.cost[b] - lists.cost[a] for a, b in zip(rot.old, rot.new, strict=True)) for rot in rotations]
    return Poset(lists, rotations, weights, _precedences(lists, rotations, gained, by))


def solve_rotations(problem: Problem, lv: Levels, worker_opt: FlowSolution) -> CpSatResult | None:
    """The optimum, proven, or None (see the module's docstring)."""
    started = time.perf_counter()
    poset = rotation_poset(problem, lv, worker_opt)
    if poset is None:
        return None
    chosen = _min_weight_closed_set(poset.weights, poset.edges)
    if chosen is None:
        return None
    line_of = poset.matching(chosen)
    if not is_feasible(problem, line_of):
        return None
    objective = int(problem.cost_int[np.arange(problem.n_workers), line_of].sum())
    return CpSatResult(
        status="OPTIMAL",
        line_of=line_of,
        objective_int=objective,
        bound_int=float(objective),  # the minimum over all stable allocations (docstring)
        solutions=1,
        wall_seconds=time.perf_counter() - started,
        workers=1,
        method=METHOD,
    )
