"""Rules on the shape of the year: term structure, term counts, clinical weeks.

Most are checks of the run's parameters. With ALLOW_6_MONTH_TERMS a 6-month term (one position
in two consecutive terms of 24-28 weeks together, ``six_month_terms``) counts as one term, so
the counts become constraints on those pairs. A 6-month term is always one long term: merging
never adds a term of 10 weeks or more, so only the exact count can need one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from daemon.planner.rules.base import LineVars, Plan, Read, Rule, Shortfall
from daemon.planner.rules.six_month_terms import most_pairs

NO_PAIRS = "no position has seats in two consecutive terms that make a 6-month term"


def _weeks(terms: Sequence[int]) -> str:
    return "/".join(map(str, terms))


def consecutive_seats(problem: Plan) -> int:
    """Seats a 6-month term could use: per position, seats in both terms t and t+1 of a pair."""
    return sum(min(s[t], s[t + 1]) for s in problem.seats for t in problem.six_month_starts)


def pairs_read(problem: Plan) -> list[Read]:
    """The data a term count under ALLOW_6_MONTH_TERMS depends on: consecutive seats."""
    supply = consecutive_seats(problem)
    fact = NO_PAIRS if supply == 0 else f"{supply} seats are held over two consecutive terms in one position"
    return [Read("", lambda p: False, "fact", fact)]


def _pairs_shortfall(problem: Plan, source: str, what: str, per_line: int) -> list[Shortfall]:
    """Each line needs ``per_line`` 6-month terms, each taking one of the consecutive seats."""
    if per_line <= 0:
        return []
    supply = consecutive_seats(problem)
    data = NO_PAIRS if supply == 0 else f"positions offer only {supply} seats held over two consecutive terms"
    return [
        Shortfall(
            supply // per_line,
            f"{source} {what}: every line needs {per_line} 6-month term(s) (one position in two "
            f"consecutive terms, ALLOW_6_MONTH_TERMS), but {data}",
        )
    ]


@dataclass(frozen=True)
class TermStructureIs(Rule):
    source: str
    terms: tuple[int, ...]

    def describe(self) -> str:
        return f"the term structure {_weeks(self.terms)}"

    def check_input(self, problem: Plan) -> list[str]:
        if problem.terms == self.terms:
            return []
        return [f"{self.source} needs the term structure {_weeks(self.terms)}; the run has {_weeks(problem.terms)}"]


@dataclass(frozen=True)
class MinLongTerms(Rule):
    """At least ``count`` terms of at least ``min_weeks`` weeks (a 6-month term is one, so
    holding one may only lower the count: 13+13 weeks are one long term, not two)."""

    source: str
    count: int
    min_weeks: int = 10

    def describe(self) -> str:
        return f"at least {self.count} terms of {self.min_weeks} weeks or more"

    def check_input(self, problem: Plan) -> list[str]:
        most = sum(w >= self.min_weeks for w in problem.terms)
        if most >= self.count:
            return []
        return [
            f"{self.source} needs at least {self.count} terms of {self.min_weeks} weeks or "
            f"more; the term structure {_weeks(problem.terms)} allows only {most}"
        ]

    def add(self, line: LineVars) -> None:
        terms = line.problem.terms
        long = [int(w >= self.min_weeks) for w in terms]
        pairs = line.six_month_pairs()
        if not pairs:  # the count is the term structure's, checked by check_input
            return
        # Merging terms t and t+1 replaces their two counts by one for the merged length.
        change = [(v, long[t] + long[t + 1] - int(terms[t] + terms[t + 1] >= self.min_weeks)) for t, v in pairs]
        line.require(
            sum(long) - cp_model.LinearExpr.weighted_sum([v for v, _ in change], [c for _, c in change]) >= self.count
        )


@dataclass(frozen=True)
class ExactTermCount(Rule):
    """Exactly ``count`` terms, a 6-month term counting as one."""

    source: str
    count: int
    slot: str | None = "term_count"

    def describe(self) -> str:
        return f"exactly {self.count} terms per line (a 6-month term counts once)"

    def reads(self, problem: Plan) -> list[Read]:
        return pairs_read(problem) if problem.six_month_starts else []

    def check_input(self, problem: Plan) -> list[str]:
        n = len(problem.terms)
        fewest = n - problem.most_six_month_terms
        if fewest <= self.count <= n:
            return []
        pairs = most_pairs(problem.terms)
        hint = (
            " (ALLOW_6_MONTH_TERMS lets a 6-month term count as one)"
            if not problem.six_month_starts and n - pairs <= self.count < n
            else ""
        )
        return [
            f"{self.source} needs exactly {self.count} terms; the term structure {_weeks(problem.terms)} has {n}{hint}"
        ]

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        if not problem.six_month_starts:
            return []
        return _pairs_shortfall(problem, self.source, f"needs exactly {self.count} terms", problem.n_terms - self.count)

    def add(self, line: LineVars) -> None:
        pairs = line.six_month_pairs()
        n = len(line.problem.terms)
        if pairs:
            line.require(n - cp_model.LinearExpr.sum([v for _, v in pairs]) == self.count)
        elif n != self.count:  # no 6-month term can be built here to bring n down to count
            line.require(False)


@dataclass(frozen=True)
class MinClinicalWeeks(Rule):
    """Clinical weeks = the year's term weeks minus leave, whatever the leave's placement."""

    source: str
    weeks: int

    def describe(self) -> str:
        return f"at least {self.weeks} clinical weeks"

    def check_input(self, problem: Plan) -> list[str]:
        clinical = problem.year_weeks - problem.inp.leave_weeks
        if clinical >= self.weeks:
            return []
        return [
            f"{self.source} needs at least {self.weeks} clinical weeks; a year of "
            f"{problem.year_weeks} weeks with {problem.inp.leave_weeks} weeks of leave "
            f"has {clinical}"
        ]
