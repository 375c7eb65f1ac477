"""Eligibility, resolved in SPEC §4.4's order: each rule, and what it overrides."""

from __future__ import annotations

import pytest

from daemon.allocator.data import Eligibility
from daemon.allocator.eligibility import eligibility_matrix
from tests.allocator.alloc_factory import make_input, placed, solve_checked

F = frozenset
TAGS = {"w": F({"icu"}), "v": F()}


def _ok(rule: Eligibility, worker: str = "w") -> bool:
    matrix = eligibility_matrix([worker], ["L"], TAGS, [rule])
    return bool(matrix[0, 0])


def test_no_rule_means_eligible() -> None:
    assert eligibility_matrix(["w"], ["L"], TAGS, [])[0, 0]
    assert _ok(Eligibility("L"))


def test_included_worker_beats_everything() -> None:
    rule = Eligibility("L", included_workers=F({"w"}), excluded_workers=F({"w"}), excluded_tags=F({"icu"}))
    assert _ok(rule)


def test_excluded_worker_beats_included_tag() -> None:
    assert not _ok(Eligibility("L", excluded_workers=F({"w"}), included_tags=F({"icu"})))


def test_excluded_tag_beats_included_tag() -> None:
    assert not _ok(Eligibility("L", excluded_tags=F({"icu"}), included_tags=F({"icu"})))


def test_included_tag_makes_eligible() -> None:
    assert _ok(Eligibility("L", included_tags=F({"icu"})))


@pytest.mark.parametrize(
    "rule",
    [
        Eligibility("L", included_tags=F({"surgery"})),
        Eligibility("L", included_workers=F({"someone-else"})),
        Eligibility("L", included_workers=F({"not-in-run"}), excluded_tags=F({"x"})),
    ],
)
def test_include_lists_are_whitelists(rule: Eligibility) -> None:
    assert not _ok(rule)


def test_exclusions_alone_leave_others_eligible() -> None:
    assert _ok(Eligibility("L", excluded_tags=F({"surgery"}), excluded_workers=F({"v"})))


def test_rows_for_one_line_are_merged() -> None:
    rules = [
        Eligibility("L", included_tags=F({"icu"})),
        Eligibility("L", excluded_workers=F({"w"})),
    ]
    assert not eligibility_matrix(["w"], ["L"], TAGS, rules)[0, 0]


def test_rows_for_other_lines_are_ignored() -> None:
    assert eligibility_matrix(["w"], ["L"], TAGS, [Eligibility("M", included_tags=F({"x"}))])[0, 0]


def test_solver_respects_eligibility() -> None:
    # Both want a; only v may have it, though w's claim would be cheaper for the line.
    inp = make_input(
        {"w": {"a": 1, "b": 2}, "v": {"a": 1, "b": 2}},
        {"a": 1, "b": 1},
        eligibility=[Eligibility("a", excluded_tags=F({"icu"}))],
        worker_tags=TAGS,
        config={"rng_seed": 1},
    )
    assert placed(solve_checked(inp)) == {"w": "b", "v": "a"}
