"""State templates, their selection by state + cohort, and NAME=k overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from daemon.checks.planner import check_lines
from daemon.planner.data import Position
from daemon.planner.rules import Rule, resolve
from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.qld import AtMostTwoCategories
from daemon.planner.solve import solve
from daemon.solving import BadInput, SolveContext
from tests.planner.factory import (
    VIC_TERMS,
    count_held,
    filler,
    held,
    lines_of,
    pos,
    rejected_without,
    run,
    solve_checked,
)

ABC = ("A", "B", "C")


def _vic_case() -> list[Position]:
    """Five general posts in demand; Medicine, Surgery and ED only as excludable posts."""
    return [pos(f"g{k}") for k in range(5)] + [
        filler("med", "Medicine"),
        filler("surg", " surgery"),  # specialties compare case- and space-insensitively
        filler("ed", "Emergency Medicine"),
    ]


def test_vic_pgy1_needs_medicine_surgery_and_emergency() -> None:
    inp = run(_vic_case(), term_structure=VIC_TERMS)
    out, rejected = rejected_without(inp, ("VIC_PGY1",))
    assert {"med", "surg", "ed"} <= set(held(lines_of(out)[0]))
    assert any("no medicine term" in v for v in rejected)


def test_state_and_cohort_select_the_template() -> None:
    inp = run(_vic_case(), term_structure=VIC_TERMS, state="VIC", cohort="PGY1")
    out = solve_checked(inp)
    assert out.metadata["rules"] == ["VIC_PGY1", "UNRESTRICTED"]
    assert {"med", "surg", "ed"} <= set(held(lines_of(out)[0]))


def test_vic_pgy1_needs_its_term_structure() -> None:
    inp = run(_vic_case(), constraints=("VIC_PGY1",))
    with pytest.raises(BadInput, match="10/10/10/10/12"):
        solve(inp, SolveContext())


def _parts(rules: Sequence[Rule]) -> list[tuple[str, tuple[object, ...]]]:
    """Rules without the name that brought them in."""
    return [(type(r).__name__, tuple(v for k, v in vars(r).items() if k != "source")) for r in rules]


@pytest.mark.parametrize("state", ["SA", "WA", "TAS", "NT"])
def test_baseline_states_are_the_amc_rules(state: str) -> None:
    assert _parts(resolve([], state, "PGY1").rules) == _parts(amc_pgy1())
    assert _parts(resolve([], state, "PGY2").rules) == _parts(amc_pgy2())


def test_qld_is_the_amc_rules_and_pmaq_category_limit() -> None:
    assert _parts(resolve([], "QLD", "PGY1").rules) == _parts([*amc_pgy1(), AtMostTwoCategories("")])
    assert _parts(resolve([], "QLD", "PGY2").rules) == _parts([*amc_pgy2(), AtMostTwoCategories("")])


@pytest.mark.parametrize("cohort", ["PGY1", "PGY2"])
def test_qld_post_with_three_categories_is_bad_input(cohort: str) -> None:
    # PMAQ accredits a term for at most two categories: the posts at fault are named, every one.
    two = ("A", "B")
    positions = [pos("ok", experience_categories=two), pos("Ward 3", experience_categories=ABC), pos("Ward 4")]
    inp = run(positions + [filler(f"x{k}", experience_categories=two) for k in range(3)], state="QLD", cohort=cohort)
    with pytest.raises(BadInput, match=r"at most 2 experience categories.*Ward 3 \(ABC\), Ward 4 \(ABCD\)$"):
        solve(inp, SolveContext())
    # Elsewhere such a post is fine; and under QLD_* the checker rejects a line holding one.
    lines = lines_of(solve_checked(replace(inp, state="SA")))
    qld = replace(inp, state="UNRESTRICTED", constraints=(f"QLD_{cohort}",))
    assert any("Ward 4 lists more than 2 experience categories" in v for v in check_lines(qld, lines))


@pytest.mark.parametrize("cohort", ["HMO3", "pgy3", "PGY4", "HMO5"])
def test_senior_cohorts_get_the_always_on_rules_only(cohort: str) -> None:
    # HMO3 / PGY3 and later: no accreditation template (one specialty all year is allowed).
    assert resolve([], "VIC", cohort).rules == ()
    assert resolve(["NO_NIGHTS"], "QLD", cohort).names == ("NO_NIGHTS",)
    inp = run([pos(f"m{k}", "Medicine", experience_categories=("A",)) for k in range(4)], state="NSW", cohort=cohort)
    out = solve_checked(inp)
    assert sorted(held(lines_of(out)[0])) == ["m0", "m1", "m2", "m3"]
    assert out.metadata["rules"] == ["UNRESTRICTED"]


def test_vic_pgy2_is_amc_pgy2_and_pmcvs_six_month_terms() -> None:
    """Only the 6-month terms differ (tests/planner/test_rules_six_month.py): the subspecialty
    cap exempts them, and two rules of their own."""
    vic = _parts(resolve(["VIC_PGY2"], "UNRESTRICTED", "ANY").rules)
    amc = [
        ("ShareCap", ("subspecialty", 25, True)) if p == ("ShareCap", ("subspecialty", 25, False)) else p
        for p in _parts(amc_pgy2())
    ]
    assert vic == [*amc, ("SixMonthOnApprovedPosts", ()), ("CategoriesOutsideSixMonthTerms", (("A", "B", "C"),))]


def _nsw_case() -> list[Position]:
    """Two service posts in demand; two 6-week terms fit both within AMC_PGY2's 25%."""
    return [pos(f"s{k}", is_service_term=True, experience_categories=ABC) for k in range(2)] + [
        filler(f"x{k}", experience_categories=ABC) for k in range(4)
    ]


NSW_TERMS = (6, 6, 10, 15, 15)


def test_nsw_allows_one_service_term() -> None:
    inp = run(_nsw_case(), term_structure=NSW_TERMS)
    out, rejected = rejected_without(inp, ("NSW_PGY2",), base=("AMC_PGY2",))
    assert count_held(inp, lines_of(out)[0], "is_service_term") == 1
    assert any("2 service terms (at most 1)" in v for v in rejected)


def test_max_service_terms_overrides_the_template() -> None:
    inp = run(_nsw_case(), term_structure=NSW_TERMS, constraints=("NSW_PGY2", "MAX_SERVICE_TERMS=2"))
    assert count_held(inp, lines_of(solve_checked(inp))[0], "is_service_term") == 2


def test_nsw_needs_five_terms_unless_num_terms_overrides() -> None:
    inp = run([pos(f"p{k}", experience_categories=ABC) for k in range(4)], constraints=("NSW_PGY2",))
    with pytest.raises(BadInput, match="exactly 5 terms"):
        solve(inp, SolveContext())
    lines_of(solve_checked(replace(inp, constraints=("NSW_PGY2", "NUM_TERMS=4"))))


@pytest.mark.parametrize(
    ("state", "cohort", "message"),
    [("XYZ", "PGY1", "unknown state 'XYZ'"), ("VIC", "ANY", "PGY1 or PGY2"), ("NSW", "HMO2", "PGY1 or PGY2")],
)
def test_state_needs_a_known_template(state: str, cohort: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        resolve([], state, cohort)
