"""ALLOW_6_MONTH_TERMS with a term count that needs a 6-month term, where no position has
seats in two consecutive terms: INFEASIBLE naming the rule (it used to end FAILED with
"internal error: generated lines failed the compliance check")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from ortools.sat.python import cp_model

from daemon.planner.model import build_model
from daemon.planner.problem import build_problem
from daemon.solving import BadInput
from tests.planner.factory import pos, run, solve_checked


@pytest.mark.parametrize("partial", [False, True])
def test_num_terms_without_any_consecutive_seats_is_infeasible_naming_the_rule(partial: bool) -> None:
    # Every post is open in alternate terms only: no line can hold a 6-month term.
    positions = [pos(f"odd{k}", capacity_by_term=(1, 0, 1, 0)) for k in range(2)] + [
        pos(f"even{k}", capacity_by_term=(0, 1, 0, 1)) for k in range(2)
    ]
    inp = run(positions, n=1, constraints=("ALLOW_6_MONTH_TERMS", "NUM_TERMS=3"), allow_partial_filling=partial)
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE", out.error
    assert "NUM_TERMS=3" in (out.error or "")
    assert "no position has seats in two consecutive terms" in (out.error or "")
    # Said by the counts, before any solve: each line needs one 6-month term.
    assert "NUM_TERMS=3 needs exactly 3 terms: every line needs 1 6-month term(s)" in out.metadata["diagnosis"][0]


def test_two_short_terms_never_make_a_long_one() -> None:
    # 8+8+18+18: merging the two 8-week terms used to make AMC_PGY2's third term of 10 weeks;
    # 16 weeks are no 6-month term (24-28 weeks), so the structure itself is bad input.
    inp = run([pos(f"p{k}") for k in range(4)], term_structure=(8, 8, 18, 18))
    with pytest.raises(BadInput, match="the term structure 8/8/18/18 allows only 2"):
        build_problem(replace(inp, constraints=("ALLOW_6_MONTH_TERMS", "AMC_PGY2")))


@pytest.mark.parametrize(
    ("constraints", "terms"),
    # 8/8/18/18: only 8 + 18 weeks make a 6-month term.
    [
        (("ALLOW_6_MONTH_TERMS", "NUM_TERMS=3"), (13, 13, 13, 13)),
        (("ALLOW_6_MONTH_TERMS", "NUM_TERMS=3"), (8, 8, 18, 18)),
    ],
)
def test_the_model_itself_refuses_such_lines(constraints: tuple[str, ...], terms: tuple[int, ...]) -> None:
    """Not only the counts: the rule's constraints make the model infeasible (a diagnosis
    and the seat fix solve the model without the counts in front)."""
    positions = [pos(f"odd{k}", capacity_by_term=(1, 0, 1, 0)) for k in range(2)] + [
        pos(f"even{k}", capacity_by_term=(0, 1, 0, 1)) for k in range(2)
    ]
    problem = build_problem(run(positions, term_structure=terms, constraints=constraints))
    for optional in (False, True):
        plan = build_model(problem, 1, optional_lines=optional)
        plan.model.add(plan.n_built >= 1)
        assert cp_model.CpSolver().solve(plan.model) == cp_model.INFEASIBLE
