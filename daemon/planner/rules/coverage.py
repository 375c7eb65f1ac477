"""Rules that every line holds at least one term of some kind (categories, specialties)."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.planner.rules.base import LineVars, Plan, Read, Rule, Shortfall
from daemon.planner.rules.predicates import Predicate, has_category, in_specialty


def a_term(specialty: str) -> str:
    """ "a Surgery term", "an Emergency Medicine term"."""
    return f"{'an' if specialty[:1].lower() in 'aeiou' else 'a'} {specialty} term"


def _coverage_shortfall(problem: Plan, where: Predicate, need: str, kind: str) -> Shortfall:
    seats = problem.year_seats(where)
    if seats == 0:
        return Shortfall(0, f"{need} on every line but no position has {kind}")
    return Shortfall(seats, f"{need} on every line but positions with {kind} offer only {seats} seats over the year")


@dataclass(frozen=True)
class CategoriesCovered(Rule):
    """Each AMC experience category named is held in at least one term."""

    source: str
    categories: tuple[str, ...]

    def describe(self) -> str:
        if len(self.categories) == 1:
            return f"a category {self.categories[0]} term on every line"
        return f"categories {', '.join(self.categories)} each held on every line"

    def reads(self, problem: Plan) -> list[Read]:
        return [Read(f"category {c} posts", has_category(c), "needs") for c in self.categories]

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        return [
            _coverage_shortfall(
                problem,
                has_category(c),
                f"{self.source} requires a category {c} term",
                f"category {c}",
            )
            for c in self.categories
        ]

    def add(self, line: LineVars) -> None:
        for c in self.categories:
            line.require(line.slots(has_category(c)) >= 1)


@dataclass(frozen=True)
class RequiredSpecialties(Rule):
    """Each parent specialty named (case-insensitive, exact) is held in at least one term."""

    source: str
    specialties: tuple[str, ...]

    def describe(self) -> str:
        terms = ", ".join(a_term(s) for s in self.specialties)
        return f"{terms} on every line"

    def reads(self, problem: Plan) -> list[Read]:
        return [Read(f"{s} posts", in_specialty(s), "needs") for s in self.specialties]

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        return [
            _coverage_shortfall(
                problem,
                in_specialty(s),
                f"{self.source} requires {a_term(s)}",
                f"parent_specialty {s}",
            )
            for s in self.specialties
        ]

    def add(self, line: LineVars) -> None:
        for s in self.specialties:
            line.require(line.slots(in_specialty(s)) >= 1)
