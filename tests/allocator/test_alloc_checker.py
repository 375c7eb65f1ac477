"""The independent checker catches each kind of broken allocation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer
from daemon.allocator.problem import Allocation
from daemon.checks.allocation import _fractional, _held_ranks, check_allocation
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


@SETTINGS
@given(st.data())
def test_held_ranks_by_counting_are_the_plain_tables(data: st.DataObject) -> None:
    """The production check's one pass (``_held_ranks``) against the plain sorted tables
    (``_fractional``): ties, unranked held lines and workers who ranked nothing."""
    n_w, n_l = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    workers, lines = [f"w{i}" for i in range(n_w)], [f"l{j}" for j in range(n_l)]
    rank = st.integers(1, 3).map(float)
    ranks = {w: data.draw(st.dictionaries(st.sampled_from(lines), rank)) for w in workers}
    inp = make_input(ranks, dict.fromkeys(lines, 1), workers=workers)
    line_of = {w: data.draw(st.sampled_from(lines)) for w in workers}
    plain = _fractional(inp.worker_prefs, inp.worker_ids, inp.line_ids)
    expected = {w: plain[w][line] for w, line in line_of.items() if line in plain.get(w, {})}
    assert _held_ranks(inp, line_of) == expected
