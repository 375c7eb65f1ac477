"""Exact what-ifs of an optimal allocation, read off the residual graph of its flow.

An allocation is a flow (``flow.solve_flow``): a unit from each worker to its line, on from
each line to its parent (its one capped supervisor, else the sink), and from each supervisor
to the sink. When the allocation is optimal its residual graph has no negative cycle, and a
what-if that changes one thing costs exactly the cheapest cycle through the change (the
classic sensitivity argument for network flows): one shortest path, no re-solve.

- Worker w, now on line l0, forced onto line l: the optimum rises by
  c(w, l) - c(w, l0) + d(l, l0). The cycle leaves w by the new arc w -> l and must come
  back into w, which it can only do by the reverse of w's own arc, from l0.
- One more seat on l: the optimum falls by max(0, -d(parent(l), l)), the cheapest cycle
  through the new residual arc l -> parent(l).
- One fewer seat on a full l: the optimum rises by d(l, parent(l)), the cheapest way to
  re-route one of l's units; infinite (no allocation) when there is none.

The shortest paths run on a graph of lines, not workers: a path through worker w' from line a
to line b ("a's worker w' moves to b") only ever uses the cheapest such w', so
arc(a, b) = min over workers w' on a of c(w', b) - c(w', a), and the graph has one node per
line, per capped supervisor and the sink. Costs are the solver's integer costs, so every
figure here is about the same objective the solver minimised; the first moves of the chain
behind each path are returned too, and its true (unscaled) cost is summed from all its moves.
Potentials from Bellman-Ford make every arc non-negative, so Dijkstra (scipy) can run from
each target once; the distances are only ever used through the integer sums of their moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from daemon.allocator.flow import parents
from daemon.allocator.problem import Problem

IntArray = npt.NDArray[np.int64]
Tree = tuple[float, npt.NDArray[np.float64], npt.NDArray[np.int32]]
_NONE = np.iinfo(np.int64).max  # no arc
_SPARSE_ARCS_PER_NODE = 16
# Reach of the rounds of prepare(), as shares of _tau (measured best at 1,500 x 1,500).
_ROUNDS = np.array([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0])


@dataclass(frozen=True)
class WhatIf:
    """A change's effect on the optimum: ``delta_int`` in the solver's integer units, ``delta``
    in true cost; the best allocation with the change makes ``n_moves`` moves, of which the
    first ``SHOWN`` are kept in order as rows (worker, from line, to line) of ``moves``, and
    leaves ``more_unassigned`` more workers on the unassigned line."""

    delta_int: int
    delta: float
    n_moves: int
    more_unassigned: int
    more_left_out: int  # of them, workers whose leaving out counts (SPEC §4.1): minimised first
    moves: IntArray


NO_CHANGE = WhatIf(0, 0.0, 0, 0, 0, np.zeros((0, 3), dtype=np.int64))
SHOWN = 5  # moves kept per what-if: the forced one and the first 4 links of its chain


class OutOfTime(Exception):
    """Raised by the ``check`` a Residual is given, when its caller's time is up."""


