"""The exact linear_sum_assignment fast path agrees with the min-cost flow (same integer costs).

Both minimise ``Problem.cost_int``; the seeded jitter makes that optimum unique almost always,
and then both must return the very same allocation. Tiny instances are checked against brute
force over every assignment, which tells a unique optimum from a tie; larger seeded ones
(deterministic, so not flaky) must agree allocation for allocation.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from daemon.allocator.assignment import MAX_SEATS_PER_LINE, plan_assignment, solve_assignment
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer, Weighting
from daemon.allocator.flow import FlowSolution, solve_flow
from daemon.allocator.problem import Problem
from tests.allocator.alloc_factory import make_input, solve_checked
from tests.allocator.alloc_strategies import SETTINGS

F = frozenset


def _instance(
    rng: np.random.Generator, n_w: int, n_l: int, max_rank: int, max_cap: int, *, closed: float = 0.15
) -> AllocatorInput:
    """Random ranks (ties when max_rank is small), capacities, exclusions and weightings;
    ``closed`` is the share of lines without seats and of excluded (worker, line) pairs."""
    workers = [f"w{i:02d}" for i in range(n_w)]
    lines = [f"l{j:02d}" for j in range(n_l)]
    ranked = rng.random((n_w, n_l)) < 0.8
    ranks = rng.integers(1, max_rank + 1, size=(n_w, n_l))
    caps = np.where(rng.random(n_l) < closed, 0, rng.integers(1, max_cap + 1, size=n_l))
    excluded = rng.random((n_w, n_l)) < closed
    eligibility = [
        Eligibility(ln, excluded_workers=F(w for i, w in enumerate(workers) if excluded[i, j]))
        for j, ln in enumerate(lines)
    ]
    # A supervisor without caps only changes costs (its ranks, negative weights): still pure.
    sup = Preferencer("s", "S")
    weightings = []
    for weight in rng.integers(-4, 5, size=int(rng.integers(0, 4))).astype(float):
        line = lines[int(rng.integers(n_l))] if rng.random() < 0.5 else None  # None: a global weighting
        weightings.append(Weighting("s", workers[int(rng.integers(n_w))], line, float(weight)))
    return make_input(
        {w: {ln: float(ranks[i, j]) for j, ln in enumerate(lines) if ranked[i, j]} for i, w in enumerate(workers)},
        {ln: int(c) for ln, c in zip(lines, caps, strict=True)},
        workers=workers,
        config={"rng_seed": int(rng.integers(0, 100)), "preferencer_weight": float(rng.choice([0.0, 0.3, 1.0]))},
        eligibility=eligibility,
        preferencers=[sup],
        line_preferencers=[(ln, "s") for ln in lines if rng.random() < 0.5],
        sup_ranks={"s": {w: float(rng.integers(1, 4)) for w in workers if rng.random() < 0.7}},
        weightings=weightings,
    )


def _both(problem: Problem) -> tuple[FlowSolution | None, FlowSolution | None]:
    plan = plan_assignment(problem)
    assert plan is not None, "expected the fast path to apply"
    return solve_assignment(problem, plan), solve_flow(problem)


def _optima(problem: Problem) -> tuple[int, list[tuple[int, ...]]] | None:
    """Brute force: the least integer cost over feasible assignments and every one reaching it."""
    rows = np.arange(problem.n_workers)
    best: int | None = None
    argmin: list[tuple[int, ...]] = []
    for choice in itertools.product(range(problem.n_lines), repeat=problem.n_workers):
        line_of = np.array(choice)
        if not problem.eligible[rows, line_of].all():
            continue
        if (np.bincount(line_of, minlength=problem.n_lines) > problem.capacity).any():
            continue
        cost = int(problem.cost_int[rows, line_of].sum())
        if best is None or cost < best:
            best, argmin = cost, [choice]
        elif cost == best:
            argmin.append(choice)
    return None if best is None else (best, argmin)


@SETTINGS
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from([1, 2, 5]),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
def test_tiny_instances_match_brute_force(n_w: int, n_l: int, max_rank: int, max_cap: int, seed: int) -> None:
    problem = build_problem(_instance(np.random.default_rng(seed), n_w, n_l, max_rank, max_cap))
    lsa, flow = _both(problem)
    expected = _optima(problem)
    if expected is None:
        assert lsa is None and flow is None
        event("infeasible")
        return
    assert lsa is not None and flow is not None
    best, argmin = expected
    assert lsa.cost_int == flow.cost_int == best
    assert tuple(lsa.line_of.tolist()) in argmin and tuple(flow.line_of.tolist()) in argmin
    if len(argmin) == 1:
        event("unique optimum")
        assert np.array_equal(lsa.line_of, flow.line_of)
    else:
        event("tied optimum")


def _seeded(seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    n_w = int(rng.integers(5, 60))
    n_l = int(rng.integers(max(2, n_w // 3), 30))
    return build_problem(_instance(rng, n_w, n_l, int(rng.choice([2, 5, n_l])), int(rng.integers(2, 6)), closed=0.1))


def _another_optimum(problem: Problem, solution: FlowSolution) -> bool:
    """Whether an optimal allocation other than ``solution`` exists: minimise the cost, then
    the number of pairs shared with ``solution`` (costs x (W+1), +1 per shared pair)."""
    rows = np.arange(problem.n_workers)
    penalty = np.zeros_like(problem.cost_int)
    penalty[rows, solution.line_of] = 1
    other = solve_flow(replace(problem, cost_int=(problem.n_workers + 1) * problem.cost_int + penalty))
    assert other is not None
    return not np.array_equal(other.line_of, solution.line_of) and (
        int(problem.cost_int[rows, other.line_of].sum()) == solution.cost_int
    )


@pytest.mark.parametrize("seed", range(60))
def test_seeded_instances_give_the_same_allocation(seed: int) -> None:
    problem = _seeded(seed)
    lsa, flow = _both(problem)
    if flow is None:
        assert lsa is None
        return
    assert lsa is not None
    assert lsa.cost_int == flow.cost_int
    # Ties of the jittered objective are possible (measured: about 1 in 60 of these instances,
    # whose ranks are often 1-2): then each method may return another optimum.
    assert np.array_equal(lsa.line_of, flow.line_of) or _another_optimum(problem, flow)


def test_pure_assignment_uses_it_and_proves_the_optimum() -> None:
    inp = _instance(np.random.default_rng(7), 30, 12, 12, 5, closed=0.0)
    out = solve_checked(inp)
    assert out.status == "COMPLETED"
    meta = out.metadata
    assert meta["method"] == "linear_sum_assignment"
    assert meta["status"] == "OPTIMAL" and meta["gap"] == 0.0 and meta["best_bound"] == meta["objective"]


def test_hall_violation_is_infeasible_and_explained() -> None:
    # Seats enough in total, but w1 and w2 may only take line a, which has one seat.
    only_a = [Eligibility(ln, included_workers=F({"w3"})) for ln in ("b", "c")]
    inp = make_input({"w1": {"a": 1}, "w2": {"a": 1}, "w3": {"a": 1}}, {"a": 1, "b": 2, "c": 2}, eligibility=only_a)
    problem = build_problem(inp)
    plan = plan_assignment(problem)
    assert plan is not None and solve_assignment(problem, plan) is None
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE" and out.metadata["method"] == "linear_sum_assignment"
    assert out.error is not None and "eligible only for job lines with 1 seat(s)" in out.error


def test_side_constraints_keep_the_flow() -> None:
    ranks = {f"w{i}": {"a": 1, "b": 2, "c": 3} for i in range(4)}
    lines = {"a": 2, "b": 2, "c": 2}
    must = build_problem(make_input(ranks, lines, must=["c"]))
    capped = build_problem(
        make_input(ranks, lines, preferencers=[Preferencer("s", "S", max_workers=1)], line_preferencers=[("a", "s")])
    )
    stable = build_problem(make_input(ranks, lines, config={"stability": "weak"}))
    for problem in (must, capped, stable):
        assert plan_assignment(problem) is None
    assert solve_checked(make_input(ranks, lines, must=["c"])).metadata["method"] == "min_cost_flow"


def test_many_seats_per_line_keep_the_flow() -> None:
    n = 2 * (MAX_SEATS_PER_LINE + 1)
    ranks = {f"w{i:02d}": {"a": 1, "b": 2} for i in range(n)}
    lines = {"a": MAX_SEATS_PER_LINE + 1, "b": MAX_SEATS_PER_LINE + 1}
    assert plan_assignment(build_problem(make_input(ranks, lines))) is None
    assert solve_checked(make_input(ranks, lines)).metadata["method"] == "min_cost_flow"


def test_costs_too_wide_for_exact_doubles_keep_the_flow() -> None:
    n_w = 20
    problem = build_problem(make_input({f"w{i:02d}": {} for i in range(n_w)}, dict.fromkeys("abcd", 5)))
    # Path costs reach (2n + 1) x the widest row range: up to 41 x 2^47 < 2^53 they are exact
    # in doubles, from 41 x 2^48 > 2^53 on they may not be.
    for width, applies in ((2**47, True), (2**48, False)):
        cost_int = np.zeros_like(problem.cost_int)
        cost_int[:, 0] = width
        assert (plan_assignment(replace(problem, cost_int=cost_int)) is not None) is applies


def test_rows_far_apart_are_reduced_row_by_row() -> None:
    # All costs together span 19 x 2^47 (too wide), each row only its jitter: taking each
    # row's least cost off first makes the solve exact again.
    problem = build_problem(make_input({f"w{i:02d}": {} for i in range(20)}, dict.fromkeys("abcd", 5)))
    offsets = np.arange(problem.n_workers, dtype=np.int64)[:, None] * 2**47
    far = replace(problem, cost_int=problem.cost_int + offsets)
    plan = plan_assignment(far)
    assert plan is not None and plan.row_min is not None
    lsa, flow = solve_assignment(far, plan), solve_flow(far)
    assert lsa is not None and flow is not None
    assert np.array_equal(lsa.line_of, flow.line_of)
    plain = plan_assignment(problem)
    assert plain is not None and plain.row_min is None  # near costs: no reduction needed
