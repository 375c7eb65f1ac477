"""Objectives, in priority order: lines built (reserved ones first), then required seats
filled, then soft goals: soft pathways' terms first (``pathways``), the reading goals
(``readable``), diversity, affinity.

Two phases (measured on 140 lines x 35 positions, 2 workers): without symmetry breaking
CP-SAT fills all demand in a few seconds, while lexicographic line order from the start found
no solution in 60 s. So phase one (``demand``) has no ordering, and phase two (``soft``) orders
the lines lexicographically (symmetry breaking) starting from phase one's solution.

Diversity is over all pairs of lines (issue 12: comparing each line with its 4 neighbours in
order left 8 of 60 lines' pairs differing in one term only). Here, the mean distance: the
terms two lines share, summed over all pairs, is sum over (term, post) of C(lines there, 2) —
a convex function of the seats' counts, linearised by its secants, no per-pair variable. The
minimum distance is raised after CP-SAT, by ``spread``'s local search: modelled exactly (one
AllDifferent per set of terms on the lines' codes) it left the soft phase no time to improve
anything at 140 lines.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

from ortools.sat.python import cp_model

from daemon.planner import readable
from daemon.planner.model import PlanModel
from daemon.planner.problem import Problem
from daemon.planner.rules.predicates import specialty_key

DIVERSITY_WEIGHT = 10  # per term shared by a pair of lines, over all pairs
AFFINITY_WEIGHT = 1  # per unit of specialty_affinity between consecutive terms of a line
_CODE_LIMIT = 2**60  # lexicographic codes stay far from int64 overflow


def affinity_table(problem: Problem) -> dict[tuple[str, str], int]:
    """(specialty before, specialty after) -> weight; symmetric, the last entry for a pair wins."""
    table: dict[tuple[str, str], int] = {}
    for a, b, w in problem.inp.specialty_affinity:
        ka, kb = specialty_key(a), specialty_key(b)
        table[ka, kb] = table[kb, ka] = w
    return table


def _required_seats(problem: Problem) -> list[int]:
    return [problem.term_seats(t, lambda p: not p.excludable) for t in range(problem.n_terms)]


def fewest_unfilled(problem: Problem, n_lines: int) -> int:
    """Required seats that ``n_lines`` lines leave empty at best: a counting bound."""
    return sum(max(0, r - n_lines) for r in _required_seats(problem))


def unfilled_required(problem: Problem, lines: Sequence[Sequence[int]]) -> int:
    """Required seats of the model's positions that ``lines`` leave empty."""
    filled = sum(1 for held in lines for i in held if not problem.positions[i].excludable)
    return sum(_required_seats(problem)) - filled


def set_demand_objective(plan: PlanModel, n_lines: int) -> int:
    """Minimise missing lines (first), reserved lines missing or not meeting their pathway (a
    pool line then), empty required seats, then the reading goals' extra terms
    (``readable``); returns the ideal value.

    The reading goals are here as well as in the soft phase: measured on 140 VIC_PGY1 lines,
    the soft phase's search from the demand phase's lines kept 10 lines with two rural terms in
    10 s, while the demand phase, unordered, avoids them as it fills the seats."""
    problem = plan.problem
    excess = readable.add_excess(plan) if readable.capped(problem) else cp_model.LinearExpr.constant(0)
    per_seat = _most_excess(problem, n_lines) + 1  # one required seat outweighs every extra term
    per_reserved = per_seat * (sum(_required_seats(problem)) + 1)  # one more reserved line met outweighs every seat
    n_reserved = sum(plan.reserved)
    per_line = per_reserved * (n_reserved + 1)  # one more line outweighs both
    plan.model.minimize(
        per_line * (n_lines - plan.n_built)
        + per_reserved * (n_reserved - plan.n_reserved_met)
        + per_seat * plan.unfilled_required
        + excess
    )
    return per_seat * fewest_unfilled(problem, n_lines)


def _codes(plan: PlanModel) -> list[cp_model.LinearExprT]:
    """Each line's positions as one number, digits in term order (a prefix if too long)."""
    base = max(2, len(plan.problem.positions))
    digits = 1
    while digits < plan.problem.n_terms and base ** (digits + 1) < _CODE_LIMIT:
        digits += 1
    return [
        cp_model.LinearExpr.weighted_sum(
            list(line.cells.values()),
            [i * base ** (digits - 1 - t) if t < digits else 0 for t, i in line.cells],
        )
        for line in plan.lines
    ]


