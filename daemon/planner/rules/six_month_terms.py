"""6-month terms: what one is, ALLOW_6_MONTH_TERMS, and VIC_PGY2's conditions on them.

A 6-month term is one post held in two consecutive terms that together last 24 to 28 weeks
(``SIX_MONTH_WEEKS``). The SPEC and PMCV say "about 26 weeks", half the 52-week year; the
hospitals' structures put the half-year's edge at a term boundary near week 26 (13+13 in a
four-term year, 12+12 or 14+14 in 12/12/14/14), so a fortnight either side admits them, while
two ordinary terms (8+8 = 16, 10+10 = 20, 10+12 = 22 weeks) stay two terms, the same post not
held twice. Two pairs in the window fill a year, so a line has at most two 6-month terms.

ALLOW_6_MONTH_TERMS relaxes the always-on "a line holds a position at most once" to "at most
once, or twice as one 6-month term"; the model then makes the pairs visible to the term-count
rules. VIC_PGY2 (PMCV) adds, for a line holding a 6-month term:

- it is on a post approved for one (``positions.six_month_approved``: the specialty has two
  subspecialty components, the term is tied to a diploma or certificate, and the vocational
  college requires a six-month placement — facts about the post);
- the line's other terms, outside its 6-month term(s), still cover categories A, B and C;
- it is exempt from the 25% subspecialty cap (``ShareCap.six_month_exempt``), which a
  26-week term in one subspecialty would otherwise always break.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from daemon.planner.rules.base import LineVars, Plan, Read, Rule
from daemon.planner.rules.predicates import has_category, is_six_month_approved

MEANINGS = {
    "ALLOW_6_MONTH_TERMS": "one position in two consecutive terms of 24-28 weeks together (about 26) may be "
    "one 6-month term, counted as one term",
}
SIX_MONTH_WEEKS = (24, 28)  # least and most weeks of two consecutive terms making a 6-month term


def pair_starts(terms: Sequence[int]) -> tuple[int, ...]:
    """The terms t whose weeks with term t+1 make a 6-month term."""
    least, most = SIX_MONTH_WEEKS
    return tuple(t for t in range(len(terms) - 1) if least <= terms[t] + terms[t + 1] <= most)


def most_pairs(terms: Sequence[int]) -> int:
    """The most 6-month terms one line can hold (pairs may not share a term). Taking the
    earliest pair first is optimal: it leaves the most terms for the others."""
    starts, count, t = set(pair_starts(terms)), 0, 0
    while t < len(terms) - 1:
        if t in starts:
            count, t = count + 1, t + 2
        else:
            t += 1
    return count


@dataclass(frozen=True)
class SixMonthTerms(Rule):
    source: str = "ALLOW_6_MONTH_TERMS"
    six_month_terms: bool = True

    def describe(self) -> str:
        return "one position in two consecutive terms of 24-28 weeks together may be one 6-month term"


def allow_six_month_terms() -> list[Rule]:
    return [SixMonthTerms()]


@dataclass(frozen=True)
class SixMonthOnApprovedPosts(Rule):
    """A 6-month term only on a post with ``six_month_approved``."""

    source: str

    def describe(self) -> str:
        return "a 6-month term only on a post approved for one (six_month_approved)"

    def reads(self, problem: Plan) -> list[Read]:
        approved = [p for p in problem.positions if is_six_month_approved(p)]
        fact = f"{len(approved)} of {len(problem.positions)} posts are approved for a 6-month term"
        return [Read("", lambda p: False, "fact", fact)]

    def add(self, line: LineVars) -> None:
        for t, _ in line.six_month_pairs():
            after = {p.id: v for p, v in line.term_cells(t + 1)}
            for p, v in line.term_cells(t):
                if not is_six_month_approved(p) and p.id in after:
                    line.require(v + after[p.id] <= 1)


@dataclass(frozen=True)
class CategoriesOutsideSixMonthTerms(Rule):
    """Each category named is held in a term outside the line's 6-month term(s)."""

    source: str
    categories: tuple[str, ...]

    def describe(self) -> str:
        return f"categories {', '.join(self.categories)} in the terms outside a 6-month term"

    def reads(self, problem: Plan) -> list[Read]:
        return [Read(f"category {c} posts", has_category(c), "needs") for c in self.categories]

    def add(self, line: LineVars) -> None:
        pairs = line.six_month_pairs()
        if not pairs:  # no 6-month term: the template's own coverage of A, B and C says it all
            return
        in_pair: dict[int, list[cp_model.IntVar]] = {}
        for t, v in pairs:
            in_pair.setdefault(t, []).append(v)
            in_pair.setdefault(t + 1, []).append(v)
        for c in self.categories:
            outside: list[cp_model.LinearExprT] = []
            for t in range(line.problem.n_terms):
                held = cp_model.LinearExpr.sum([v for p, v in line.term_cells(t) if c in p.experience_categories])
                if t not in in_pair:
                    outside.append(held)
                    continue
                # Counts only when term t holds c and is in no 6-month term.
                counted = line.model.new_bool_var("")
                line.require(counted <= held)
                line.require(counted + cp_model.LinearExpr.sum(in_pair[t]) <= 1)
                outside.append(counted)
            line.require(cp_model.LinearExpr.sum(outside) >= 1)
