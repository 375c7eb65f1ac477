"""Weak stability's paths (issue 14): rotations and a minimum cut without ties
(stable_rotations), the HiGHS MIP with ties or caps (stable_mip), through ``solve`` against
brute force, the CP-SAT model and the checker (test_alloc_stable_rotations.py tests the
rotation method itself).

Mutations these catch (each made by hand, a test seen failing, then restored):
- no stability rows in the MIP (stable_mip.stability_model: ``live`` all False) —
  ``test_mip_removes_the_blocking_pair`` and the brute-force property with ties;
- no rotation eliminated (stable_rotations: the empty closed set, the worker-optimal
  allocation) — ``test_rotations_give_the_lines_their_say``;
- a time-limited solution reported OPTIMAL (highs_process) — ``test_cut_short_...``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.stability import CASES, generate
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer
from daemon.allocator.flow import solve_flow
from daemon.allocator.hints import stable_hint
from daemon.allocator.model import solve_cp_sat
from daemon.allocator.solve import solve
from daemon.checks.allocation import check_allocation
from daemon.solving import SolveContext
from tests.allocator.alloc_factory import make_input, placed, solve_checked
from tests.allocator.alloc_strategies import SETTINGS
from tests.allocator.test_alloc_properties import _brute_force


@st.composite
def stable_instances(draw: st.DrawFn, *, ties: bool) -> AllocatorInput:
    """Every worker ranks every line and each line's own supervisor ranks every worker:
    strictly (``ties`` False: the rotation method's domain) or from {1, 2, 3} with exclusions and some
    workers left unranked by supervisors (ties on both sides: the MIP's)."""
    n_w = draw(st.integers(1, 5))
    n_l = draw(st.integers(1, 3))
    workers = [f"w{i}" for i in range(n_w)]
    lines = [f"l{j}" for j in range(n_l)]
    caps = draw(st.lists(st.integers(1, 3), min_size=n_l, max_size=n_l).filter(lambda c: sum(c) >= n_w))

    def ranking(items: list[str]) -> dict[str, float]:
        if ties:
            return {x: float(draw(st.integers(1, 3))) for x in items if draw(st.integers(0, 4)) > 0}
        order = draw(st.permutations(items))
        return {x: float(i + 1) for i, x in enumerate(order)}

    sups = [Preferencer(f"s{j}", f"S{j}") for j in range(n_l)]
    config: dict[str, Any] = {
        "stability": "weak",
        "preferencer_weight": draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])),
        "rng_seed": draw(st.integers(0, 3)),
        "max_seconds": 20,
    }
    excluded = {ln: draw(st.sets(st.sampled_from(workers), max_size=1)) for ln in lines} if ties else {}
    return make_input(
        {w: ranking(lines) for w in workers},
        dict(zip(lines, caps, strict=True)),
        workers=workers,
        config=config,
        preferencers=sups,
        line_preferencers=[(ln, f"s{j}") for j, ln in enumerate(lines)],
        sup_ranks={s.id: ranking(workers) for s in sups},
        eligibility=[Eligibility(ln, excluded_workers=frozenset(ex)) for ln, ex in excluded.items()],
    )


def _assert_brute_force_optimum(inp: AllocatorInput, method: str | None) -> None:
    out = solve_checked(inp)
    expected = _brute_force(inp)
    if expected is None:
        assert out.status == "INFEASIBLE", out.metadata
        return
    assert out.status == "COMPLETED", out.error
    assert out.metadata["status"] == "OPTIMAL"
    if method is not None:
        assert out.metadata["method"] == method
    bound = out.metadata["rounding_error_bound"]
    assert expected - 1e-9 <= out.metadata["objective"] <= expected + bound + 1e-9


@SETTINGS
@given(stable_instances(ties=False))
def test_rotations_without_ties_equal_brute_force(inp: AllocatorInput) -> None:
    _assert_brute_force_optimum(inp, "stable_rotations")


