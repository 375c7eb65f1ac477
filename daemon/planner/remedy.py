"""Measured changes to a short run: how many lines build under fewer rules (``most_lines``),
and the smallest change of the data that fixes it (``fewest_extra_seats``): the fewest extra
seats (position, term) with which every line asked builds under every rule of the run.

Both start from the compliant lines the run found, if any: they stay compliant with fewer
rules or more seats, so they are a valid start for the search.

Extra seats take one CP-SAT solve, not one per candidate seat: every term of every usable position may take
extra seats (a post may open in a term it is not offered in), and the solver minimises their
number while building all the lines. A solution is the measurement (those seats, that many
lines); OPTIMAL proves no smaller change of seats does it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from daemon.planner.model import PlanModel, build_model, estimated_build_seconds
from daemon.planner.problem import Problem
from daemon.planner.rules import Rule
from daemon.planner.rules.predicates import Predicate, shown
from daemon.planner.search import hint_lines, new_solver, run_phase
from daemon.solving import SolveContext


@dataclass(frozen=True)
class ExtraSeat:
    position_id: str
    name: str
    categories: tuple[str, ...]
    term_index: int  # from 0
    seats: int

    def words(self) -> str:
        one = "one more seat" if self.seats == 1 else f"{self.seats} more seats"
        cats = "/".join(self.categories)
        return f"{one} in {shown(self.name)}{f' (category {cats})' if cats else ''} in term {self.term_index + 1}"


@dataclass(frozen=True)
class SeatFix:
    lines: int  # lines that build with the extra seats (all asked)
    seats: tuple[ExtraSeat, ...]
    fewest: bool  # proven: no fewer extra seats build that many lines

    @property
    def total(self) -> int:
        return sum(s.seats for s in self.seats)


HINT_SHARE = 0.25  # of the time, at most, to complete the hint
TRIM_SHARE = 0.3  # of the time kept to trim a fix not proven the fewest (``_trim``)
TRIM_SOLVE_SECONDS = 2.0  # cap on each re-solve of the trim


@dataclass(frozen=True)
class Measured:
    lines: int  # lines found that build
    most: bool  # proven: no more lines build (or all asked do)


def most_lines(
    problem: Problem,
    rules: tuple[Rule, ...],
    lines: int,
    *,
    ctx: SolveContext,
    seconds: float,
    built: Sequence[tuple[int, ...]] = (),
) -> Measured | None:
    """The most of ``lines`` lines that build under ``rules`` only (the always-on rules too),
    or None if nothing was found in ``seconds``. Lines only: required seats are not weighed."""
    started = time.perf_counter()
    if seconds <= estimated_build_seconds(problem, lines) or ctx.stop_requested():
        return None
    plan = build_model(replace(problem, rules=rules), lines, optional_lines=True)
    if time.perf_counter() - started >= seconds:
        return None
    plan.model.minimize(lines - plan.n_built)
    if built:
        hint_lines(plan, tuple(built[:lines]), HINT_SHARE * seconds)
    found = run_phase(plan, ctx, "diagnosis", seconds - (time.perf_counter() - started), floor=0)
    if found.lines is None:
        return None
    return Measured(len(found.lines), found.status == "OPTIMAL" or len(found.lines) == lines)


def _usable_outside(problem: Problem, where: Predicate, lines: int) -> int:
    return sum(min(lines, problem.term_seats(t, lambda p: not where(p))) for t in range(problem.n_terms))


def least_extra_seats(problem: Problem, lines: int) -> int:
    """A counting lower bound on the extra seats ``lines`` lines need: every term holds a
    seat of every line, and every line holds the terms each rule needs of its kind."""
    n = problem.n_terms
    per_term = sum(max(0, lines - problem.term_seats(t)) for t in range(n))
    reads = [r for rule in problem.rules for r in rule.reads(problem)]
    needs = [r.need * lines - problem.year_seats(r.where) for r in reads if r.role == "needs"]
    # A capped kind: the other posts carry n - limit terms of each line, a term's seats
    # beyond one a line being of no use; each extra seat adds one at most.
    caps = [lines * (n - r.limit) - _usable_outside(problem, r.where, lines) for r in reads if r.role == "caps"]
    return max([per_term, 0, *needs, *caps])


Seats = dict[tuple[int, int], cp_model.IntVar]  # extra seats by (term, position index)


def seat_model(problem: Problem, lines: int) -> tuple[PlanModel, Seats, int]:
    """``lines`` lines, all built, with extra seats wherever they help, fewest first; and the
    counting lower bound on them."""
    n = problem.n_terms
    # Every cell open and loose; the real capacity, plus the extra seats, is added below.
    loose = replace(problem, seats=tuple((lines,) * n for _ in problem.positions))
    plan = build_model(loose, lines, optional_lines=False)
    model = plan.model
    extra: Seats = {}
    for i, seats in enumerate(problem.seats):
        for t in range(n):
            filled = cp_model.LinearExpr.sum([ln.cells[t, i] for ln in plan.lines])
            extra[t, i] = model.new_int_var(0, lines, "")
            model.add(filled <= seats[t] + extra[t, i])
    total = cp_model.LinearExpr.sum(list(extra.values()))
    least = least_extra_seats(problem, lines)
    model.add(total >= least)  # redundant: lets CP-SAT prove the count when the counts are tight
    # Among the fewest, spread them: 12 extra seats in a 3-seat post is no advice. A seat more
    # outweighs any spread (peak <= lines).
    peak = model.new_int_var(0, lines, "")
    for v in extra.values():
        model.add(peak >= v)
    model.minimize((lines + 1) * total + peak)
    return plan, extra, least


def fewest_extra_seats(
    problem: Problem, lines: int, ctx: SolveContext, seconds: float, built: Sequence[tuple[int, ...]] = ()
) -> SeatFix | None:
    """The fewest extra seats with which ``lines`` lines build; None if no extra seats can help
    (a rule no seat satisfies) or none was found in ``seconds``.

    ``built``: compliant lines found by the run, if any. Copies of one of them fill the rest
    (extra seats make room for them), a complete start for the search: without it CP-SAT
    spent the whole budget looking for a first solution on a real district's 124 lines.
    """
    if seconds <= estimated_build_seconds(problem, lines, every_cell=True) or ctx.stop_requested():
        return None
    started = time.perf_counter()
    plan, extra, least = seat_model(problem, lines)
    model = plan.model
    if built:
        start = [*built, *([built[0]] * (lines - len(built)))][:lines]
        hint_lines(plan, tuple(start), HINT_SHARE * seconds)
    deadline = started + seconds
    left = deadline - time.perf_counter()
    if left <= 0:  # the build took longer than estimated
        return None
    solver = new_solver(problem.inp, ctx, left * (1 - TRIM_SHARE))
    ctx.bind_solver(solver)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    values = {cell: solver.value(v) for cell, v in extra.items()}
    fewest = status == cp_model.OPTIMAL or sum(values.values()) == least
    if not fewest:
        values = trim_seats(
            model, extra, values, list(solver.response_proto.solution), problem=problem, ctx=ctx, deadline=deadline
        )
        fewest = sum(values.values()) == least
    added = [
        ExtraSeat(p.id, p.name, p.experience_categories, t, values[t, i])
        for (t, i) in sorted(values)
        if values[t, i] > 0
        for p in (problem.positions[i],)
    ]
    return SeatFix(lines, tuple(added), fewest)


def trim_seats(
    model: cp_model.CpModel,
    extra: Seats,
    values: dict[tuple[int, int], int],
    solution: list[int],
    *,
    problem: Problem,
    ctx: SolveContext,
    deadline: float,
) -> dict[tuple[int, int], int]:
    """A fix found when time ran out can be far from the fewest seats: with every extra seat
    fixed, drop one at a time (the largest first) while the lines still build, each re-solve
    started from the last solution, until ``deadline``. Returns the seats kept."""
    values = dict(values)
    model.minimize(0)  # any solution will do: the extra seats are fixed
    domains = {cell: model.proto.variables[v.index].domain for cell, v in extra.items()}

    def fix(cell: tuple[int, int], value: int) -> None:
        domains[cell][0] = domains[cell][1] = value  # a domain [value, value]

    for cell, value in values.items():
        fix(cell, value)
    hint = model.proto.solution_hint
    for cell in sorted((c for c in values if values[c] > 0), key=lambda c: -values[c]):
        while values[cell] > 0:
            seconds = min(TRIM_SOLVE_SECONDS, deadline - time.perf_counter())
            if seconds <= 0 or ctx.stop_requested():
                return values
            fix(cell, values[cell] - 1)
            hint.vars.clear()
            hint.vars.extend(range(len(solution)))
            hint.values.clear()
            hint.values.extend(solution)
            solver = new_solver(problem.inp, ctx, seconds)
            ctx.bind_solver(solver)
            if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                fix(cell, values[cell])
                break
            values[cell] -= 1
            solution = list(solver.response_proto.solution)
    return values
