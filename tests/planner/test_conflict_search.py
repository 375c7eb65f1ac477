"""The conflict search's logic on its own: the deletion filter against known conflicts, and
the time budget (an exhausted budget says so instead of guessing)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from daemon.planner.conflict import Budget, Conflict, Verdict, Without, _filter, find_conflict
from daemon.planner.explain import _conflict_sentences, explain
from daemon.planner.problem import Problem, build_problem
from daemon.solving import SolveContext
from tests.planner.factory import VIC_TERMS, pos, run


class KnownConflicts:
    """A stand-in for the solver: a rule set is infeasible iff it holds one of ``conflicts``.
    Returns the whole trial as the core (the weakest core CP-SAT may give)."""

    def __init__(self, conflicts: list[set[int]]) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def solve(self, on: Sequence[int]) -> tuple[Verdict, list[int]]:
        self.calls += 1
        if any(c <= set(on) for c in self.conflicts):
            return "infeasible", list(on)
        return "feasible", []


@pytest.mark.parametrize(
    ("conflicts", "core", "minimal"),
    [
        ([{2, 5}], [0, 1, 2, 3, 4, 5, 6], [2, 5]),
        ([{1, 3}, {4}], [0, 1, 2, 3, 4], [4]),  # the filter keeps one conflict, irreducible
        ([{0, 1, 2}], [0, 1, 2], [0, 1, 2]),
    ],
)
def test_the_deletion_filter_leaves_an_irreducible_conflict(
    conflicts: list[set[int]], core: list[int], minimal: list[int]
) -> None:
    search = KnownConflicts(conflicts)
    found, proven = _filter(search, core)  # type: ignore[arg-type]
    assert (found, proven) == (minimal, True)
    assert any(c <= set(found) for c in conflicts)
    for k in found:  # dropping any one rule removes every conflict
        assert not any(c <= set(found) - {k} for c in conflicts)


def _ed_and_surgery_in_term_5() -> Problem:
    positions = [
        pos("med", "Medicine"),
        pos("sur", "Surgery", capacity_by_term=(0, 0, 0, 0, 1)),
        pos("ed", "Emergency Medicine", capacity_by_term=(0, 0, 0, 0, 1)),
        *(pos(f"g{k}") for k in range(4)),
    ]
    return build_problem(run(positions, term_structure=VIC_TERMS, constraints=("VIC_PGY1",)))


def test_an_exhausted_budget_says_it_could_not_tell() -> None:
    problem = _ed_and_surgery_in_term_5()
    spent = Budget(deadline=time.perf_counter() - 1, per_solve=1.0)
    assert find_conflict(problem, 1, SolveContext(), spent).outcome == "unknown"
    said = explain(problem, (), SolveContext(), seconds=0.0)
    assert "the rules in conflict could not be found within the diagnosis' time" in said.sentences
    assert said.detail["seat_fix"] is None


class OutOfTime(KnownConflicts):
    def solve(self, on: Sequence[int]) -> tuple[Verdict, list[int]]:
        return "unknown", list(on)


def test_a_filter_that_runs_out_of_time_does_not_claim_minimality() -> None:
    found, proven = _filter(OutOfTime([{0}]), [0, 1])  # type: ignore[arg-type]
    assert (found, proven) == ([0, 1], False)
    problem = _ed_and_surgery_in_term_5()
    conflict = Conflict(1, "conflict", rules=problem.rules[:2], minimal=False, without=(Without("unknown"),) * 2)
    assert "not proven minimal within the diagnosis' time" in _conflict_sentences(conflict, 1)[0]