@SETTINGS
@given(stable_instances(ties=True))
def test_mip_with_ties_equals_brute_force_and_cp_sat(inp: AllocatorInput) -> None:
    _assert_brute_force_optimum(inp, None)
    # The CP-SAT model as it was (model.py) reaches the same optimum on the same Problem.
    problem = build_problem(inp)
    relaxed = solve_flow(problem)
    out = solve(inp, SolveContext())
    if relaxed is None or out.status != "COMPLETED":
        return
    cp = solve_cp_sat(problem, stable_hint(problem) or relaxed, SolveContext(), time.perf_counter() + 20)
    assert cp.status == "OPTIMAL" and cp.objective_int is not None
    assert abs(cp.objective_int / problem.unit - out.metadata["objective"]) <= problem.rounding_bound + 1e-9


def test_mip_removes_the_blocking_pair() -> None:
    # Line a's supervisor prefers w1, but a to w2 is cheaper (w2's fallback, b, is its 3rd
    # choice; c has no seat); b has no supervisor, so it ties both workers: the MIP's domain.
    inp = make_input(
        {"w1": {"a": 1, "b": 2, "c": 3}, "w2": {"a": 1, "c": 2, "b": 3}},
        {"a": 1, "b": 1, "c": 0},
        config={"preferencer_weight": 0, "stability": "weak"},
        preferencers=[Preferencer("s", "S")],
        line_preferencers=[("a", "s")],
        sup_ranks={"s": {"w1": 1, "w2": 2}},
    )
    out = solve_checked(inp)
    assert out.metadata["method"] == "highs_mip" and out.metadata["status"] == "OPTIMAL"
    # The search's own figures are named for the solver that made them.
    assert out.metadata["highs_status"] == "OPTIMAL" and "cp_sat_status" not in out.metadata
    assert placed(out)["w1"] == "a"


def test_rotations_give_the_lines_their_say() -> None:
    # Strict both ways. Worker-optimal: each worker gets its first choice, the lines their
    # last; with the lines' view weighted (alpha 0.9) the line-optimal matching is cheaper,
    # and stable too: the method must find it, not stop at Gale-Shapley's answer.
    inp = make_input(
        {"w1": {"a": 1, "b": 2}, "w2": {"b": 1, "a": 2}},
        {"a": 1, "b": 1},
        config={"preferencer_weight": 0.9, "stability": "weak"},
        preferencers=[Preferencer("sa", "A"), Preferencer("sb", "B")],
        line_preferencers=[("a", "sa"), ("b", "sb")],
        sup_ranks={"sa": {"w2": 1, "w1": 2}, "sb": {"w1": 1, "w2": 2}},
    )
    out = solve_checked(inp)
    assert out.metadata["method"] == "stable_rotations" and out.metadata["status"] == "OPTIMAL"
    assert placed(out) == {"w1": "b", "w2": "a"}


def test_cut_short_is_feasible_with_an_honest_bound() -> None:
    inp = generate(replace(CASES[2], max_seconds=3))  # 300 x 75 x 4 with ties: not proven in 3 s
    started = time.perf_counter()
    out = solve(inp, SolveContext())
    assert time.perf_counter() - started < 3 + 5  # the time limit, and a little for the child
    assert out.status == "COMPLETED" and out.metadata["status"] == "FEASIBLE"
    assert out.metadata["best_bound"] <= out.metadata["objective"]
    assert out.metadata["gap"] > 0
    assert check_allocation(inp, out.payload.allocations).ok


def test_a_stop_request_ends_the_highs_child() -> None:
    inp = generate(replace(CASES[1], max_seconds=60))
    ctx = SolveContext()
    timer = threading.Timer(2.0, ctx.request_stop)
    timer.start()
    started = time.perf_counter()
    try:
        solve(inp, ctx)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 10


def test_rotations_prove_a_medium_instance() -> None:
    # 60 x 15 x 4, strict: many stable allocations between the two Gale-Shapley ones.
    inp = generate(replace(CASES[0], workers=60, lines=15, max_seconds=30))
    out = solve_checked(inp)
    assert out.metadata["method"] == "stable_rotations" and out.metadata["status"] == "OPTIMAL"
    assert np.isclose(out.metadata["best_bound"], out.metadata["objective"], atol=1e-2)
