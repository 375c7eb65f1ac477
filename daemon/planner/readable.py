"""Soft goals that make each line read well (issue 12), on unless the run names ``OFF``:

- at most one rural term per line;
- no parent specialty three times on a line.

Soft, not rules: capacity may need a line to break them (a district whose seats are mostly
rural fills its required seats first), so each extra term costs a weight in the soft phase's
objective, below required seats and above diversity and affinity (``goals``). Under
``MAX_ONE_RURAL`` the rural cap is a rule as well, and costs nothing here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ortools.sat.python import cp_model

from daemon.planner.model import PlanModel
from daemon.planner.problem import Problem
from daemon.planner.rules.predicates import Predicate, is_rural, specialty_key

OFF = "NO_READING_GOALS"  # a constraints name: the run opts out of both goals
RURAL_AT_MOST = 1
SPECIALTY_AT_MOST = 2


def enabled(problem: Problem) -> bool:
    return OFF not in problem.rule_names


def _keys(problem: Problem) -> list[str]:
    return [specialty_key(p.parent_specialty) for p in problem.positions]


def excess(problem: Problem, lines: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(rural terms beyond one, terms of a parent specialty beyond two), over all lines."""
    keys, positions = _keys(problem), problem.positions
    rural = sum(max(0, sum(positions[i].is_rural for i in held) - RURAL_AT_MOST) for held in lines)
    repeats = sum(
        max(0, n - SPECIALTY_AT_MOST)
        for held in lines
        for key, n in Counter(keys[i] for i in held).items()
        if key  # a post with no specialty recorded counts for none
    )
    return rural, repeats


def _at_most(plan: PlanModel, held: cp_model.LinearExpr, limit: int) -> cp_model.IntVar:
    """Terms of ``held`` beyond ``limit``: minimised, so exact at the optimum."""
    extra = plan.model.new_int_var(0, plan.problem.n_terms, "")
    plan.model.add(extra >= held - limit)
    return extra


def _most_held(problem: Problem, where: Predicate) -> int:
    """The most terms of a kind a line can hold: terms it is open in, and (a post once per
    line, bar 6-month terms) the posts of the kind."""
    terms = sum(1 for t in range(problem.n_terms) if problem.term_seats(t, where) > 0)
    return terms if problem.six_month_starts else min(terms, sum(1 for p in problem.positions if where(p)))


def _of_specialty(key: str) -> Predicate:
    return lambda p: specialty_key(p.parent_specialty) == key


def capped(problem: Problem) -> list[tuple[Predicate, int]]:
    """(kind, limit) for each kind a line could hold beyond its limit; none when the run
    turns the goals off."""
    if not enabled(problem):
        return []
    kinds: list[tuple[Predicate, int]] = [(is_rural, RURAL_AT_MOST)]
    kinds += [(_of_specialty(k), SPECIALTY_AT_MOST) for k in sorted(set(_keys(problem)) - {""})]
    return [(where, limit) for where, limit in kinds if _most_held(problem, where) > limit]


def add_excess(plan: PlanModel) -> cp_model.LinearExpr:
    """The extra terms of every line, as ``excess`` counts them (both kinds summed)."""
    kinds = capped(plan.problem)
    return cp_model.LinearExpr.sum(
        [_at_most(plan, line.slots(where), limit) for line in plan.lines for where, limit in kinds]
    )
