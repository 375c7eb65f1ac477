"""AMC_PGY1 / AMC_PGY2, part by part: each case makes one part bind (demand pushes the free
solve into breaking it), the solution keeps it, and the checker rejects the free solution."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from daemon.planner.solve import solve
from daemon.solving import BadInput, SolveContext
from tests.planner.factory import count_held, filler, held, lines_of, pos, rejected_without, run

ABC = ("A", "B", "C")


def test_every_category_is_covered() -> None:
    inp = run(
        [pos(f"r{k}", experience_categories=ABC) for k in range(4)]
        + [filler("procedural", experience_categories=("D",))]
    )
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert "procedural" in held(lines_of(out)[0])
    assert any("no category D term" in v for v in rejected)


def test_at_most_half_the_year_in_one_parent_specialty() -> None:
    # In a 52-week year the four long terms in different specialties leave one specialty at
    # most 22 weeks, so the 50% cap never binds on its own any more; the checker still reads it.
    inp = run([pos(f"m{k}", "Medicine") for k in range(3)] + [filler("x0"), filler("x1"), filler("x2")])
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert sum(pid.startswith("m") for pid in held(lines_of(out)[0])) == 1
    assert any("50% of the year in parent_specialty medicine" in v for v in rejected)


def test_at_most_a_quarter_in_one_subspecialty() -> None:
    inp = run(
        [pos(f"c{k}", "Medicine", subspecialty="Cardiology") for k in range(2)] + [filler(f"x{k}") for k in range(3)]
    )
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert sum(pid.startswith("c") for pid in held(lines_of(out)[0])) == 1
    assert any("25% of the year in subspecialty cardiology" in v for v in rejected)


def test_service_share_with_the_one_term_exception() -> None:
    # A 13-week service term is 25% of the year, over AMC_PGY1's 20%: allowed once, as the
    # exception for years of four or more terms; a second is not.
    inp = run([pos(f"s{k}", is_service_term=True) for k in range(2)] + [filler(f"x{k}") for k in range(3)])
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert count_held(inp, lines_of(out)[0], "is_service_term") == 1
    assert any("20% of the year in service terms" in v for v in rejected)


def test_no_service_exception_below_four_terms() -> None:
    inp = run(
        [pos("s", is_service_term=True, experience_categories=ABC)]
        + [filler(f"x{k}", experience_categories=ABC) for k in range(3)],
        term_structure=(17, 17, 18),
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",))
    assert count_held(inp, lines_of(out)[0], "is_service_term") == 0
    assert any("25% of the year in service terms" in v for v in rejected)


def test_at_least_half_the_year_team_based() -> None:
    inp = run([pos(f"w{k}", is_team_based=False) for k in range(3)] + [filler("t0"), filler("t1")])
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert count_held(inp, lines_of(out)[0], "is_team_based") == 2
    assert any("less than 50% of the year in team-based terms" in v for v in rejected)


def test_pgy2_at_most_one_non_clinical_term() -> None:
    inp = run(
        [pos(f"n{k}", is_non_clinical=True, experience_categories=ABC) for k in range(2)]
        + [filler(f"x{k}", experience_categories=ABC) for k in range(3)]
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",))
    assert count_held(inp, lines_of(out)[0], "is_non_clinical") == 1
    assert any("2 non-clinical terms (at most 1)" in v for v in rejected)


def test_six_month_terms_count_once_towards_the_term_minimum() -> None:
    # Two 6-month terms would leave two terms: AMC_PGY2 needs three.
    inp = run(
        [
            pos("x", capacity_by_term=(1, 1, 0, 0)),
            pos("y", capacity_by_term=(0, 0, 1, 1)),
            filler("f", capacity_by_term=(0, 1, 0, 1)),
        ]
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    assert sorted(held(lines_of(out)[0])).count("f") == 1
    assert any("fewer than 3 terms of 10 weeks" in v for v in rejected)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"term_structure": (8, 8, 8, 28)}, "at least 4 terms of 10 weeks or more"),
        ({"leave_weeks": 6}, "at least 47 clinical weeks"),
    ],
)
def test_run_parameters_that_break_the_template(fields: dict[str, Any], message: str) -> None:
    inp = replace(run([pos(f"p{k}") for k in range(5)], constraints=("AMC_PGY1",)), **fields)
    with pytest.raises(BadInput, match=message):
        solve(inp, SolveContext())
