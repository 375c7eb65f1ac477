"""The independent checker catches each kind of broken allocation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer, Weighting
from daemon.allocator.problem import Allocation
from daemon.allocator.solve import _solve, solve
from daemon.checks import allocation
from daemon.checks.allocation import _held_ranks, _Ranks, _round9, check_allocation
from daemon.solving import SolveContext
from tests.allocator.alloc_factory import make_input, solve_checked
from tests.allocator.alloc_strategies import SETTINGS

RANKS = {"w1": {"a": 1, "b": 2}, "w2": {"a": 1, "b": 2}, "w3": {"b": 1, "a": 2}}


def _inp(**kw: Any) -> AllocatorInput:
    return make_input(RANKS, {"a": 1, "b": 2, "c": 1}, config={"preferencer_weight": 0}, **kw)


def _row(worker: str, line: str) -> Allocation:
    """A row with the right rank and cost (alpha 0), so only the rule under test is broken."""
    rank = RANKS[worker].get(line)
    # Each worker ranks 2 of 3 lines: the third is at the budget (1+2+3 - 3) / 1 = 3.
    return Allocation(worker, line, None if rank is None else float(rank), 3.0 if rank is None else float(rank))


def test_a_solver_result_passes() -> None:
    inp = _inp()
    out = solve_checked(inp)
    result = check_allocation(inp, out.payload.allocations)
    assert result.ok and result.objective == pytest.approx(out.metadata["objective"])


def test_recomputes_the_objective() -> None:
    inp = _inp()
    rows = [_row("w1", "a"), _row("w2", "b"), _row("w3", "b")]
    result = check_allocation(inp, rows)
    assert result.ok, result.violations
    assert result.objective == 1 + 2 + 1


@pytest.mark.parametrize(
    ("rows", "kw", "expected"),
    [
        ([("w1", "a"), ("w2", "b")], {}, "worker w3 is not allocated"),
        (
            [("w1", "a"), ("w2", "b"), ("w3", "b"), ("w1", "b")],
            {},
            "w1 is allocated more than once",
        ),
        ([("w1", "a"), ("w2", "b"), ("w3", "zz")], {}, "job line zz, not in the run"),
        ([("w1", "a"), ("w2", "a"), ("w3", "b")], {}, "job line a has 2 workers for 1 seats"),
        (
            [("w1", "a"), ("w2", "b"), ("w3", "b")],
            {"taken": {"b": 1}},
            "job line b has 2 workers for 1 seats",
        ),
        ([("w1", "a"), ("w2", "b"), ("w3", "b")], {"must": ["c"]}, "must-have job line c"),
        (
            [("w1", "a"), ("w2", "b"), ("w3", "b")],
            {"eligibility": [Eligibility("a", excluded_workers=frozenset({"w1"}))]},
            "worker w1 is not eligible for job line a",
        ),
        (
            [("w1", "a"), ("w2", "b"), ("w3", "b")],
            {
                "preferencers": [Preferencer("s", "S", max_workers=2)],
                "line_preferencers": [("a", "s"), ("b", "s")],
            },
            "preferencer s: 3 new workers on its lines, max 2",
        ),
        (
            [("w1", "a"), ("w2", "b"), ("w3", "b")],
            {
                "preferencers": [Preferencer("s", "S", max_job_lines=1)],
                "line_preferencers": [("a", "s"), ("b", "s")],
            },
            "preferencer s: 2 new lines used, max 1",
        ),
        (
            [("w1", "c"), ("w2", "b"), ("w3", "a")],
            {"config": {"stability": "weak"}},
            "blocking pair: worker w1 and job line b",
        ),
    ],
)
def test_violations_are_named(rows: list[tuple[str, str]], kw: dict[str, Any], expected: str) -> None:
    config = {"preferencer_weight": 0, **kw.pop("config", {})}
    inp = make_input(RANKS, {"a": 1, "b": 2, "c": 1}, config=config, **kw)
    found = check_allocation(inp, [_row(w, ln) for w, ln in rows]).violations
    assert any(expected in v for v in found), found


def test_wrong_rank_or_cost_is_reported() -> None:
    inp = _inp()
    good = [_row("w1", "a"), _row("w2", "b"), _row("w3", "b")]
    bad = [replace(good[0], worker_rank=2.0), replace(good[1], dissatisfaction=9.0), good[2]]
    found = check_allocation(inp, bad).violations
    assert len(found) == 2


def _by_definition(given: dict[str, float], n_items: int) -> tuple[dict[str, float], float]:
    """SPEC's fractional ranks, spelt out: sort, give each tie block the mean of its
    positions; the unranked items share what is left of 1..N."""
    ordered = sorted(given.values())
    frac = {item: (ordered.index(r) + 1 + len(ordered) - ordered[::-1].index(r)) / 2 for item, r in given.items()}
    left = n_items - len(given)
    budget = (n_items * (n_items + 1) / 2 - sum(frac.values())) / left if left else float("nan")
    return frac, budget


@SETTINGS
@given(st.data())
def test_the_checkers_two_rank_computations_are_the_definition(data: st.DataObject) -> None:
    """The production check's counting pass (``_held_ranks``) and its sorted tables
    (``_Ranks``) against the definition: ties, unranked held lines, workers ranking nothing."""
    n_w, n_l = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    workers, lines = [f"w{i}" for i in range(n_w)], [f"l{j}" for j in range(n_l)]
    rank = st.integers(1, 3).map(float)
    ranks = {w: data.draw(st.dictionaries(st.sampled_from(lines), rank)) for w in workers}
    inp = make_input(ranks, dict.fromkeys(lines, 1), workers=workers)
    line_of = {w: data.draw(st.sampled_from(lines)) for w in workers}
    table = _Ranks(inp.worker_prefs, n_w, n_l)
    held = _held_ranks(inp, line_of)
    for i, w in enumerate(inp.worker_ids):
        frac, budget = _by_definition(ranks[w], n_l)
        assert held.get(w) == frac.get(line_of[w])
        for j, line in enumerate(inp.line_ids):
            assert table.given(i, j) == frac.get(line)
            assert table.rank(i, j) == pytest.approx(frac.get(line, budget))


def test_an_unassigned_worker_blocks_with_any_line_with_room() -> None:
    """allow_unassigned: being left out is worse than any eligible line, ranked or not, so a
    line with a spare seat blocks with every worker left out that may take it."""
    inp = make_input(
        {"w1": {"a": 1}, "w2": {"a": 1}},
        {"a": 1, "b": 1},
        config={"stability": "weak", "allow_unassigned": True, "preferencer_weight": 0},
    )
    rows = [Allocation("w1", "a", 1.0, 1.0)]
    assert check_allocation(inp, rows).violations == ("blocking pair: worker w2 and job line b",)


def test_line_views_the_model_ties_after_rounding_are_not_a_blocking_pair() -> None:
    """The model ties a line's views after ``np.round(view, 9)`` (stability.Levels); the checker
    rounded with Python's ``round``, which rounds the exact binary value: 1.5 + 1.4999999e-9
    is 1.500000002 to numpy (a tie with 1.5 + 2e-9) and 1.500000001 to Python. The stable
    allocation the model returns then failed the run with CHECK_FAILED."""
    inp = make_input(
        {"A": {"L": 1, "M": 2}, "B": {"L": 1, "M": 2}},
        {"L": 1, "M": 1},
        config={"stability": "weak"},
        preferencers=[Preferencer("s0", "S0")],
        weightings=[
            Weighting("s0", "A", "L", 1.4999999020659516e-09),
            Weighting("s0", "B", "L", 2e-09),
            Weighting("s0", "B", "M", 100.0),  # B is placed on L
        ],
    )
    raw = _solve(inp, SolveContext())
    assert {a.worker: a.job_line for a in raw.payload.allocations} == {"A": "M", "B": "L"}
    assert check_allocation(inp, raw.payload.allocations).violations == ()
    out = solve(inp, SolveContext())
    assert out.status == "COMPLETED", out.error


def test_the_production_check_does_not_price_every_pair_for_the_default_penalty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With allow_unassigned, a worker left out and no unassigned_penalty, the check computed
    the default penalty over every (worker, line) pair in Python (32 s at 1,500 x 1,500 on this
    machine) only to add it to an objective the solver never reads."""
    inp = make_input(
        {"a": {"x": 1}, "b": {"x": 2}},
        {"x": 1},
        config={"allow_unassigned": True},
    )

    def all_pairs(run: object) -> float:
        raise AssertionError("all-pairs default penalty computed in the production check")

    monkeypatch.setattr(allocation, "_default_penalty", all_pairs)
    out = solve(inp, SolveContext())
    assert out.status == "COMPLETED", out.error
    assert len(out.payload.allocations) == 1


@SETTINGS
@given(st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-(10**6), 10**6).map(lambda k: k / 2e9))
def test_the_checkers_rounding_is_numpys(value: float) -> None:
    assert _round9(value) == float(np.round(value, 9))
