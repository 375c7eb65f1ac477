"""The objective's ingredients: D_worker, preference_power, D_preferencer, weightings, alpha."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.allocator.build import build_problem
from daemon.allocator.data import Preferencer, Weighting
from tests.allocator.alloc_factory import holder, make_input, placed, solve_checked

SUPS = [Preferencer("s1", "Sup 1"), Preferencer("s2", "Sup 2")]
# Both want a; giving it to w2 saves 1 rank point (w1's second choice is better than w2's;
# c has no seats, but counts in the ranks).
CONTEST = {"w1": {"a": 1, "b": 2, "c": 3}, "w2": {"a": 1, "c": 2, "b": 3}}
TWO = {"a": 1, "b": 1, "c": 0}


def test_preference_power_shapes_the_optimum() -> None:
    # Rank sums tie (1+3+1 vs 1+2+2): power < 1 favours one bad outcome, > 1 spreads it.
    ranks = {
        "w0": {"a": 3, "b": 1, "c": 2},
        "w1": {"a": 3, "b": 1, "c": 2},
        "w2": {"a": 2, "b": 3, "c": 1},
    }
    lines = {"a": 1, "b": 1, "c": 1}
    sqrt = solve_checked(make_input(ranks, lines, config={"preferencer_weight": 0, "preference_power": 0.5}))
    square = solve_checked(make_input(ranks, lines, config={"preferencer_weight": 0, "preference_power": 2}))
    assert sorted(a.worker_rank or 0 for a in sqrt.payload.allocations) == [1, 1, 3]
    assert sorted(a.worker_rank or 0 for a in square.payload.allocations) == [1, 2, 2]
    assert square.metadata["objective"] == pytest.approx(1 + 4 + 4)


def test_power_applies_to_the_unranked_budget() -> None:
    problem = build_problem(
        make_input(
            {"w": {"a": 1}},
            {"a": 1, "b": 1, "c": 1},
            config={"preferencer_weight": 0, "preference_power": 2},
        )
    )
    # budget (1+2+3 - 1) / 2 = 2.5, squared
    assert problem.cost[0].tolist() == [1.0, 6.25, 6.25]


def test_line_without_supervisor_ranks_everyone_equally() -> None:
    problem = build_problem(make_input({"w1": {}, "w2": {}, "w3": {}}, {"a": 3}))
    assert problem.d_preferencer[:, 0].tolist() == [2.0, 2.0, 2.0]


def test_supervisor_ranks_are_normalised_with_budget() -> None:
    inp = make_input(
        {"w1": {}, "w2": {}, "w3": {}, "w4": {}},
        {"a": 4},
        preferencers=SUPS[:1],
        line_preferencers=[("a", "s1")],
        sup_ranks={"s1": {"w1": 5, "w2": 5}},  # a tie, with a gap: 1.5 each
    )
    # w3, w4 unranked: (1+2+3+4 - 3) / 2 = 3.5
    assert build_problem(inp).d_preferencer[:, 0].tolist() == [1.5, 1.5, 3.5, 3.5]


def test_several_supervisors_are_averaged() -> None:
    inp = make_input(
        {"w1": {}, "w2": {}},
        {"a": 2},
        preferencers=SUPS,
        line_preferencers=[("a", "s1"), ("a", "s2")],
        sup_ranks={"s1": {"w1": 1, "w2": 2}, "s2": {"w2": 1}},  # s2: w1 at budget 2
    )
    assert build_problem(inp).d_preferencer[:, 0].tolist() == [1.5, 1.5]


def test_weightings_global_and_specific_from_any_supervisor() -> None:
    inp = make_input(
        {"w1": {}, "w2": {}},
        {"a": 1, "b": 1},
        preferencers=SUPS,
        line_preferencers=[("a", "s1")],
        weightings=[
            Weighting("s2", "w1", None, 10.0),  # global: every line
            Weighting("s2", "w1", "a", -4.0),  # specific, by a supervisor not of line a
            Weighting("s1", "w1", "a", 1.0),
            Weighting("s1", "gone", None, 99.0),  # a worker outside the run: no effect
        ],
    )
    d = build_problem(inp).d_preferencer
    # base: line a has s1 (no ranks: budget 1.5 each); line b has no supervisor: 1.5
    assert d.tolist() == [[1.5 + 10 - 3, 1.5 + 10], [1.5, 1.5]]


@pytest.mark.parametrize(("weight", "winner"), [(-5.0, "w1"), (5.0, "w2"), (0.0, "w2")])
def test_weighting_sign_bonus_or_penalty(weight: float, winner: str) -> None:
    inp = make_input(CONTEST, TWO, preferencers=SUPS, weightings=[Weighting("s1", "w1", "a", weight)])
    assert holder(inp, "a") == winner


def test_global_weighting_moves_the_objective_not_the_allocation() -> None:
    base = solve_checked(make_input(CONTEST, TWO))
    inp = make_input(CONTEST, TWO, preferencers=SUPS, weightings=[Weighting("s1", "w1", None, 2.0)])
    weighted = solve_checked(inp)
    assert placed(weighted) == placed(base)
    assert weighted.metadata["objective"] == pytest.approx(base.metadata["objective"] + 0.3 * 2)


@pytest.mark.parametrize(("alpha", "winner"), [(0.0, "w2"), (0.3, "w2"), (0.8, "w1"), (1.0, "w1")])
def test_alpha_trades_worker_against_supervisor(alpha: float, winner: str) -> None:
    inp = make_input(
        CONTEST,
        TWO,
        config={"preferencer_weight": alpha},
        preferencers=SUPS[:1],
        line_preferencers=[("a", "s1")],
        sup_ranks={"s1": {"w1": 1, "w2": 2}},
    )
    assert holder(inp, "a") == winner


def test_cost_formula() -> None:
    inp = make_input(
        {"w1": {"a": 2, "b": 1}, "w2": {}},
        {"a": 1, "b": 1},
        config={"preferencer_weight": 0.25, "preference_power": 3},
        preferencers=SUPS[:1],
        line_preferencers=[("a", "s1")],
        sup_ranks={"s1": {"w2": 1}},
    )
    p = build_problem(inp)
    # w1 on a: rank 2 -> 8; s1 ranks w1 at budget (1+2-1)/1 = 2
    expected = np.array(
        [
            [0.75 * 8 + 0.25 * 2, 0.75 * 1 + 0.25 * 1.5],
            [0.75 * 1.5**3 + 0.25 * 1, 0.75 * 1.5**3 + 0.25 * 1.5],
        ]
    )
    assert np.allclose(p.cost, expected)


def test_integer_costs_stay_within_the_rounding_bound() -> None:
    rng = np.random.default_rng(3)
    ranks = {f"w{i}": {f"l{j}": float(r) for j, r in enumerate(rng.permutation(7) + 1)} for i in range(7)}
    p = build_problem(make_input(ranks, {f"l{j}": 1 for j in range(7)}, config={"preference_power": 1.37}))
    per_cell = p.cost_int / p.unit - p.cost
    assert per_cell.min() >= -0.5 / p.scale
    assert per_cell.max() <= 1.5 / p.scale
    assert p.rounding_bound == pytest.approx(2 * 7 / 1e6)
