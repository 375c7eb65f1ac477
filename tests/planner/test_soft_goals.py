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