def _shared_pairs(plan: PlanModel) -> cp_model.LinearExpr:
    """Terms shared, summed over all pairs of lines: C(c, 2) per seat group of c lines, each
    bounded below by its secants k * c - k * (k + 1) / 2 (exact at the optimum: minimised)."""
    model, problem = plan.model, plan.problem
    pairs = []
    for (t, i), _ in plan.lines[0].cells.items() if plan.lines else ():
        seats = problem.seats[i][t]
        if seats < 2:
            continue
        count = cp_model.LinearExpr.sum([line.cells[t, i] for line in plan.lines])
        q = model.new_int_var(0, math.comb(seats, 2), "")
        for k in range(1, seats):
            model.add(q >= k * count - k * (k + 1) // 2)
        pairs.append(q)
    return cp_model.LinearExpr.sum(pairs)


def shared_pairs(lines: Sequence[Sequence[int]]) -> int:
    """Terms shared, summed over all pairs of ``lines``."""
    counts = Counter((t, i) for held in lines for t, i in enumerate(held))
    return sum(math.comb(c, 2) for c in counts.values())


def least_shared_pairs(problem: Problem, n_lines: int) -> int:
    """A counting lower bound on ``shared_pairs``: each term's lines spread as evenly as its
    seats allow (water-filling: each line joins the emptiest post with a seat left)."""
    total = 0
    for t in range(problem.n_terms):
        counts = [0] * len(problem.positions)
        for _ in range(n_lines):
            open_ = [i for i, seats in enumerate(problem.seats) if counts[i] < seats[t]]
            if not open_:
                break
            counts[min(open_, key=lambda i: counts[i])] += 1
        total += sum(math.comb(c, 2) for c in counts)
    return total


def _affinity(plan: PlanModel) -> cp_model.LinearExpr:
    """Affinity of consecutive terms over all lines."""
    table = affinity_table(plan.problem)
    if not table:
        return cp_model.LinearExpr.constant(0)
    model, problem = plan.model, plan.problem
    keys = [specialty_key(p.parent_specialty) for p in problem.positions]
    terms: list[cp_model.LinearExprT] = []
    for line in plan.lines:
        held: dict[tuple[int, str], list[cp_model.IntVar]] = {}
        for (t, i), v in line.cells.items():
            held.setdefault((t, keys[i]), []).append(v)
        for t in range(problem.n_terms - 1):
            for (a, b), w in sorted(table.items()):
                before, after = held.get((t, a), []), held.get((t + 1, b), [])
                if not before or not after or w == 0:
                    continue
                z = model.new_bool_var("")
                if w > 0:  # rewarded: z may be 1 only when the pair is there
                    model.add(z <= cp_model.LinearExpr.sum(before))
                    model.add(z <= cp_model.LinearExpr.sum(after))
                else:  # penalised: z must be 1 when the pair is there
                    model.add(z >= cp_model.LinearExpr.sum(before + after) - 1)
                terms.append(w * z)
    return cp_model.LinearExpr.sum(terms)


def _diversity_span(problem: Problem, n_lines: int) -> int:
    """More than the diversity and affinity goals can differ by, together."""
    return (
        DIVERSITY_WEIGHT * problem.n_terms * math.comb(n_lines, 2)
        + AFFINITY_WEIGHT * _affinity_bound(problem, n_lines)
        + 1
    )


def reading_weight(problem: Problem, n_lines: int) -> int:
    """One term beyond a line's reading limits (``readable``) outweighs every diversity and
    affinity goal; 0 when no line can break them or the run turns them off."""
    return _diversity_span(problem, n_lines) if readable.capped(problem) else 0


def _most_excess(problem: Problem, n_lines: int) -> int:
    return 2 * problem.n_terms * n_lines  # rural and specialty terms beyond their limits, at most


def soft_score(problem: Problem, lines: Sequence[Sequence[int]]) -> int:
    """The soft goals' part of the objective for ``lines`` (lower is better): what
    ``set_soft_objective`` minimises once the required seats are settled."""
    table = affinity_table(problem)
    keys = [specialty_key(p.parent_specialty) for p in problem.positions]
    affinity = sum(table.get((keys[a], keys[b]), 0) for held in lines for a, b in itertools.pairwise(held))
    return (
        reading_weight(problem, len(lines)) * sum(readable.excess(problem, lines))
        + DIVERSITY_WEIGHT * shared_pairs(lines)
        - AFFINITY_WEIGHT * affinity
    )


def _affinity_bound(problem: Problem, n_lines: int) -> int:
    table = affinity_table(problem)
    return max((abs(w) for w in table.values()), default=0) * (problem.n_terms - 1) * n_lines


def soft_score_bound(problem: Problem, n_lines: int) -> int:
    """A counting lower bound on ``soft_score``: each term's lines spread evenly over its
    posts, every affinity rewarded on every pair of terms."""
    return DIVERSITY_WEIGHT * least_shared_pairs(problem, n_lines) - AFFINITY_WEIGHT * _affinity_bound(problem, n_lines)


def set_soft_objective(plan: PlanModel, unfilled_at_most: int) -> int:
    """Lexicographic line order (within each pathway's lines and the pool's), then: required
    seats (no worse than ``unfilled_at_most``, the demand phase's), soft pathways' missing
    terms, the lines' reading goals (``readable``), then the mean distance with affinity.
    Every line of ``plan`` is built.

    Returns a counting lower bound on the objective."""
    model, problem, n = plan.model, plan.problem, len(plan.lines)
    codes = _codes(plan)
    for (a, line_a), (b, line_b) in itertools.pairwise(zip(codes, plan.lines, strict=True)):
        if line_a.pathway is line_b.pathway:
            model.add(a <= b)
    # Redundant bounds, so CP-SAT's reported bound and gap mean something.
    model.add(plan.unfilled_required <= unfilled_at_most)
    model.add(plan.unfilled_required >= fewest_unfilled(problem, n))
    shared = _shared_pairs(plan)
    model.add(shared >= least_shared_pairs(problem, n))
    affinity = _affinity(plan)
    reading = reading_weight(problem, n)
    excess = readable.add_excess(plan) if reading else cp_model.LinearExpr.constant(0)
    # reading_weight exceeds the goals below it, so this exceeds the reading, diversity and
    # affinity goals together.
    below = reading * _most_excess(problem, n) + _diversity_span(problem, n)
    pathway_weight = below + 1  # one term a soft pathway's line misses outweighs them all
    most_short = sum(ln.pathway.min_terms for ln in plan.lines if ln.pathway is not None and ln.pathway.mode == "soft")
    fill_weight = pathway_weight * (most_short + 1)  # one required seat outweighs every soft goal
    model.minimize(
        fill_weight * plan.unfilled_required
        + pathway_weight * plan.pathway_shortfall
        + reading * excess
        + DIVERSITY_WEIGHT * shared
        - AFFINITY_WEIGHT * affinity
    )
    return fill_weight * fewest_unfilled(problem, n) + soft_score_bound(problem, n)
