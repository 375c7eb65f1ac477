"""Lines apart (issue 12): a deterministic local search after CP-SAT that raises the fewest
terms in which two lines differ (over all pairs) and, at that distance, reduces the pairs.

Why not in CP-SAT: the exact model (one AllDifferent per set of terms on the lines' codes)
adds 34,000 variables at 140 lines, and with it the soft phase found nothing better than
its starting lines in the time a run has (measured: VIC_PGY1 140 lines, NSW_PGY2 122 lines,
2 workers; the minimum distance came out worse than the 4-neighbour proxy it replaced). The
soft phase keeps the cheap aggregate goal (terms shared over all pairs), and this pass works
on what it returns.

Moves, each kept only if it makes the lines strictly better in this order: required seats
left empty, the reading goals' extra terms (``readable``), minus the minimum distance, the
pairs at the minimum, then the soft phase's own score (terms shared over all pairs, minus
affinity). Three moves: two lines swap their posts in one term (every seat count unchanged),
a line takes another post with a free seat in the same term, or a line exchanges its posts of
two terms where both have a free seat. Each changed line is checked
against the run's rules by the independent checker (``checks.planner.check_held``), and seats
are counted here, so no move makes a line non-compliant. The search is bounded by counts of
moves and candidates, not by the clock: given CP-SAT's lines the result is always the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from daemon.checks.planner import check_held, pathway_shortfall, requirements
from daemon.planner import readable
from daemon.planner.data import Pathway, Position
from daemon.planner.goals import AFFINITY_WEIGHT, DIVERSITY_WEIGHT, affinity_table
from daemon.planner.problem import Problem
from daemon.planner.rules.predicates import specialty_key

MOVES_PER_LINE = 4  # moves kept, at most, per line
# Moves tried, at most, per line: 140 VIC_PGY1 lines from distance 1 to 4 took 12,600 (1.7 s
# on 2 loaded cores); NSW_PGY2's 122 lines, 900.
CANDIDATES_PER_LINE = 200
SECONDS_PER_CANDIDATE = 150e-6  # measured about 130 us on a loaded machine; for the time kept back

Score = tuple[int, int, int, int, int]
_NOT_A_PAIR = 1 << 20  # a line's distance to itself, out of every minimum


@dataclass(frozen=True)
class Spread:
    lines: list[tuple[int, ...]]
    moves: int
    candidates: int
    before: tuple[int | None, int]  # (minimum distance, pairs at it)
    after: tuple[int | None, int]

    def as_metadata(self) -> dict[str, object]:
        return {
            "moves": self.moves,
            "candidates_tried": self.candidates,
            "min_distance_before": self.before[0],
            "pairs_at_min_before": self.before[1],
            "min_distance_after": self.after[0],
            "pairs_at_min_after": self.after[1],
        }


class _Lines:
    """The lines with what the score needs, kept up to date move by move."""

    def __init__(self, problem: Problem, lines: Sequence[Sequence[int]]) -> None:
        self.problem = problem
        self.grid = np.asarray(lines, dtype=np.int64).reshape(len(lines), problem.n_terms)
        n, n_terms = len(lines), problem.n_terms
        self.dist = (self.grid[:, None, :] != self.grid[None, :, :]).sum(axis=2)
        self.hist = np.bincount(self.dist[np.triu_indices(n, k=1)], minlength=n_terms + 1)
        np.fill_diagonal(self.dist, _NOT_A_PAIR)
        self.count = np.zeros((n_terms, len(problem.positions)), dtype=np.int64)
        for t in range(n_terms):
            np.add.at(self.count[t], self.grid[:, t], 1)
        self.seats = np.asarray(problem.seats, dtype=np.int64).T  # [t, i]
        self.required = np.array([not p.excludable for p in problem.positions], dtype=np.int64)
        self.rural = np.array([p.is_rural for p in problem.positions], dtype=np.int64)
        keys = [specialty_key(p.parent_specialty) for p in problem.positions]
        # The reading goals' kinds, as readable.capped has them (none when the run turns them off).
        names = sorted(set(keys) - {""})
        self.specialty = np.array([names.index(k) if k else len(names) for k in keys], dtype=np.int64)
        self.n_specialties = len(names)
        self.reading = readable.enabled(problem)
        table = affinity_table(problem)
        self.affinity = np.array([[table.get((a, b), 0) for b in keys] for a in keys], dtype=np.int64)

    def excess(self, row: np.ndarray) -> int:
        """``readable.excess`` of one line (0 when the run turns the goals off)."""
        if not self.reading:
            return 0
        per_specialty = np.bincount(self.specialty[row], minlength=self.n_specialties + 1)[: self.n_specialties]
        rural = int(self.rural[row].sum()) - readable.RURAL_AT_MOST
        return max(0, rural) + int(np.maximum(0, per_specialty - readable.SPECIALTY_AT_MOST).sum())

    def soft(self, row: np.ndarray) -> int:
        """The line's affinity, negated and weighted as the soft phase counts it."""
        return -AFFINITY_WEIGHT * int(self.affinity[row[:-1], row[1:]].sum())

    def shared(self) -> int:
        """Terms shared, summed over all pairs of lines."""
        return int((self.count * (self.count - 1) // 2).sum())

    def closest(self) -> tuple[int, int]:
        d = int(np.flatnonzero(self.hist)[0])
        return d, int(self.hist[d])

    def score(self, move: dict[int, np.ndarray]) -> Score:
        """The score after ``move`` relative to now (0 for the figures it leaves alone):
        (required seats left empty, extra reading terms, -minimum distance, pairs at it, the
        soft phase's score)."""
        changed = sorted(move)
        rows = np.stack([move[ln] for ln in changed])
        old = self.grid[changed]
        unfilled = shared = soft = excess = 0
        count = self.count.copy()
        for before, after in zip(old, rows, strict=True):
            for t in np.flatnonzero(before != after):
                i, j = before[t], after[t]
                shared += count[t, j] - (count[t, i] - 1)
                unfilled += self.required[i] - self.required[j]
                count[t, i] -= 1
                count[t, j] += 1
            excess += self.excess(after) - self.excess(before)
            soft += self.soft(after) - self.soft(before)
        others = np.ones(len(self.grid), dtype=bool)
        others[changed] = False
        new = (self.grid[others][None, :, :] != rows[:, None, :]).sum(axis=2)
        hist = self.hist - np.bincount(self.dist[changed][:, others].ravel(), minlength=len(self.hist))
        hist = hist + np.bincount(new.ravel(), minlength=len(self.hist))
        for x, y in itertools.combinations(range(len(changed)), 2):
            hist[self.dist[changed[x], changed[y]]] -= 1
            hist[int((rows[x] != rows[y]).sum())] += 1
        d = int(np.flatnonzero(hist)[0])
        return (unfilled, excess, -d, int(hist[d]), DIVERSITY_WEIGHT * shared + soft)

    def apply(self, move: dict[int, np.ndarray]) -> None:
        changed = sorted(move)
        others = np.ones(len(self.grid), dtype=bool)
        others[changed] = False
        for a, b in itertools.combinations(changed, 2):
            self.hist[self.dist[a, b]] -= 1
        for ln in changed:
            self.hist -= np.bincount(self.dist[ln, others], minlength=len(self.hist))
            for t in range(self.problem.n_terms):
                self.count[t, self.grid[ln, t]] -= 1
                self.count[t, move[ln][t]] += 1
            self.grid[ln] = move[ln]
        for ln in changed:
            row = (self.grid != self.grid[ln]).sum(axis=1)
            row[ln] = _NOT_A_PAIR
            self.dist[ln, :] = row
            self.dist[:, ln] = row
            self.hist += np.bincount(row[others], minlength=len(self.hist))
        for a, b in itertools.combinations(changed, 2):
            self.hist[self.dist[a, b]] += 1


def _candidates(state: _Lines, a: int, d: int) -> list[dict[int, np.ndarray]]:
    """Moves of line ``a`` in the terms it shares with a line at distance ``d`` (elsewhere
    a move cannot part them): a swap with each other line, each post with a free seat, then
    the line's own post of another term where seats allow (a post is held once a line)."""
    grid, seats, count = state.grid, state.seats, state.count
    partners = np.flatnonzero(state.dist[a] == d)
    terms = np.flatnonzero((grid[partners] == grid[a]).any(axis=0))
    moves: list[dict[int, np.ndarray]] = []
    for t in terms:
        for b in np.flatnonzero(grid[:, t] != grid[a, t]):
            row_a, row_b = grid[a].copy(), grid[b].copy()
            row_a[t], row_b[t] = grid[b, t], grid[a, t]
            moves.append({a: row_a, int(b): row_b})
        for i in np.flatnonzero(count[t] < seats[t]):
            if i != grid[a, t]:
                row = grid[a].copy()
                row[t] = i
                moves.append({a: row})
        for u in range(len(grid[a])):
            p, q = grid[a, t], grid[a, u]
            if u != t and count[t, q] < seats[t, q] and count[u, p] < seats[u, p]:
                row = grid[a].copy()
                row[t], row[u] = q, p
                moves.append({a: row})
    return moves


def estimated_seconds(n_lines: int) -> float:
    """The most this pass takes, about: ``solve`` keeps it back from CP-SAT's time."""
    return CANDIDATES_PER_LINE * n_lines * SECONDS_PER_CANDIDATE if n_lines > 1 else 0.0


def keeps_pathway(pathway: Pathway | None, before: Sequence[Position], after: Sequence[Position]) -> bool:
    """A reserved line may change only if it falls no further short of its pathway: an exact
    pathway's line stays met, a soft one's misses no more terms than CP-SAT left it."""
    return pathway is None or pathway_shortfall(pathway, after) <= pathway_shortfall(pathway, before)


def spread(problem: Problem, lines: Sequence[Sequence[int]], pathway_of: Sequence[Pathway | None] = ()) -> Spread:
    """``lines`` (position index per term) moved apart as far as the moves above allow;
    ``pathway_of``: the pathway of each line (None or missing: the general pool)."""
    if len(lines) < 2:
        return Spread([tuple(held) for held in lines], 0, 0, (None, 0), (None, 0))
    state = _Lines(problem, lines)
    req, _ = requirements(problem.inp)
    positions = problem.positions
    before = state.closest()
    moves = tried = 0
    max_moves, max_tried = MOVES_PER_LINE * len(lines), CANDIDATES_PER_LINE * len(lines)
    while moves < max_moves and tried < max_tried:
        d, at = state.closest()
        if d == problem.n_terms - 1 and at == state.shared():
            break  # every pair shares a term at most: only fewer shared terms (CP-SAT's goal) beat this
        now: Score = (0, 0, -d, at, 0)
        found = None
        for a in np.flatnonzero((state.dist == d).any(axis=1)):
            for move in _candidates(state, int(a), d):
                tried += 1
                if tried > max_tried:
                    break
                if state.score(move) < now and all(
                    not check_held(req, problem.inp, [positions[i] for i in row])
                    and keeps_pathway(
                        pathway_of[ln] if ln < len(pathway_of) else None,
                        [positions[i] for i in state.grid[ln]],
                        [positions[i] for i in row],
                    )
                    for ln, row in move.items()
                ):
                    found = move
                    break
            if found is not None or tried > max_tried:
                break
        if found is None:
            break
        state.apply(found)
        moves += 1
    return Spread([tuple(int(i) for i in row) for row in state.grid], moves, tried, before, state.closest())