class Residual:
    """The line-level residual graph of an optimal allocation ``line_of`` of ``problem``.

    ``check`` is called between steps of every loop whose length the input decides (it raises
    ``OutOfTime``, or anything, to stop): the figures are worth less than the run's deadline."""

    def __init__(self, problem: Problem, line_of: IntArray, check: Callable[[], None] = lambda: None) -> None:
        self.problem, self.line_of, self._check = problem, line_of, check
        n_l = problem.n_lines
        parent = parents(problem.supervisors, problem.n_lines)
        sups = sorted(set(parent[parent >= 0].tolist()))
        self.sink = n_l + len(sups)
        n = self.sink + 1
        # parent_node[line]: its supervisor's node, or the sink
        sup_node = {s: n_l + i for i, s in enumerate(sups)}
        self.parent_node = np.array([sup_node.get(int(p), self.sink) for p in parent], dtype=np.int64)
        count = np.bincount(line_of, minlength=n_l)
        self.count = count
        must = problem.must_fill.astype(np.int64)
        self.full = count >= problem.capacity
        weight, self.mover = _line_arcs(problem, line_of)
        # Seat arcs, all of cost 0: a line with a spare seat can take one more unit on to its
        # parent; a line above its must-fill minimum can give one back.
        lines = np.arange(n_l)
        spare, give = ~self.full, count - must > 0
        weight = np.pad(weight, ((0, n - n_l), (0, n - n_l)), constant_values=_NONE)
        weight[lines[spare], self.parent_node[spare]] = 0
        weight[self.parent_node[give], lines[give]] = 0
        for s, node in sup_node.items():
            cap = problem.supervisors[s].max_new_workers
            load = int(count[parent == s].sum())
            assert cap is not None
            if load < cap:
                weight[node, self.sink] = 0
            if load > 0:
                weight[self.sink, node] = 0
        self.weight = weight
        pi = _potentials(weight, check)
        arcs = weight != _NONE
        # Reduced costs (integers; rounding in the doubles may leave -tiny where the exact
        # value is 0), plus a hop cost too small to change which path is cheapest (all the
        # hops of a simple path add up to less than one integer unit): of the cheapest
        # chains of moves, the shortest, so the one a person reads. Computed on the dense
        # matrix (the same operations per arc as on a list of arcs, without the gathers),
        # and kept for the graph of every arc, built only when a path needs it.
        hop = 1.0 / (n + 1)
        dense = np.maximum(weight.astype(np.float64) + pi[:, None] - pi[None, :], 0.0)
        dense += hop
        reduced = dense[arcs]
        # Shortest paths run first on the cheapest arcs only: every path no longer than
        # ``_tau`` uses only arcs no longer than it, so a distance found within it is exact,
        # and only a longer one is looked up again on all the arcs. The what-ifs asked for
        # are near the optimum, and the cheapest few arcs per line hold nearly all of them
        # (at 1,500 x 1,500, 1 % of the arcs held every path asked for).
        keep = min(len(reduced), _SPARSE_ARCS_PER_NODE * n)
        self._tau = float(np.partition(reduced, keep - 1)[keep - 1]) if keep else 0.0
        cheap = arcs & (dense <= self._tau)
        # Trees grow backwards from a path's end (arcs reversed), or forwards from its start.
        self._cheap = {True: _csr(cheap.T, dense.T), False: _csr(cheap, dense)}
        self._arcs, self._reduced = arcs, dense
        self._all: dict[bool, csr_matrix] = {}  # every arc, built when first needed
        self._trees: dict[tuple[bool, int], Tree] = {}  # (into, root): (reach, dist, pred)

    def force(self, pairs: list[tuple[int, int]]) -> list[WhatIf | None]:
        """Per (worker, line): the best allocation with the worker on that line (None if none).
        The trees into the workers' own lines are grown in rounds of growing reach, each only
        for the lines some pair still needs, one scipy call a round: most paths are short."""
        out: list[WhatIf | None] = [None] * len(pairs)
        todo = [i for i, (w, ln) in enumerate(pairs) if self.problem.eligible[w, ln]]
        for i in todo:
            if self.line_of[pairs[i][0]] == pairs[i][1]:
                out[i] = NO_CHANGE
        todo = [i for i in todo if out[i] is None]
        workers = np.array([pairs[i][0] for i in todo], dtype=np.int64)
        starts = np.array([pairs[i][1] for i in todo], dtype=np.int64)
        ends = self.line_of[workers]
        self._grow(starts, ends)
        forced = self._walk(starts, ends, into=True, first=(workers, ends, starts))
        for i, what in zip(todo, forced, strict=True):
            out[i] = what
        return out

    def one_more_seat(self) -> list[WhatIf]:
        """Per real line: the best allocation with one more seat on it; no change unless it
        helps (the cheapest cycle through the new arc line -> parent, from the parent)."""
        lines = np.arange(self.problem.n_real_lines)
        found = self._walk(lines, self.parent_node[lines], into=False)
        return [NO_CHANGE if w is None or w.delta_int >= 0 else w for w in found]

    def one_fewer_seat(self) -> list[WhatIf | None]:
        """Per real line: the best allocation with one seat fewer on it (None if none, or no
        seat to take away): a line with a spare seat loses nothing; a full one must re-route
        one unit, which a must-have line of one seat cannot."""
        p = self.problem
        out: list[WhatIf | None] = []
        rerouted = []
        for ln in range(p.n_real_lines):
            lone = p.must_fill[ln] and p.capacity[ln] == 1
            out.append(None if p.capacity[ln] == 0 or (self.full[ln] and lone) else NO_CHANGE)
            if out[-1] is not None and self.full[ln]:
                rerouted.append(ln)
        lines = np.array(rerouted, dtype=np.int64)
        for ln, what in zip(rerouted, self._walk(lines, self.parent_node[lines], into=True), strict=True):
            out[ln] = what
        return out

    def _grow(self, starts: IntArray, ends: IntArray) -> None:
        pending = np.ones(len(starts), dtype=bool)
        for reach in _ROUNDS * self._tau:
            self._check()
            todo = np.unique(ends[pending])
            if not todo.size:
                return
            dist, pred = dijkstra(self._cheap[True], indices=todo, return_predecessors=True, limit=reach)
            for i, end in enumerate(todo.tolist()):
                self._trees[(True, end)] = (reach, dist[i], pred[i])
            open_ = np.flatnonzero(pending)
            settled = dist[np.searchsorted(todo, ends[open_]), starts[open_]] <= reach
            pending[open_[settled]] = False

    def _tree(self, root: int, leaf: int, *, into: bool) -> Tree:
        """A shortest-path tree into (or out of) ``root`` in which ``leaf``'s distance is exact:
        on the cheap arcs if it lies within their reach (as grown, or up to ``_tau``), else on
        all the arcs (where an unreachable leaf stays at infinity)."""
        tree = self._trees.get((into, root))
        for reach in (self._tau, np.inf):
            if tree is not None and tree[1][leaf] <= tree[0]:
                return tree
            if tree is None or tree[0] < reach:
                self._check()
                graph = self._cheap[into] if reach <= self._tau else self._complete(into)
                dist, pred = dijkstra(graph, indices=root, return_predecessors=True, limit=reach)
                tree = self._trees[(into, root)] = (reach, dist, pred)
        assert tree is not None
        return tree

    def _complete(self, into: bool) -> csr_matrix:
        if into not in self._all:
            arcs, reduced = self._arcs, self._reduced
            self._all[into] = _csr(arcs.T, reduced.T) if into else _csr(arcs, reduced)
        return self._all[into]

    def _walk(
        self,
        leaves: IntArray,
        roots: IntArray,
        *,
        into: bool,
        first: tuple[IntArray, IntArray, IntArray] | None = None,
    ) -> list[WhatIf | None]:
        """The what-if of each path between leaves[i] and roots[i] (leaf to root ``into`` the
        root, else root to leaf; None where there is none), after the move ``first`` (workers,
        from, to) if given: all paths walked together, a step of each per round of numpy
        operations. Out of a root the moves are met last first, so only totals are kept."""
        p, n_l = self.problem, self.problem.n_lines
        if not len(leaves):
            return []
        # One predecessor row per distinct tree (at most one per line), not per path: memory
        # stays lines x lines however many paths are asked for.
        trees = [self._tree(int(r), int(x), into=into) for x, r in zip(leaves.tolist(), roots.tolist(), strict=True)]
        reachable = np.array([np.isfinite(t[1][x]) for t, x in zip(trees, leaves.tolist(), strict=True)], dtype=bool)
        row_of: dict[int, int] = {}
        tree_row = np.array([row_of.setdefault(id(t[2]), len(row_of)) for t in trees], dtype=np.int64)
        distinct = {id(t[2]): t[2] for t in trees}
        pred = np.array([distinct[key] for key in row_of], dtype=np.int64).reshape(len(row_of), -1)
        k = len(leaves)
        delta_int, delta = np.zeros(k, dtype=np.int64), np.zeros(k)
        n_moves, unassigned = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
        left_out = np.zeros(k, dtype=np.int64)
        shown = np.full((k, SHOWN, 3), -1, dtype=np.int64)
        dummy = -1 if p.unassigned_line is None else p.unassigned_line

        def moved(rows: IntArray, workers: IntArray, a: IntArray, b: IntArray) -> None:
            delta_int[rows] += p.cost_int[workers, b] - p.cost_int[workers, a]
            delta[rows] += p.cost[workers, b] - p.cost[workers, a]
            change = (b == dummy).astype(np.int64) - (a == dummy)
            unassigned[rows] += change
            left_out[rows] += change * p.counted[workers]
            keep = n_moves[rows] < SHOWN
            shown[rows[keep], n_moves[rows[keep]]] = np.stack([workers[keep], a[keep], b[keep]], axis=1)
            n_moves[rows] += 1

        if first is not None:
            moved(np.arange(k), *first)
        cur = leaves.copy()
        active = reachable & (cur != roots)
        while active.any():
            self._check()
            rows = np.flatnonzero(active)
            here, there = cur[rows], pred[tree_row[rows], cur[rows]]
            a, b = (here, there) if into else (there, here)  # out of the root: walking backwards
            step = (a < n_l) & (b < n_l)
            moved(rows[step], self.mover[a[step], b[step]], a[step], b[step])
            cur[rows] = there
            active[rows] = there != roots[rows]
        if not into:  # met last first: only the totals are kept
            shown[:] = -1
        kept = np.minimum(n_moves, SHOWN).tolist()
        totals = zip(
            delta_int.tolist(), delta.tolist(), n_moves.tolist(), unassigned.tolist(), left_out.tolist(), strict=True
        )
        return [
            WhatIf(d_int, d, n, u, out, shown[i, : kept[i]]) if reachable[i] else None
            for i, (d_int, d, n, u, out) in enumerate(totals)
        ]


