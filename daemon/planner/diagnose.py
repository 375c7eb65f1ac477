"""Necessary conditions, checked before the solve: how many lines can be built at most, and
why no more. Gives INFEASIBLE runs a diagnosis in the hospital's terms and partial runs their
reason; CP-SAT settles whatever these simple counts cannot see."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.planner.problem import Problem
from daemon.planner.rules import Shortfall


@dataclass(frozen=True)
class LineBound:
    max_lines: int  # never above n_job_lines
    reasons: tuple[str, ...]  # each condition that allows fewer than n_job_lines


def _always_on(problem: Problem) -> list[Shortfall]:
    n = problem.inp.n_job_lines
    found = []
    for t in range(problem.n_terms):
        seats = problem.term_seats(t)
        if seats < n:
            found.append(
                Shortfall(
                    seats,
                    f"positions open to cohort {problem.inp.cohort} offer only {seats} "
                    f"seats in term {t + 1} for {n} lines",
                )
            )
    # A line holds a position once (twice as one 6-month term, when allowed).
    need = problem.n_terms - problem.most_six_month_terms
    if len(problem.positions) < need:
        found.append(
            Shortfall(0, f"a line holds {need} different positions but only {len(problem.positions)} can be used")
        )
    return found


def always_on_lines(problem: Problem) -> int:
    """The most lines the always-on rules allow by these counts (no rule of the run)."""
    return min([problem.inp.n_job_lines, *(s.max_lines for s in _always_on(problem))])


def line_bound(problem: Problem) -> LineBound:
    n = problem.inp.n_job_lines
    found = _always_on(problem) + [s for r in problem.rules for s in r.shortfalls(problem)]
    binding = [s for s in found if s.max_lines < n]
    binding.sort(key=lambda s: s.max_lines)
    return LineBound(
        max_lines=min([n, *(s.max_lines for s in binding)]),
        reasons=tuple(dict.fromkeys(s.reason for s in binding)),
    )
