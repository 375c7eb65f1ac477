"""Rules that cap or bar terms of a kind on a line (service, rural, non-clinical, nights)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from daemon.planner.data import Position
from daemon.planner.rules.base import LineVars, Read, Rule, Shortfall
from daemon.planner.rules.kinds import Predicate

if TYPE_CHECKING:
    from daemon.planner.problem import Problem


def posts(kind: str) -> str:
    """Positions of a kind, as an administrator says it ("service posts")."""
    return f"{kind} posts"


def most_lines_with_cap(problem: Problem, where: Predicate, per_line: int) -> int:
    """The most lines that fit when each may hold at most ``per_line`` terms matching ``where``.

    Every line holds a seat in every term: beyond the other seats of a term, lines are pushed
    into matching ones, and those pushes cannot exceed ``per_line`` per line over the year.
    """
    others = [problem.term_seats(t, lambda p: not where(p)) for t in range(problem.n_terms)]
    lines = min([problem.inp.n_job_lines] + [problem.term_seats(t) for t in range(problem.n_terms)])
    while lines > 0 and sum(max(0, lines - o) for o in others) > per_line * lines:
        lines -= 1
    return lines


def cap_shortfall(problem: Problem, source: str, kind: str, where: Predicate, per_line: int) -> Shortfall:
    most = most_lines_with_cap(problem, where, per_line)
    others = ", ".join(f"term {t + 1}: {problem.term_seats(t, lambda p: not where(p))}" for t in range(problem.n_terms))
    return Shortfall(
        most,
        f"{source} allows at most {per_line} {kind} term(s) per line, and the other "
        f"positions offer too few seats ({others}) for more than {most} lines",
    )


@dataclass(frozen=True)
class MaxSlots(Rule):
    """At most ``limit`` terms of a kind per line."""

    source: str
    kind: str
    where: Predicate
    limit: int
    slot: str | None = None

    def describe(self) -> str:
        return f"at most {self.limit} {self.kind} term(s) per line"

    def reads(self, problem: Problem) -> list[Read]:
        return [Read(posts(self.kind), self.where, "caps", limit=self.limit)]

    def shortfalls(self, problem: Problem) -> list[Shortfall]:
        return [cap_shortfall(problem, self.source, self.kind, self.where, self.limit)]

    def add(self, line: LineVars) -> None:
        line.require(line.slots(self.where) <= self.limit)


@dataclass(frozen=True)
class Exclude(Rule):
    """No line holds a position of this kind; such positions stay unfilled (reported)."""

    source: str
    where: Predicate
    kind: str

    def describe(self) -> str:
        return f"no {self.kind} terms"

    def reads(self, problem: Problem) -> list[Read]:
        return [Read(posts(self.kind), self.where, "barred")]

    def excludes(self, position: Position) -> bool:
        return self.where(position)
