"""Objectives, in priority order: lines built (reserved ones first), then required seats
filled, then soft goals: soft pathways' terms first (``pathways``), diversity, affinity.

Two phases (measured on 140 lines x 35 positions, 2 workers): without symmetry breaking
CP-SAT fills all demand in a few seconds, while lexicographic line order from the start found
no solution in 60 s. So phase one (``demand``) has no ordering, and phase two (``soft``) orders
the lines lexicographically — which makes "nearby lines differ" a cheap proxy for diversity
(identical lines become adjacent, similar ones close) — starting from phase one's solution.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ortools.sat.python import cp_model

from daemon.planner import pathways
from daemon.planner.model import PlanModel
from daemon.planner.problem import Problem
from daemon.planner.rules.kinds import specialty_key

DIVERSITY_WEIGHT = 10  # per term two nearby lines share; identical lines pay double
DIVERSITY_WINDOW = 4  # lines compared with the next 4 in lexicographic order
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
    """Minimise missing lines (first), missing reserved lines and empty required seats;
    returns the ideal value."""
    per_reserved = sum(_required_seats(plan.problem)) + 1  # one more reserved line outweighs every seat
    n_reserved = sum(plan.reserved)
    per_line = per_reserved * (n_reserved + 1)  # one more line outweighs both
    plan.model.minimize(
        per_line * (n_lines - plan.n_built)
        + per_reserved * (n_reserved - plan.n_reserved_built)
        + plan.unfilled_required
    )
    return fewest_unfilled(plan.problem, n_lines)


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


def _position_of(plan: PlanModel, line_index: int, t: int) -> cp_model.IntVar:
    line = plan.lines[line_index]
    pos = plan.model.new_int_var(0, len(plan.problem.positions) - 1, "")
    plan.model.add(
        pos
        == cp_model.LinearExpr.weighted_sum(
            [v for (u, _), v in line.cells.items() if u == t], [i for (u, i) in line.cells if u == t]
        )
    )
    return pos


def nearby_pairs(n_lines: int) -> list[tuple[int, int]]:
    """Pairs of lines compared for diversity: each with the next DIVERSITY_WINDOW in order.

    In lexicographic order identical lines are neighbours and near-identical ones are close;
    a window keeps the comparisons linear in the number of lines (all pairs when few).
    """
    return [(a, b) for a in range(n_lines) for b in range(a + 1, min(n_lines, a + 1 + DIVERSITY_WINDOW))]


def _shared_terms(plan: PlanModel) -> cp_model.LinearExpr:
    """Terms shared by nearby lines, identical lines counted twice."""
    model, n_terms = plan.model, plan.problem.n_terms
    pos = [[_position_of(plan, ln, t) for t in range(n_terms)] for ln in range(len(plan.lines))]
    penalties = []
    for a, b in nearby_pairs(len(plan.lines)):
        same = []
        for t in range(n_terms):
            eq = model.new_bool_var("")
            model.add(pos[a][t] != pos[b][t]).only_enforce_if(~eq)
            same.append(eq)
        identical = model.new_bool_var("")
        model.add(identical >= cp_model.LinearExpr.sum(same) - (n_terms - 1))
        penalties += [*same, *([identical] * n_terms)]
    return cp_model.LinearExpr.sum(penalties)


def _affinity(plan: PlanModel) -> tuple[cp_model.LinearExpr, int]:
    """Affinity of consecutive terms over all lines, and its largest possible magnitude."""
    table = affinity_table(plan.problem)
    if not table:
        return cp_model.LinearExpr.constant(0), 0
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
    bound = max(abs(w) for w in table.values()) * (problem.n_terms - 1) * len(plan.lines)
    return cp_model.LinearExpr.sum(terms), bound


def soft_score(problem: Problem, lines: Sequence[Sequence[int]], reserved: Sequence[int]) -> int:
    """Diversity and affinity for ``lines`` in the model's order (``reserved``: lines per
    pathway, each pathway's and then the pool's in lexicographic order; lower is better): what
    ``set_soft_objective`` minimises once required seats and soft pathways are settled."""
    ordered = pathways.ordered([tuple(held) for held in lines], reserved)
    shared = 0
    for a, b in nearby_pairs(len(ordered)):
        same = sum(x == y for x, y in zip(ordered[a], ordered[b], strict=True))
        shared += same + (problem.n_terms if same == problem.n_terms else 0)
    table = affinity_table(problem)
    keys = [specialty_key(p.parent_specialty) for p in problem.positions]
    affinity = sum(table.get((keys[a], keys[b]), 0) for held in ordered for a, b in itertools.pairwise(held))
    return DIVERSITY_WEIGHT * shared - AFFINITY_WEIGHT * affinity


def _groups(n_lines: int, reserved: Sequence[int]) -> list[int]:
    """Sizes of the runs of lines kept in lexicographic order: each pathway's, the pool's."""
    return [*reserved, n_lines - sum(reserved)]


def _least_shared(problem: Problem, n_lines: int, reserved: Sequence[int]) -> int:
    """Lines that start in one position are neighbours in lexicographic order: each line
    beyond the number of first-term positions shares its first term with a neighbour (counted
    per run of lines in order: a pathway's lines are ordered apart from the pool's)."""
    starts = sum(1 for seats in problem.seats if seats[0] > 0)
    return sum(max(0, g - starts) for g in _groups(n_lines, reserved))


def _affinity_bound(problem: Problem, n_lines: int) -> int:
    table = affinity_table(problem)
    return max((abs(w) for w in table.values()), default=0) * (problem.n_terms - 1) * n_lines


def soft_score_bound(problem: Problem, n_lines: int, reserved: Sequence[int]) -> int:
    """A counting lower bound on ``soft_score``: every affinity rewarded on every pair of
    terms, the fewest shared terms. Far below what plans reach: a distance to it is no gap."""
    shared = _least_shared(problem, n_lines, reserved)
    return DIVERSITY_WEIGHT * shared - AFFINITY_WEIGHT * _affinity_bound(problem, n_lines)


def set_soft_objective(plan: PlanModel, unfilled_at_most: int) -> int:
    """Lexicographic line order (within each pathway's lines and the pool's), then: required
    seats (no worse than ``unfilled_at_most``, the demand phase's), soft pathways' missing
    terms, diversity, affinity. Every line of ``plan`` is built.

    Returns a counting lower bound on the objective."""
    model, problem, n = plan.model, plan.problem, len(plan.lines)
    codes = _codes(plan)
    for (a, line_a), (b, line_b) in itertools.pairwise(zip(codes, plan.lines, strict=True)):
        if line_a.pathway is line_b.pathway:
            model.add(a <= b)
    # Redundant bounds, so CP-SAT's reported bound and gap mean something: lines cannot
    # beat the counting bound, and in order, lines that start in one position are neighbours
    # (neighbours are among the nearby pairs compared).
    model.add(plan.unfilled_required <= unfilled_at_most)
    model.add(plan.unfilled_required >= fewest_unfilled(problem, n))
    shared = _shared_terms(plan)
    model.add(shared >= _least_shared(problem, n, plan.reserved))
    affinity, affinity_bound = _affinity(plan)
    most_shared = 2 * problem.n_terms * len(nearby_pairs(n))
    soft_bound = DIVERSITY_WEIGHT * most_shared + AFFINITY_WEIGHT * affinity_bound
    pathway_weight = soft_bound + 1  # one term a soft pathway's line misses outweighs diversity and affinity
    most_short = sum(ln.pathway.min_terms for ln in plan.lines if ln.pathway is not None and ln.pathway.mode == "soft")
    fill_weight = pathway_weight * (most_short + 1)  # one required seat outweighs every soft goal
    model.minimize(
        fill_weight * plan.unfilled_required
        + pathway_weight * plan.pathway_shortfall
        + DIVERSITY_WEIGHT * shared
        - AFFINITY_WEIGHT * affinity
    )
    return fill_weight * fewest_unfilled(problem, n) + soft_score_bound(problem, n, plan.reserved)
