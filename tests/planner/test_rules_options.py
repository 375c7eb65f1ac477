"""Option rules: each binds on a case built for it, and the checker rejects what the solver
produces without it (demand for the positions the rule limits pushes the free solve there)."""

from __future__ import annotations

import itertools
from dataclasses import replace

from daemon.checks.planner import check_lines
from daemon.planner.data import Position
from tests.planner.factory import (
    count_held,
    filler,
    held,
    lines_of,
    pos,
    rejected_without,
    run,
    solve_checked,
)


def test_max_one_rural() -> None:
    inp = run([pos(f"rural{k}", is_rural=True) for k in range(4)] + [filler(f"urban{k}") for k in range(4)])
    out, rejected = rejected_without(inp, ("MAX_ONE_RURAL",))
    assert count_held(inp, lines_of(out)[0], "is_rural") == 1
    assert any("rural terms (at most 1)" in v for v in rejected)


def test_max_one_service() -> None:
    inp = run([pos(f"relief{k}", is_service_term=True) for k in range(4)] + [filler(f"ward{k}") for k in range(4)])
    out, rejected = rejected_without(inp, ("MAX_ONE_SERVICE",))
    assert count_held(inp, lines_of(out)[0], "is_service_term") == 1
    assert any("service terms (at most 1)" in v for v in rejected)


def test_max_service_terms_k() -> None:
    inp = run([pos(f"relief{k}", is_service_term=True) for k in range(4)] + [filler(f"ward{k}") for k in range(4)])
    out, rejected = rejected_without(inp, ("MAX_SERVICE_TERMS=2",))
    assert count_held(inp, lines_of(out)[0], "is_service_term") == 2
    assert any("4 service terms (at most 2)" in v for v in rejected)


def test_nights_count_as_service() -> None:
    inp = run([pos(f"nights{k}", is_nights=True) for k in range(4)] + [filler(f"ward{k}") for k in range(4)])
    out = solve_checked(replace(inp, constraints=("MAX_ONE_SERVICE",)))
    assert count_held(inp, lines_of(out)[0], "is_nights") == 1


def test_no_nights() -> None:
    inp = run([pos(f"nights{k}", is_nights=True) for k in range(2)] + [filler(f"ward{k}") for k in range(4)])
    out, rejected = rejected_without(inp, ("NO_NIGHTS",))
    assert count_held(inp, lines_of(out)[0], "is_nights") == 0
    barred = {u["position"] for u in out.metadata["unfilled"] if u["barred"]}
    assert barred == {"nights0", "nights1"}  # reported unfilled, for locums
    assert any("NO_NIGHTS" in v for v in rejected)


def _six_month_case() -> list[Position]:
    """Demand for "long" in terms 1 and 2: one line fills both only as a 6-month term."""
    return [
        pos("long", capacity_by_term=(1, 1, 0, 0)),
        filler("other", capacity_by_term=(0, 1, 0, 0)),
        pos("third", capacity_by_term=(0, 0, 1, 0)),
        pos("fourth", capacity_by_term=(0, 0, 0, 1)),
    ]


def test_allow_six_month_terms() -> None:
    inp = run(_six_month_case())
    once = lines_of(solve_checked(inp))[0]
    assert held(once) == ["long", "other", "third", "fourth"]  # always on: a position once
    six = replace(inp, constraints=("ALLOW_6_MONTH_TERMS",))
    (line,) = lines_of(solve_checked(six))
    assert held(line) == ["long", "long", "third", "fourth"]
    assert any("held in terms [0, 1]" in v for v in check_lines(inp, [line]))


def test_six_month_terms_are_consecutive_only() -> None:
    inp = run([pos("a", capacity_by_term=(1, 0, 1, 0)), filler("b"), filler("c")], constraints=("ALLOW_6_MONTH_TERMS",))
    (line,) = lines_of(solve_checked(inp))
    assert held(line).count("a") == 1


def test_num_terms_k_counts_a_six_month_term_once() -> None:
    inp = run([pos("long", capacity_by_term=(1, 1, 0, 0)), pos("b"), pos("c"), pos("d")])
    out, rejected = rejected_without(inp, ("ALLOW_6_MONTH_TERMS", "NUM_TERMS=3"))
    terms = held(lines_of(out)[0])
    assert len(set(terms)) == 3
    assert any(a == b for a, b in itertools.pairwise(terms))
    assert any("4 terms, not exactly 3" in v for v in rejected)


def test_a_line_holds_a_position_once_and_respects_capacity() -> None:
    inp = run([pos("big", capacity=3), filler("b", capacity=3), filler("c", capacity=3), filler("d", capacity=3)], n=3)
    lines = lines_of(solve_checked(inp))
    assert all(held(line).count("big") == 1 for line in lines)
    fill = solve_checked(inp).metadata["fill"]["big"]
    assert all(f <= 3 for f in fill)


def test_positions_closed_to_the_cohort_are_never_held() -> None:
    inp = run([pos("pgy2_only", cohorts=("PGY2",)), pos("b"), pos("c"), pos("d"), pos("e")], cohort="PGY1")
    out = solve_checked(inp)
    assert "pgy2_only" not in held(lines_of(out)[0])
    assert out.metadata["closed_positions"] == ["pgy2_only"]
