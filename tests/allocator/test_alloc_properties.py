"""Property tests: the solver's optimum equals independent references on random instances.

- tiny instances with every rule switched on at random, against brute force over all
  assignments (feasibility and objective judged by the independent checker);
- capacity-1 (and seat-expanded) instances against scipy's linear_sum_assignment.
Objectives are compared within the documented rounding bound.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from daemon.allocator.data import AllocatorInput
from daemon.allocator.problem import Allocation
from daemon.checks.allocation import check_allocation, counted_if_unassigned
from tests.allocator.alloc_factory import make_input, solve_checked
from tests.allocator.alloc_strategies import SETTINGS, tiny_instances


def _brute_force(inp: AllocatorInput) -> float | None:
    """The least objective over all assignments the checker accepts; None if none."""
    best: float | None = None
    for choice in itertools.product(inp.line_ids, repeat=len(inp.worker_ids)):
        rows = [Allocation(w, ln, None, 0.0) for w, ln in zip(inp.worker_ids, choice, strict=True)]
        result = check_allocation(inp, rows)
        # The placeholder rank/cost fields are wrong on purpose: ignore those reports only.
        real = [v for v in result.violations if ": worker_rank" not in v and ": dissatisfaction" not in v]
        if not real and (best is None or result.objective < best):
            best = result.objective
    return best


@SETTINGS
@given(tiny_instances())
def test_optimum_equals_brute_force(inp: AllocatorInput) -> None:
    out = solve_checked(inp)
    event(f"{out.status} by {out.metadata.get('method')}")
    expected = _brute_force(inp)
    if expected is None:
        assert out.status == "INFEASIBLE", out.metadata
        assert out.error
        return
    assert out.status == "COMPLETED", out.error
    assert out.metadata["status"] == "OPTIMAL"
    bound = out.metadata["rounding_error_bound"]
    assert expected - 1e-9 <= out.metadata["objective"] <= expected + bound + 1e-9


def _reference_ranks(prefs: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """Fractional ranks by scipy's rankdata, the budget by SPEC §4's formula."""
    n_l = prefs.shape[1]
    out = np.zeros(prefs.shape)
    for w in range(prefs.shape[0]):
        mask = ranked[w]
        out[w, mask] = rankdata(prefs[w, mask], method="average")
        if (~mask).any():
            out[w, ~mask] = (n_l * (n_l + 1) / 2 - out[w, mask].sum()) / (~mask).sum()
    return out


@SETTINGS
@given(
    st.integers(1, 12).flatmap(
        lambda n_w: st.tuples(
            st.just(n_w),
            st.lists(st.integers(1, 3), min_size=1, max_size=12).filter(lambda caps: sum(caps) >= n_w),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_optimum_equals_linear_sum_assignment(case: tuple[int, list[int], int]) -> None:
    n_w, caps, seed = case
    rng = np.random.default_rng(seed)
    n_l = len(caps)
    prefs = rng.integers(1, n_l + 1, size=(n_w, n_l)).astype(float)  # ties likely
    ranked = rng.random((n_w, n_l)) < 0.8
    workers = [f"w{i:02d}" for i in range(n_w)]
    lines = [f"l{j:02d}" for j in range(n_l)]
    ranks = {w: {ln: prefs[i, j] for j, ln in enumerate(lines) if ranked[i, j]} for i, w in enumerate(workers)}
    power = float(rng.choice([1.0, 2.0]))
    inp = make_input(
        ranks,
        dict(zip(lines, caps, strict=True)),
        workers=workers,
        config={"preferencer_weight": 0, "preference_power": power},
    )
    out = solve_checked(inp)
    assert out.metadata["method"] == "linear_sum_assignment"
    cost = _reference_ranks(prefs, ranked) ** power
    seats = np.repeat(np.arange(n_l), caps)  # one column per seat
    rows, cols = linear_sum_assignment(cost[:, seats])
    expected = float(cost[:, seats][rows, cols].sum())
    bound = out.metadata["rounding_error_bound"]
    assert expected - 1e-9 <= out.metadata["objective"] <= expected + bound + 1e-9


def _brute_force_unassigned(inp: AllocatorInput) -> tuple[int, float] | None:
    """Fewest unassigned among the workers whose leaving out counts (SPEC §4.1: a placement
    within the penalty exists), then least objective (penalties included), over every choice
    of a line or "unassigned" (None) per worker the checker accepts; None if none is."""
    counted = counted_if_unassigned(inp)
    best: tuple[int, float] | None = None
    for choice in itertools.product([*inp.line_ids, None], repeat=len(inp.worker_ids)):
        rows = [Allocation(w, ln, None, 0.0) for w, ln in zip(inp.worker_ids, choice, strict=True) if ln is not None]
        result = check_allocation(inp, rows)
        real = [v for v in result.violations if ": worker_rank" not in v and ": dissatisfaction" not in v]
        left_out = [w for w, ln in zip(inp.worker_ids, choice, strict=True) if ln is None]
        key = (sum(w in counted for w in left_out), result.objective)
        if not real and (best is None or key < best):
            best = key
    return best


@SETTINGS
@given(tiny_instances(), st.none() | st.sampled_from([0.0, 0.5, 2.0, 50.0]))
def test_optimum_with_unassigned_equals_brute_force(inp: AllocatorInput, penalty: float | None) -> None:
    config = {**inp.config, "allow_unassigned": True}
    if penalty is not None:
        config["unassigned_penalty"] = penalty
    inp = dataclasses.replace(inp, config=config)
    out = solve_checked(inp)
    event(f"{out.status} by {out.metadata.get('method')}, {out.metadata.get('n_unassigned')} unassigned")
    expected = _brute_force_unassigned(inp)
    if expected is None:  # must-have lines or caps, which leaving workers out cannot help
        assert out.status == "INFEASIBLE", out.metadata
        return
    assert out.status == "COMPLETED", out.error
    assert out.metadata["status"] == "OPTIMAL"
    count, objective = expected
    counted = counted_if_unassigned(inp)
    left_out = set(inp.worker_ids) - {a.worker for a in out.payload.allocations}
    assert len(left_out & counted) == count
    assert out.metadata["n_unassigned"] == len(left_out)
    bound = out.metadata["rounding_error_bound"]
    assert objective - 1e-9 <= out.metadata["objective"] <= objective + bound + 1e-9
