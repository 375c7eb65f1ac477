"""Soft goals: diversity between lines and specialty affinity, each reported separately."""

from __future__ import annotations

import itertools

from tests.planner.factory import VIC_TERMS, held, lines_of, pos, run, solve_checked


def test_lines_differ_from_each_other() -> None:
    # Room for identical lines (two seats per post), but four lines can all differ everywhere.
    out = solve_checked(run([pos(p, capacity=2) for p in "abcd"], n=4))
    diversity = out.metadata["soft_goals"]["diversity"]
    assert diversity["identical_pairs"] == 0
    assert diversity["min_hamming"] == 4
    assert diversity["shared_terms_all_pairs"] == 0


def test_diversity_is_over_all_pairs_not_neighbours() -> None:
    # Issue 12's case: 6 large posts and 60 lines. Comparing each line with its 4 neighbours
    # in order left pairs differing in one term only; over all pairs the closest two differ in
    # at least the 3 terms the counts allow (each 3 terms offer 6**3 combinations, 2 only 36).
    out = solve_checked(run([pos(p, capacity=10) for p in "abcdef"], n=60, term_structure=VIC_TERMS, max_seconds=30))
    quality = out.metadata["quality"]
    assert quality["pairs_differing_in_one_term"] == 0
    assert quality["min_pairwise_distance"] >= 2
    # The local search reports where CP-SAT left the lines and where it took them.
    search = out.metadata["soft_goals"]["diversity"]["local_search"]
    assert search["min_distance_after"] == quality["min_pairwise_distance"] >= search["min_distance_before"]


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
    # Six permutations of four posts can differ pairwise in 3 terms (4 would need a term of
    # six posts); with that reached, the score is 10 per term shared, over all pairs.
    assert meta["quality"]["min_pairwise_distance"] == 3
    assert soft["score"] == 10 * soft["diversity"]["shared_terms_all_pairs"]
    assert soft["score_bound"] <= soft["score"]
    assert "not a measure of the plan" in soft["score_note"]


def test_a_short_run_says_its_line_count_is_proven() -> None:
    out = solve_checked(run([pos(p) for p in "abcd"], n=5))
    assert out.metadata["demand"]["lines_built"] == 4
    assert out.metadata["demand"]["lines_proven_most"] is True


def test_lines_the_counts_force_together_cost_only_their_shared_terms() -> None:
    # Each post open in one term only: both lines must be the same, and no distance is asked.
    out = solve_checked(
        run([pos(f"p{t}", capacity_by_term=tuple(2 * (u == t) for u in range(4))) for t in range(4)], n=2)
    )
    assert out.metadata["soft_goals"]["diversity"]["identical_pairs"] == 1
    assert out.metadata["soft_goals"]["score"] == 10 * 4
