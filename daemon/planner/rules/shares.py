"""Percentage rules: shares of the year's term weeks (SPEC §5), leave not deducted.

"At most p%" is ``weeks * 100 <= p * year_weeks`` in integers, so 25% of 52 weeks admits 13.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from daemon.planner.rules.base import LineVars, Plan, Read, Rule, Shortfall
from daemon.planner.rules.counts import cap_shortfall
from daemon.planner.rules.predicates import Predicate, is_service, is_team_based, shown, specialty_key


def _fewest_terms_reaching(terms: tuple[int, ...], weeks: float) -> int:
    total = 0
    for n, w in enumerate(sorted(terms, reverse=True), start=1):
        total += w
        if total >= weeks:
            return n
    return len(terms) + 1


def _most_weeks(terms: tuple[int, ...], n_terms: int) -> int:
    return sum(sorted(terms, reverse=True)[:n_terms])


def _in_group(attribute: str, key: str) -> Predicate:
    return lambda p: specialty_key(getattr(p, attribute)) == key


@dataclass(frozen=True)
class ShareCap(Rule):
    """At most ``percent`` of the year in any one parent specialty / subspecialty; with
    ``six_month_exempt`` (VIC_PGY2) the weeks of a 6-month term do not count."""

    source: str
    attribute: Literal["parent_specialty", "subspecialty"]
    percent: int
    six_month_exempt: bool = False

    def describe(self) -> str:
        exempt = " (a 6-month term exempt)" if self.six_month_exempt else ""
        return f"at most {self.percent}% of weeks in one {self.attribute.replace('_', ' ')}{exempt}"

    def reads(self, problem: Plan) -> list[Read]:
        """Groups holding more than the cap's share of the year's seats: lines must leave
        the excess to others."""
        total = problem.year_seats(lambda p: True)
        out = []
        for key in sorted({specialty_key(getattr(p, self.attribute)) for p in problem.positions} - {""}):
            where = _in_group(self.attribute, key)
            seats = problem.year_seats(where)
            if seats * 100 > self.percent * total:
                name = shown(next(getattr(p, self.attribute) for p in problem.positions if where(p)))
                share = f"{seats} of the year's {total} seats ({round(100 * seats / total)}%)"
                out.append(Read(f"{name} posts", where, "share", f"{name} posts hold {share}"))
        return out

    def add(self, line: LineVars) -> None:
        problem = line.problem
        groups: dict[str, int] = {}
        for p in problem.positions:
            key = specialty_key(getattr(p, self.attribute))
            if key:
                groups[key] = groups.get(key, 0) + (2 if problem.six_month_starts else 1)
        for key, most_terms in sorted(groups.items()):
            # A group too small to ever exceed the cap needs no constraint.
            if _most_weeks(problem.terms, most_terms) * 100 <= self.percent * problem.year_weeks:
                continue
            where = _in_group(self.attribute, key)
            weeks = line.weeks(where)
            if self.six_month_exempt:
                weeks -= _six_month_weeks(line, where)
            line.require(weeks * 100 <= self.percent * problem.year_weeks)


def _six_month_weeks(line: LineVars, where: Predicate) -> cp_model.LinearExpr:
    """Weeks of the line's 6-month terms in positions matching ``where``. Each pair is bounded
    by "held" and "its post matches"; no lower bound is needed, as the cap only gains from
    counting it."""
    terms = line.problem.terms
    counted, weeks = [], []
    for t, pair in line.six_month_pairs():
        cells = [v for p, v in line.term_cells(t) if where(p)]
        if not cells:
            continue
        in_group = line.model.new_bool_var("")
        line.require(in_group <= pair)
        line.require(in_group <= cp_model.LinearExpr.sum(cells))
        counted.append(in_group)
        weeks.append(terms[t] + terms[t + 1])
    return cp_model.LinearExpr.weighted_sum(counted, weeks)


@dataclass(frozen=True)
class ServiceShareCap(Rule):
    """At most ``percent`` of the year in service terms, except that a year of four or more
    terms may always hold one service term, whatever its length (SPEC §5)."""

    source: str
    percent: int

    def describe(self) -> str:
        return f"at most {self.percent}% of weeks in service terms (one service term in a year of 4+ terms)"

    def reads(self, problem: Plan) -> list[Read]:
        return [Read("service posts", is_service, "caps", limit=self._most_terms(problem))]

    def _most_terms(self, problem: Plan) -> int:
        shortest = sorted(problem.terms)
        per_line = 0  # the most service terms the share admits: the shortest ones
        while per_line < len(shortest) and sum(shortest[: per_line + 1]) * 100 <= self.percent * problem.year_weeks:
            per_line += 1
        return max(per_line, 1) if problem.n_terms >= 4 else per_line

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        return [cap_shortfall(problem, self.source, "service", is_service, self._most_terms(problem))]

    def add(self, line: LineVars) -> None:
        problem = line.problem
        within_share = line.weeks(is_service) * 100 <= self.percent * problem.year_weeks
        pairs = line.six_month_pairs()
        if problem.n_terms < 4:
            line.require(within_share)
            return
        one_term = line.model.new_bool_var("")
        line.require(within_share, when=~one_term)
        line.require(line.slots(is_service) <= 1, when=one_term)
        if pairs:  # the exception needs four terms with 6-month terms counted once
            line.require(problem.n_terms - cp_model.LinearExpr.sum([v for _, v in pairs]) >= 4, when=one_term)


@dataclass(frozen=True)
class TeamShareMin(Rule):
    """At least ``percent`` of the year in team-based terms."""

    source: str
    percent: int

    def describe(self) -> str:
        return f"at least {self.percent}% of weeks in team-based terms"

    def reads(self, problem: Plan) -> list[Read]:
        need = _fewest_terms_reaching(problem.terms, self.percent * problem.year_weeks / 100)
        return [Read("team-based posts", is_team_based, "needs", need=need)]

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        need = _fewest_terms_reaching(problem.terms, self.percent * problem.year_weeks / 100)
        seats = problem.year_seats(is_team_based)
        most = seats // need
        return [
            Shortfall(
                most,
                f"{self.source} requires {self.percent}% of the year in team-based terms "
                f"({need} terms or more) but team-based positions offer only {seats} seats "
                "over the year",
            )
        ]

    def add(self, line: LineVars) -> None:
        problem = line.problem
        line.require(line.weeks(is_team_based) * 100 >= self.percent * problem.year_weeks)
