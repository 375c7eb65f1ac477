"""Soft goals: diversity between lines and specialty affinity, each reported separately."""

from __future__ import annotations

import itertools

from tests.planner.factory import held, lines_of, pos, run, solve_checked


def test_lines_differ_from_each_other() -> None:
    # Room for identical lines (two seats per post), but four lines can all differ everywhere.
    out = solve_checked(run([pos(p, capacity=2) for p in "abcd"], n=4))
    diversity = out.metadata["soft_goals"]["diversity"]
    assert diversity["identical_pairs"] == 0
    assert diversity["min_hamming"] == 4
    assert diversity["nearby_shared_terms"] == 0


def test_specialty_affinity_pairs_consecutive_terms() -> None:
    inp = run(
        [pos("gas", "Anaesthetics"), pos("icu", "ICU"), pos("x", "X"), pos("y", "Y")],
        specialty_affinity=(("anaesthetics", "icu", 50), ("X", "Y", -50)),
    )
    out = solve_checked(inp)
    terms = held(lines_of(out)[0])
    pairs = {frozenset(p) for p in itertools.pairwise(terms)}
    assert frozenset({"gas", "icu"}) in pairs
    assert frozenset({"x", "y"}) not in pairs
    assert out.metadata["soft_goals"]["affinity"]["score"] == 50


def test_demand_is_reported_with_its_proof_apart_from_the_soft_goals() -> None:
    # Two seats per post, four lines: every seat of every term filled (proven by the counts)
    # however the soft goals turn out; the soft score has its own, weak, bound.
    out = solve_checked(run([pos(p, capacity=2) for p in "abcd"], n=6))
    meta = out.metadata
    assert meta["demand"] == {
        "lines_requested": 6,
        "lines_built": 6,
        "lines_proven_most": True,
        "required_seats_unfilled": 2 * 4 * 4 - 6 * 4,
        "required_seats_unfilled_proven_least": True,
        "proven_optimal": True,
    }
    soft = meta["soft_goals"]
    lines = sorted(tuple(held(line)) for line in lines_of(out))
    same = [
        sum(x == y for x, y in zip(lines[a], lines[b], strict=True))
        for a in range(6)
        for b in range(a + 1, min(6, a + 5))
    ]
    # Ten per term shared by lines up to four apart in order; identical lines pay double.
    assert soft["score"] == 10 * sum(s + (4 if s == 4 else 0) for s in same)
    assert soft["score_bound"] <= soft["score"]
    assert "not a measure of the plan" in soft["score_note"]


def test_a_short_run_says_its_line_count_is_proven() -> None:
    out = solve_checked(run([pos(p) for p in "abcd"], n=5))
    assert out.metadata["demand"]["lines_built"] == 4
    assert out.metadata["demand"]["lines_proven_most"] is True


def test_identical_lines_pay_double_in_the_soft_score() -> None:
    # Each post open in one term only: both lines must be the same.
    out = solve_checked(
        run([pos(f"p{t}", capacity_by_term=tuple(2 * (u == t) for u in range(4))) for t in range(4)], n=2)
    )
    assert out.metadata["soft_goals"]["diversity"]["identical_pairs"] == 1
    assert out.metadata["soft_goals"]["score"] == 10 * (4 + 4)
