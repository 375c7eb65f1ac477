"""AMC's long terms in *different* specialties (PMCV's "PGY1 & PGY2 Requirements").

PGY1: the at-least-4 terms of at least 10 weeks are in different parent specialties. PGY2: the
at-least-3 terms of at least 10 weeks are in different subspecialties; a post with no
subspecialty recorded is its parent specialty's own (a "General Medicine" post with none is
"General Medicine"). A post with no specialty recorded at all, and none inferred from its
name (``daemon.planner.infer``), cannot show that it differs, so it never counts towards the
distinct ones. A 6-month term (ALLOW_6_MONTH_TERMS: 24-28 weeks, so it holds a term of 10
weeks or more) is one term of its post's specialty; two short terms in one post are never one
long term.

Modelled per line: one boolean per specialty, "the line holds a long term in it", bounded by
the line's long terms in that specialty; at least ``count`` of them true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from daemon.planner.data import Position
from daemon.planner.rules.base import LineVars, Plan, Read, Rule, Shortfall
from daemon.planner.rules.predicates import shown, specialty_key

Attribute = Literal["parent_specialty", "subspecialty"]
_KIND = {
    "parent_specialty": ("parent specialty", "parent specialties"),
    "subspecialty": ("subspecialty", "subspecialties"),
}


def specialty_of(attribute: Attribute) -> Callable[[Position], str]:
    """The key a post is compared by ("" when nothing is recorded)."""
    if attribute == "parent_specialty":
        return lambda p: specialty_key(p.parent_specialty)
    return lambda p: specialty_key(p.subspecialty) or specialty_key(p.parent_specialty)


@dataclass(frozen=True)
class DistinctLongTerms(Rule):
    """At least ``count`` terms of at least ``min_weeks`` weeks, each in a different
    ``attribute`` (parent specialty for PGY1, subspecialty for PGY2)."""

    source: str
    count: int
    attribute: Attribute
    min_weeks: int = 10

    def describe(self) -> str:
        plural = _KIND[self.attribute][1]
        return f"at least {self.count} terms of {self.min_weeks} weeks or more in different {plural}"

    def _seats_by_specialty(self, problem: Plan) -> dict[str, tuple[str, int]]:
        """Per specialty key: its name as recorded and its seats over the year in long terms."""
        key = specialty_of(self.attribute)
        long = [t for t, w in enumerate(problem.terms) if w >= self.min_weeks]
        out: dict[str, tuple[str, int]] = {}
        for p, seats in zip(problem.positions, problem.seats, strict=True):
            k = key(p)
            if not k:
                continue
            recorded = p.parent_specialty if self.attribute == "parent_specialty" else p.subspecialty
            name, had = out.get(k, (recorded or p.parent_specialty or "", 0))
            out[k] = (name, had + sum(seats[t] for t in long))
        return {k: v for k, v in out.items() if v[1] > 0}

    def _most_lines(self, problem: Plan) -> int:
        """Each line needs ``count`` specialties with a long seat; one specialty serves at
        most as many lines as it has long seats, and each line once."""
        seats = [s for _, s in self._seats_by_specialty(problem).values()]
        lines = problem.inp.n_job_lines
        while lines > 0 and sum(min(s, lines) for s in seats) < self.count * lines:
            lines -= 1
        return lines

    def reads(self, problem: Plan) -> list[Read]:
        singular, plural = _KIND[self.attribute]
        by = sorted(self._seats_by_specialty(problem).values(), key=lambda v: (-v[1], v[0]))
        offered = ", ".join(f"{shown(n)} {s}" for n, s in by[:8]) + (f" and {len(by) - 8} more" if len(by) > 8 else "")
        fact = f"terms of {self.min_weeks} weeks or more are offered in {len(by)} {plural}" + (
            f" (seats over the year: {offered})" if by else ""
        )
        out = [Read("", lambda p: False, "fact", fact)]
        key = specialty_of(self.attribute)
        blank = [p.name for p in problem.positions if not key(p)]
        if blank:
            names = ", ".join(shown(n) for n in blank[:8]) + (f" and {len(blank) - 8} more" if len(blank) > 8 else "")
            why = f"posts with no {singular} recorded or inferred from the name count for none: {names}"
            out.append(Read("", lambda p: False, "fact", why))
        return out

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        most = self._most_lines(problem)
        if most >= problem.inp.n_job_lines:
            return []
        _, plural = _KIND[self.attribute]
        n = len(self._seats_by_specialty(problem))
        return [
            Shortfall(
                most,
                f"{self.source} needs {self.count} terms of {self.min_weeks} weeks or more in different "
                f"{plural} on every line, and the long-term seats of the {n} {plural} offered carry "
                f"at most {most} lines",
            )
        ]

    def add(self, line: LineVars) -> None:
        problem = line.problem
        key = specialty_of(self.attribute)
        terms = problem.terms
        long = [t for t, w in enumerate(terms) if w >= self.min_weeks]
        # Per specialty, the line's cells that hold a long term in it.
        parts: dict[str, list[cp_model.LinearExprT]] = {}
        for t in long:
            for p, v in line.term_cells(t):
                if key(p):
                    parts.setdefault(key(p), []).append(v)
        has = []
        for _, held_in in sorted(parts.items()):
            held = line.model.new_bool_var("")
            line.require(held <= cp_model.LinearExpr.sum(held_in))
            has.append(held)
        if len(has) < self.count:
            line.require(False)
            return
        line.require(cp_model.LinearExpr.sum(has) >= self.count)


def distinct_parent_specialties(source: str, count: int) -> DistinctLongTerms:
    return DistinctLongTerms(source, count, "parent_specialty")


def distinct_subspecialties(source: str, count: int) -> DistinctLongTerms:
    return DistinctLongTerms(source, count, "subspecialty")
