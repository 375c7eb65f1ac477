"""A minimal set of rules in conflict with a request for ``lines`` lines.

One CP-SAT model holds every rule behind a literal of its own (``build_model(switchable=True)``):
assuming a literal switches its rule on, leaving it out lets the solver drop the rule. So one
model answers every question of the search:

1. an initial conflict: a rule whose own counting bound (``Rule.shortfalls``) is below the
   request, else the core CP-SAT returns (``sufficient_assumptions_for_infeasibility``) for
   every rule on;
2. a deletion filter: each rule of the conflict is dropped in turn; if the rest is still
   infeasible it goes (and the conflict shrinks to the new core), if feasible it stays. What
   survives is irreducible: dropping any one rule makes the request feasible — proven, unless a
   re-solve ran out of its time, which the result says (``minimal`` False);
3. the measured fix: every rule of the run but one, for each rule of the conflict — how many
   lines build without it (``remedy.most_lines``, started from the run's own lines)?

Every re-solve has its own cap (``Budget``) and all share one deadline, so a diagnosis can
never take a run's whole time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ortools.sat.python import cp_model

from daemon.planner.model import PlanModel, build_model, estimated_build_seconds
from daemon.planner.problem import Problem, seats_of
from daemon.planner.remedy import most_lines
from daemon.planner.rules import Rule
from daemon.planner.search import new_solver
from daemon.solving import SolveContext

Verdict = Literal["feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class Without:
    """The request with some rules of the run dropped."""

    verdict: Verdict  # does every line asked build?
    lines: int | None = None  # lines found that build, when measured


@dataclass
class Budget:
    """Time for a diagnosis: a deadline for all of it, a cap for each re-solve."""

    deadline: float  # time.perf_counter() value
    per_solve: float

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def next_solve(self) -> float:
        return min(self.per_solve, self.deadline - time.perf_counter())


@dataclass(frozen=True)
class Conflict:
    lines: int  # the request: this many lines, every one built
    # "conflict": rules found; "possible": the request is feasible under every rule (the run
    # ran out of time); "data": infeasible with no rule at all; "unknown": not settled in time.
    outcome: Literal["conflict", "possible", "data", "unknown"]
    rules: tuple[Rule, ...] = ()  # the first minimal conflict found
    minimal: bool = False  # every rule proved necessary (else a re-solve ran out of time)
    without: tuple[Without, ...] = ()  # per rule: the request with every other rule of the run
    # When no single rule's removal is enough: further conflicts, found one after the other
    # with a rule of each earlier one dropped, and the rules whose removal together fixes it.
    others: tuple[tuple[Rule, ...], ...] = ()
    dropped: tuple[Rule, ...] = ()
    dropped_verdict: Without = Without("unknown")
    solves: int = 0
    skipped: bool = False  # not searched: the model would take longer to build than the time left


def with_barred(problem: Problem) -> Problem:
    """The problem with the positions rules bar put back, so that switching a barring rule
    off (NO_NIGHTS) frees them; switched on, its literal keeps lines out (``model``)."""
    back = tuple(p for p in problem.barred if any(seats_of(p, problem.n_terms)))
    if not back:
        return problem
    return replace(
        problem,
        positions=problem.positions + back,
        seats=problem.seats + tuple(seats_of(p, problem.n_terms) for p in back),
        barred=(),
    )


class _Search:
    def __init__(
        self, problem: Problem, lines: int, ctx: SolveContext, budget: Budget, built: Sequence[tuple[int, ...]]
    ) -> None:
        self.problem, self.lines, self.ctx, self.budget, self.built = problem, lines, ctx, budget, built
        self.plan: PlanModel = build_model(problem, lines, optional_lines=False, switchable=True)
        self.rule_of = {v.index: k for k, v in enumerate(self.plan.switches)}
        self.solves = 0
        self._known: dict[frozenset[int], tuple[Verdict, list[int]]] = {}

    def solve(self, on: Sequence[int]) -> tuple[Verdict, list[int]]:
        """Is the request feasible with rules ``on`` (the others free)? And if not, a core."""
        key = frozenset(on)
        if key not in self._known:
            found = self._solve(on)
            if found[0] == "unknown":
                return found  # another try may have more time
            self._known[key] = found
        return self._known[key]

    def _solve(self, on: Sequence[int]) -> tuple[Verdict, list[int]]:
        seconds = self.budget.next_solve()
        if seconds <= 0 or self.ctx.stop_requested():
            return "unknown", list(on)
        model = self.plan.model
        model.clear_assumptions()
        model.add_assumptions([self.plan.switches[k] for k in on])
        solver = new_solver(self.problem.inp, self.ctx, seconds)
        self.ctx.bind_solver(solver)
        status = solver.solve(model)
        self.solves += 1
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "feasible", []
        if status == cp_model.INFEASIBLE:
            core = {self.rule_of[i] for i in solver.sufficient_assumptions_for_infeasibility()}
            return "infeasible", [k for k in on if k in core]
        return "unknown", list(on)


def _counting_conflict(problem: Problem, lines: int, active: Sequence[int]) -> list[int]:
    """A rule that alone allows fewer lines, by its own counts: a conflict of one, no solve."""
    worst = [(min(s.max_lines for s in found), k) for k in active if (found := problem.rules[k].shortfalls(problem))]
    below = sorted(w for w in worst if w[0] < lines)
    return [below[0][1]] if below else []


def _filter(search: _Search, core: list[int]) -> tuple[list[int], bool]:
    """The deletion filter: returns an irreducible subset of ``core`` and whether each kept
    rule was proven necessary."""
    proven, i = True, 0
    while i < len(core):
        trial = core[:i] + core[i + 1 :]
        verdict, sub = search.solve(trial)
        if verdict == "infeasible":
            core = sub if sub else trial  # the core returned is within the trial, often smaller
            i = min(i, len(core))
        else:
            proven = proven and verdict == "feasible"
            i += 1
    return core, proven


def _check(search: _Search, active: list[int]) -> tuple[Verdict, list[int]]:
    """The request under the rules ``active``: by the counts if they settle it, else CP-SAT."""
    counted = _counting_conflict(search.problem, search.lines, active)
    return ("infeasible", counted) if counted else search.solve(active)


def _without(search: _Search, active: list[int]) -> Without:
    """How many lines build under the rules ``active`` only (the counts settle some cases)."""
    if _counting_conflict(search.problem, search.lines, active):
        return Without("infeasible")
    rules = tuple(search.problem.rules[k] for k in active)
    found = most_lines(
        search.problem,
        rules,
        search.lines,
        ctx=search.ctx,
        seconds=search.budget.next_solve(),
        built=search.built,
    )
    if found is None:
        return Without("unknown")
    if found.lines == search.lines:
        return Without("feasible", found.lines)
    return Without("infeasible" if found.most else "unknown", found.lines)


MAX_CONFLICTS = 4  # conflicts chased before giving up on a combined fix


def find_conflict(
    problem: Problem, lines: int, ctx: SolveContext, budget: Budget, built: Sequence[tuple[int, ...]] = ()
) -> Conflict:
    """The rules that keep ``lines`` lines from being built, minimal, with a measured fix.
    ``built``: compliant lines the run found, a start for the measurements."""
    roomy = with_barred(problem)
    if budget.left() <= 0:
        return Conflict(lines, "unknown")
    if budget.left() <= estimated_build_seconds(roomy, lines):  # no time even to build the model
        return Conflict(lines, "unknown", skipped=True)
    search = _Search(roomy, lines, ctx, budget, built)
    if budget.next_solve() <= 0:  # the build took longer than estimated
        return Conflict(lines, "unknown")
    everything = list(range(len(problem.rules)))
    verdict, core = _check(search, everything)
    if verdict != "infeasible":
        outcome: Literal["possible", "unknown"] = "possible" if verdict == "feasible" else "unknown"
        return Conflict(lines, outcome, solves=search.solves)
    core, minimal = _filter(search, core) if core else (core, True)
    if not core:
        return Conflict(lines, "data", solves=search.solves)
    without = tuple(_without(search, [k for k in everything if k != j]) for j in core)
    # No single rule of the conflict is enough: other conflicts remain. Drop one rule of each
    # conflict found until the request builds (a correction set, not proven the smallest).
    others: list[list[int]] = []
    dropped = [core[0]]
    last = without[0]
    while (
        all(w.verdict != "feasible" for w in without) and last.verdict == "infeasible" and len(others) < MAX_CONFLICTS
    ):
        active = [k for k in everything if k not in dropped]
        verdict, more = _check(search, active)
        if verdict != "infeasible" or not more:
            last = Without(verdict)
            break
        more, _ = _filter(search, more)
        if not more:  # infeasible with no rule at all: dropping rules cannot fix it
            break
        others.append(more)
        dropped.append(more[0])
        last = _without(search, [k for k in everything if k not in dropped])
    rules = problem.rules
    return Conflict(
        lines,
        "conflict",
        rules=tuple(rules[k] for k in core),
        minimal=minimal,
        without=without,
        others=tuple(tuple(rules[k] for k in c) for c in others),
        dropped=tuple(rules[k] for k in dropped) if others else (),
        dropped_verdict=last if others else Without("unknown"),
        solves=search.solves,
    )
