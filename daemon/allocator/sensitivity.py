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
figure here is about the same objective the solver minimised; the chain of moves behind each
path is returned too, and its true (unscaled) cost is summed from the moves themselves.
Potentials from Bellman-Ford make every arc non-negative, so Dijkstra (scipy) can run from
each target once; the distances are only ever used through the integer sums of their moves.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    in true cost, and the moves of the best allocation with the change, in order: worker
    ``workers[i]`` from line ``from_lines[i]`` to ``to_lines[i]``."""

    delta_int: int
    delta: float
    workers: IntArray
    from_lines: IntArray
    to_lines: IntArray


_NO_MOVES = np.zeros(0, dtype=np.int64)
NO_CHANGE = WhatIf(0, 0.0, _NO_MOVES, _NO_MOVES, _NO_MOVES)


class Residual:
    """The line-level residual graph of an optimal allocation ``line_of`` of ``problem``."""

    def __init__(self, problem: Problem, line_of: IntArray) -> None:
        self.problem, self.line_of = problem, line_of
        n_l = problem.n_lines
        parent = parents(problem)
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
        pi = _potentials(weight)
        rows, cols = np.nonzero(weight != _NONE)
        # Reduced costs (integers; rounding in the doubles may leave -tiny where the exact
        # value is 0), plus a hop cost too small to change which path is cheapest (all the
        # hops of a simple path add up to less than one integer unit): of the cheapest
        # chains of moves, the shortest, so the one a person reads.
        hop = 1.0 / (n + 1)
        reduced = np.maximum(weight[rows, cols].astype(np.float64) + pi[rows] - pi[cols], 0.0) + hop
        # Shortest paths run first on the cheapest arcs only: every path no longer than
        # ``_tau`` uses only arcs no longer than it, so a distance found within it is exact,
        # and only a longer one is looked up again on all the arcs. The what-ifs asked for
        # are near the optimum, and the cheapest few arcs per line hold nearly all of them
        # (at 1,500 x 1,500, 1 % of the arcs held every path asked for).
        keep = min(len(reduced), _SPARSE_ARCS_PER_NODE * n)
        self._tau = float(np.partition(reduced, keep - 1)[keep - 1]) if keep else 0.0
        cheap = reduced <= self._tau
        # Trees grow backwards from a path's end (arcs reversed), or forwards from its start.
        self._cheap = {
            True: _csr(cols[cheap], rows[cheap], reduced[cheap], n),
            False: _csr(rows[cheap], cols[cheap], reduced[cheap], n),
        }
        self._arcs = (rows, cols, reduced)
        self._all: dict[bool, csr_matrix] = {}  # every arc, built when first needed
        self._trees: dict[tuple[bool, int], Tree] = {}  # (into, root): (reach, dist, pred)

    def prepare(self, paths: Iterable[tuple[int, int]]) -> None:
        """Grow the trees for many (start, end) paths at once, in rounds of growing reach,
        each only for the ends some path still needs: most paths are short."""
        pairs = np.array(list(paths), dtype=np.int64).reshape(-1, 2)
        starts, ends = pairs[:, 0], pairs[:, 1]
        pending = np.ones(len(pairs), dtype=bool)
        for reach in _ROUNDS * self._tau:
            todo = np.unique(ends[pending])
            if not todo.size:
                return
            dist, pred = dijkstra(self._cheap[True], indices=todo, return_predecessors=True, limit=reach)
            for i, end in enumerate(todo.tolist()):
                self._trees[(True, end)] = (reach, dist[i], pred[i])
            open_ = np.flatnonzero(pending)
            settled = dist[np.searchsorted(todo, ends[open_]), starts[open_]] <= reach
            pending[open_[settled]] = False

    def _tree(self, root: int, *, into: bool, reach: float) -> Tree:
        """The shortest-path tree into (or out of) ``root``: on the cheap arcs, as far as
        ``reach`` (at most ``_tau``), or, ``reach`` infinite, on all the arcs."""
        tree = self._trees.get((into, root))
        if tree is None or tree[0] < reach:
            if reach > self._tau:
                if into not in self._all:
                    rows, cols, reduced = self._arcs
                    n = self.sink + 1
                    self._all[into] = _csr(cols, rows, reduced, n) if into else _csr(rows, cols, reduced, n)
                graph = self._all[into]
            else:
                graph = self._cheap[into]
            dist, pred = dijkstra(graph, indices=root, return_predecessors=True, limit=reach)
            tree = self._trees[(into, root)] = (reach, dist, pred)
        return tree

    def _path(self, start: int, end: int, *, into: bool = True) -> IntArray | None:
        """Nodes of a shortest path start ... end, or None when there is none; from the tree
        into ``end`` or, ``into=False``, out of ``start``."""
        root, leaf = (end, start) if into else (start, end)
        reach, dist, pred = self._tree(root, into=into, reach=0.0)
        if not dist[leaf] <= reach:  # beyond this tree's reach: exact only further out
            reach, dist, pred = self._tree(root, into=into, reach=self._tau)
            if not dist[leaf] <= reach:
                reach, dist, pred = self._tree(root, into=into, reach=np.inf)
        if not np.isfinite(dist[leaf]):
            return None
        nodes = [leaf]
        while nodes[-1] != root:  # pred: the next node towards the root
            nodes.append(int(pred[nodes[-1]]))
        path = np.array(nodes, dtype=np.int64)
        return path if into else path[::-1]

    def _what_if(self, nodes: IntArray, first: tuple[int, int, int] | None = None) -> WhatIf:
        """The moves along a path of nodes (a line-to-line step moves that arc's worker), after
        ``first`` (worker, from, to) if given, and what they cost."""
        a, b = nodes[:-1], nodes[1:]
        step = (a < self.problem.n_lines) & (b < self.problem.n_lines)
        froms, tos = a[step], b[step]
        workers = self.mover[froms, tos]
        if first is not None:
            workers, froms, tos = (np.r_[x, rest] for x, rest in zip(first, (workers, froms, tos), strict=True))
        p = self.problem
        delta_int = int(p.cost_int[workers, tos].sum() - p.cost_int[workers, froms].sum())
        delta = float(p.cost[workers, tos].sum() - p.cost[workers, froms].sum())
        return WhatIf(delta_int, delta, workers, froms, tos)

    def force(self, worker: int, line: int) -> WhatIf | None:
        """The best allocation with ``worker`` on ``line`` (None if there is none)."""
        here = int(self.line_of[worker])
        if here == line:
            return NO_CHANGE
        if not self.problem.eligible[worker, line]:
            return None
        nodes = self._path(line, here)
        return None if nodes is None else self._what_if(nodes, first=(worker, here, line))

    def one_more_seat(self, line: int) -> WhatIf:
        """The best allocation with one more seat on ``line``: no change unless it helps."""
        nodes = self._path(int(self.parent_node[line]), line, into=False)
        if nodes is None:
            return NO_CHANGE
        best = self._what_if(nodes)
        return best if best.delta_int < 0 else NO_CHANGE

    def one_fewer_seat(self, line: int) -> WhatIf | None:
        """The best allocation with one seat fewer on ``line`` (None if there is none)."""
        if self.problem.capacity[line] == 0:
            return None
        if not self.full[line]:
            return NO_CHANGE
        if self.problem.must_fill[line] and self.problem.capacity[line] == 1:
            return None  # a must-have line left without a seat
        nodes = self._path(line, int(self.parent_node[line]))
        return None if nodes is None else self._what_if(nodes)


def _csr(rows: IntArray, cols: IntArray, values: npt.NDArray[np.float64], n: int) -> csr_matrix:
    return csr_matrix((values, (rows, cols)), shape=(n, n))


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


def _potentials(weight: IntArray) -> npt.NDArray[np.float64]:
    """Shortest distances from a virtual source joined to every node at 0 (Bellman-Ford,
    vectorised): pi(b) <= pi(a) + arc(a, b) for every arc, so reduced costs are >= 0. The
    graph of an optimal flow has no negative cycle, so this ends within n rounds."""
    w = np.where(weight == _NONE, np.inf, weight.astype(np.float64))
    pi = np.zeros(len(w))
    changed = np.arange(len(w))
    for _ in range(len(w) + 1):
        # Only arcs out of nodes whose distance just fell can lower another's.
        nxt = np.minimum(pi, (pi[changed, None] + w[changed]).min(axis=0))
        changed = np.flatnonzero(nxt < pi)
        if not changed.size:
            return pi
        pi = nxt
    raise RuntimeError("internal error: a negative cycle in the residual graph of an optimal allocation")