def _csr(arcs: npt.NDArray[np.bool_], values: npt.NDArray[np.float64]) -> csr_matrix:
    """The graph of ``values`` where ``arcs`` (square; a transposed view reverses every arc),
    each row's arcs in column order, as a COO conversion would give them: built directly
    from the row-major mask, with no sort (2.25 M arcs: 0.1 s less than through COO)."""
    n = len(arcs)
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.count_nonzero(arcs, axis=1), out=indptr[1:])
    indices = np.nonzero(arcs)[1].astype(np.int32)
    return csr_matrix((values[arcs], indices, indptr), shape=(n, n))


def _line_arcs(problem: Problem, line_of: IntArray) -> tuple[IntArray, IntArray]:
    """arc(a, b) = least c(w, b) - c(w, a) over workers w on a eligible for b, and that w."""
    n_l = problem.n_lines
    order = np.argsort(line_of, kind="stable")
    on = line_of[order]
    own = problem.cost_int[order, on]
    step = np.where(problem.eligible[order], problem.cost_int[order] - own[:, None], _NONE)
    weight = np.full((n_l, n_l), _NONE, dtype=np.int64)
    mover = np.full((n_l, n_l), -1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, on[1:] != on[:-1]])
    ends = np.r_[starts[1:], len(on)]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        block = step[s:e]
        best = block.argmin(axis=0)
        a = int(on[s])
        weight[a] = block[best, np.arange(n_l)]
        mover[a] = order[s + best]
    np.fill_diagonal(weight, _NONE)
    return weight, mover


def _potentials(weight: IntArray, check: Callable[[], None]) -> npt.NDArray[np.float64]:
    """Shortest distances from a virtual source joined to every node at 0 (Bellman-Ford,
    vectorised): pi(b) <= pi(a) + arc(a, b) for every arc, so reduced costs are >= 0. The
    graph of an optimal flow has no negative cycle, so this ends within n rounds."""
    w = np.where(weight == _NONE, np.inf, weight.astype(np.float64))
    pi = np.zeros(len(w))
    changed = np.arange(len(w))
    for _ in range(len(w) + 1):
        check()  # usually a few rounds, but n on a crafted input: n^3 work
        # Only arcs out of nodes whose distance just fell can lower another's.
        nxt = np.minimum(pi, (pi[changed, None] + w[changed]).min(axis=0))
        changed = np.flatnonzero(nxt < pi)
        if not changed.size:
            return pi
        pi = nxt
    raise RuntimeError("internal error: a negative cycle in the residual graph of an optimal allocation")
