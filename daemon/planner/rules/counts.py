"""Rules that cap or bar terms of a kind on a line (service, rural, non-clinical, nights)."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.planner.data import Position
from daemon.planner.rules.base import LineVars, Plan, Read, Rule, Shortfall
from daemon.planner.rules.predicates import Predicate


def posts(kind: str) -> str:
    """Positions of a kind, as an administrator says it ("service posts")."""
    return f"{kind} posts"


def most_lines_with_cap(problem: Plan, where: Predicate, per_line: int) -> int:
    """The most lines that fit when each may hold at most ``per_line`` terms matching ``where``.

    Every line holds a seat in every term: beyond the other seats of a term, lines are pushed
    into matching ones, and those pushes cannot exceed ``per_line`` per line over the year.
    """
    others = [problem.term_seats(t, lambda p: not where(p)) for t in range(problem.n_terms)]
    lines = min([problem.inp.n_job_lines] + [problem.term_seats(t) for t in range(problem.n_terms)])
    while lines > 0 and sum(max(0, lines - o) for o in others) > per_line * lines:
        lines -= 1
    return lines


def cap_shortfall(problem: Plan, source: str, kind: str, where: Predicate, per_line: int) -> Shortfall:
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

    def reads(self, problem: Plan) -> list[Read]:
        return [Read(posts(self.kind), self.where, "caps", limit=self.limit)]

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
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

    def reads(self, problem: Plan) -> list[Read]:
        return [Read(posts(self.kind), self.where, "barred")]

    def barred_seats(self, problem: Plan) -> list[int]:
        """Seats per term of the positions this rule bars: in ``problem.barred`` as a run
        sees them, or back among the positions in a diagnosis (``conflict.with_barred``)."""
        n = problem.n_terms
        seats = [problem.term_seats(t, self.where) for t in range(n)]
        held = {p.id for p in problem.positions}
        for p in problem.barred:
            if self.where(p) and p.id not in held:
                seats = [a + b for a, b in zip(seats, p.capacity_by_term or (p.capacity,) * n, strict=True)]
        return seats

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        """Every line holds a seat in every term, none of them in a barred post: the seats per
        term of the other positions cap the lines."""
        barred = self.barred_seats(problem)
        if not any(barred):
            return []
        rest = [problem.term_seats(t, lambda p: not self.where(p)) for t in range(problem.n_terms)]
        most = min(rest)
        taken = ", ".join(f"term {t + 1}: {s}" for t, s in enumerate(barred))
        left = ", ".join(f"term {t + 1}: {s}" for t, s in enumerate(rest))
        return [
            Shortfall(
                most,
                f"{self.source} bars {posts(self.kind)} ({taken} seats barred), and the other "
                f"positions offer too few seats ({left}) for more than {most} lines",
            )
        ]

    def excludes(self, position: Position) -> bool:
        return self.where(position)
