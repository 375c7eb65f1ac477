"""Rank normalisation, the unranked budget and rank validation (SPEC §4, §8)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.stats import rankdata

from daemon.allocator.build import build_problem
from daemon.allocator.costs import _by_counting, _by_sorting, normalise
from daemon.solving import BadInput
from tests.allocator.alloc_factory import make_input, solve_checked
from tests.allocator.alloc_strategies import SETTINGS

LINES = {"a": 1, "b": 1, "c": 1, "d": 1}


def _fractional(ranks: list[float]) -> list[float]:
    n = len(ranks)
    who, what = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    return [float(r) for r in normalise(who, what, np.array(ranks), (1, n)).rank[0]]


@pytest.mark.parametrize(
    "given",
    [
        [1, 1, 3, 4],  # competition
        [1, 1, 2, 3],  # dense
        [1.5, 1.5, 3, 4],  # fractional
        [2, 2, 7, 9],  # gaps (lines left out of the run) close up
    ],
)
def test_every_notation_normalises_to_fractional(given: list[float]) -> None:
    assert _fractional(given) == [1.5, 1.5, 3.0, 4.0]


def test_three_way_tie_shares_the_mean_position() -> None:
    assert _fractional([4, 1, 1, 1]) == [4.0, 2.0, 2.0, 2.0]


def test_rankers_are_normalised_separately_and_unranked_get_the_budget() -> None:
    who = np.array([1, 0, 1, 0], dtype=np.int64)
    what = np.array([0, 1, 2, 2], dtype=np.int64)
    norm = normalise(who, what, np.array([5.0, 2.0, 5.0, 3.0]), (2, 4))
    # row 0 ranks items 1, 2; row 1 ties items 0 and 2; budget (4 + 2 + 1) / 2 = 3.5
    assert norm.rank.tolist() == [[3.5, 1.0, 2.0, 3.5], [1.5, 3.5, 1.5, 3.5]]
    assert norm.ranked.tolist() == [[False, True, True, False], [True, False, True, False]]
    assert norm.tied.tolist() == [[False, False, False, False], [True, False, True, False]]


def test_unranked_lines_share_the_budget() -> None:
    # 4 lines, ranked a=1, b=2: budget (1+2+3+4 - 3) / 2 = 3.5 for c and d.
    problem = build_problem(make_input({"w": {"a": 1, "b": 2}}, LINES))
    assert problem.rank[0].tolist() == [1.0, 2.0, 3.5, 3.5]
    assert problem.ranked[0].tolist() == [True, True, False, False]


def test_worker_who_ranked_nothing_is_indifferent() -> None:
    problem = build_problem(make_input({"w": {}}, LINES))
    assert problem.rank[0].tolist() == [2.5] * 4


def test_solution_reports_normalised_rank_and_none_when_unranked() -> None:
    inp = make_input(
        {"w1": {"a": 1, "b": 1}, "w2": {"a": 1}},
        {"a": 1, "b": 1, "c": 1},
        config={"preferencer_weight": 0},
    )
    rows = {a.worker: a for a in solve_checked(inp).payload.allocations}
    # w1 is indifferent between a and b (1.5 each); w2 wants a: it gets it.
    assert rows["w2"].job_line == "a" and rows["w2"].worker_rank == 1.0
    assert rows["w1"].job_line == "b" and rows["w1"].worker_rank == 1.5


def test_unranked_assignment_has_no_rank() -> None:
    inp = make_input({"w1": {"a": 1}, "w2": {"a": 1}}, {"a": 1, "b": 1})
    ranks = sorted((a.worker_rank is None) for a in solve_checked(inp).payload.allocations)
    assert ranks == [False, True]


def test_ties_rejected_when_disallowed() -> None:
    inp = make_input({"w1": {"a": 1, "b": 1}}, LINES, config={"allow_worker_preference_ties": False})
    with pytest.raises(BadInput, match=r"tied .*\(w1, a, rank 1\)"):
        build_problem(inp)


def test_ties_accepted_by_default() -> None:
    problem = build_problem(make_input({"w1": {"a": 1, "b": 1}}, LINES))
    rank = dict(zip(problem.line_ids, problem.rank[0].tolist(), strict=True))
    # Kept as a tie, not broken: both share the mean of ranks 1 and 2.
    assert rank["a"] == rank["b"] == 1.5


@pytest.mark.parametrize("rank", [0.0, -1.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_rank_is_named(rank: float) -> None:
    with pytest.raises(BadInput, match=r"\(w1, b,"):
        build_problem(make_input({"w1": {"a": 1, "b": rank}}, LINES))


def test_fractional_rank_needs_fractional_notation() -> None:
    inp = make_input({"w1": {"a": 1.5, "b": 1.5}}, LINES)
    with pytest.raises(BadInput, match="rank_notation"):
        build_problem(inp)
    build_problem(make_input({"w1": {"a": 1.5, "b": 1.5}}, LINES, config={"rank_notation": "fractional"}))


def test_duplicate_pair_is_named() -> None:
    inp = make_input({"w1": {"a": 1}}, LINES)
    prefs = inp.worker_prefs
    doubled = type(prefs)(
        np.concatenate([prefs.who, prefs.who]),
        np.concatenate([prefs.what, prefs.what]),
        np.array([1.0, 2.0]),
    )
    with pytest.raises(BadInput, match=r"more than once.*\(w1, a"):
        build_problem(type(inp)(**{**inp.__dict__, "worker_prefs": doubled}))


def test_rows_outside_the_run_are_rejected() -> None:
    inp = make_input({"w1": {"a": 1}}, LINES)
    prefs = inp.worker_prefs
    outside = type(prefs)(prefs.who, prefs.what + 10, prefs.rank)
    with pytest.raises(BadInput, match="outside the run"):
        build_problem(type(inp)(**{**inp.__dict__, "worker_prefs": outside}))


@SETTINGS
@given(
    st.integers(1, 6),
    st.integers(1, 8),
    st.sampled_from(["whole", "halves", "any", "large"]),
    st.integers(0, 2**32 - 1),
)
def test_counting_and_sorting_agree_with_rankdata(n_rows: int, n_cols: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ranks = {
        "whole": rng.integers(1, 4, size=(n_rows, n_cols)).astype(float),
        "halves": rng.integers(1, 8, size=(n_rows, n_cols)) / 2.0,
        "any": rng.choice([0.3, 1.0, 1.7, 2.0], size=(n_rows, n_cols)),
        "large": rng.choice([1.0, 50.0, 1e6], size=(n_rows, n_cols)),
    }[kind]
    given = rng.random((n_rows, n_cols)) < 0.7
    who, what = (idx.astype(np.int64) for idx in np.nonzero(given))
    norm = normalise(who, what, ranks[who, what], (n_rows, n_cols))
    for w in range(n_rows):
        row = ranks[w, given[w]]
        assert norm.rank[w, given[w]].tolist() == rankdata(row, method="average").tolist()
        assert norm.tied[w, given[w]].tolist() == [bool((row == r).sum() > 1) for r in row]
    sorted_ = _by_sorting(who * n_cols + what, ranks[who, what], (n_rows, n_cols))
    counted = _by_counting(who, ranks[who, what], n_rows, n_cols)
    if counted is not None:
        assert counted[0].tolist() == sorted_[0].tolist() and counted[1].tolist() == sorted_[1].tolist()
    event("counted" if counted is not None else "sorted")
