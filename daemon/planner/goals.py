"""Objectives, in priority order: lines built, then required seats filled, then soft goals.

Two phases (measured on 140 lines x 35 positions, 2 workers): without symmetry breaking
CP-SAT fills all demand in a few seconds, while lexicographic line order from the start found
no solution in 60 s. So phase one (``demand``) has no ordering, and phase two (``soft``) orders
the lines lexicographically — which makes "neighbouring lines differ" a cheap, exact proxy for
diversity (identical lines become adjacent) — starting from phase one's solution.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from daemon.planner.model import PlanModel
from daemon.planner.problem import Problem
from daemon.planner.rules.kinds import specialty_key

DIVERSITY_WEIGHT = 10  # per term two neighbouring lines share; identical lines pay double
AFFINITY_WEIGHT = 1  # per unit of specialty_affinity between consecutive terms of a line
_CODE_LIMIT = 2**60  # lexicographic codes stay far from int64 overflow


def affinity_table(problem: Problem) -> dict[tuple[str, str], int]:
    """(specialty before, specialty after) -> weight; symmetric, the last entry for a pair wins."""
    table: dict[tuple[str, str], int] = {}
    for a, b, w in problem.inp.specialty_affinity:
        ka, kb = specialty_key(a), specialty_key(b)
        table[ka, kb] = table[kb, ka] = w
    return table


def set_demand_objective(plan: PlanModel, n_lines: int) -> int:
    """Minimise missing lines (first) and empty required seats; returns the ideal value."""
    problem = plan.problem
    required = [problem.term_seats(t, lambda p: not p.excludable) for t in range(problem.n_terms)]
    per_line = sum(required) + 1  # one more line outweighs every seat
    plan.model.minimize(per_line * (n_lines - plan.n_built) + plan.unfilled_required)
    return sum(max(0, r - n_lines) for r in required)


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
    plan.model.add(pos == cp_model.LinearExpr.weighted_sum(
        [v for (u, _), v in line.cells.items() if u == t],
        [i for (u, i) in line.cells if u == t]))
    return pos


def _shared_terms(plan: PlanModel) -> cp_model.LinearExprT:
    """Terms each line shares with the next, identical neighbours counted twice."""
    model, n_terms = plan.model, plan.problem.n_terms
    pos = [[_position_of(plan, ln, t) for t in range(n_terms)] for ln in range(len(plan.lines))]
    penalties = []
    for ln in range(len(plan.lines) - 1):
        same = []
        for t in range(n_terms):
            eq = model.new_bool_var("")
            model.add(pos[ln][t] != pos[ln + 1][t]).only_enforce_if(~eq)
            same.append(eq)
        identical = model.new_bool_var("")
        model.add(identical >= cp_model.LinearExpr.sum(same) - (n_terms - 1))
        penalties += [*same, *([identical] * n_terms)]
    return cp_model.LinearExpr.sum(penalties)


def _affinity(plan: PlanModel) -> tuple[cp_model.LinearExprT, int]:
    """Affinity of consecutive terms over all lines, and its largest possible magnitude."""
    table = affinity_table(plan.problem)
    if not table:
        return 0, 0
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


def set_soft_objective(plan: PlanModel) -> None:
    """Lexicographic line order, then: required seats, diversity, affinity (all built lines)."""
    codes = _codes(plan)
    for a, b in zip(codes, codes[1:], strict=False):
        plan.model.add(a <= b)
    shared = _shared_terms(plan)
    affinity, affinity_bound = _affinity(plan)
    n_terms = plan.problem.n_terms
    soft_bound = DIVERSITY_WEIGHT * 2 * n_terms * len(plan.lines) + AFFINITY_WEIGHT * affinity_bound
    plan.model.minimize((soft_bound + 1) * plan.unfilled_required
                        + DIVERSITY_WEIGHT * shared - AFFINITY_WEIGHT * affinity)
