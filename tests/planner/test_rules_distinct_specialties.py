"""AMC's long terms in different specialties (PMCV's wording): parent specialties for PGY1,
subspecialties for PGY2 (a post with none counts as its parent specialty)."""

from __future__ import annotations

from dataclasses import replace

from daemon.planner.rules.distinct_specialties import DistinctLongTerms
from daemon.planner.solve import solve
from daemon.solving import SolveContext
from tests.planner.factory import filler, held, lines_of, pos, rejected_without, run, solve_checked

ABC = ("A", "B", "C")


def test_pgy1_long_terms_in_four_different_parent_specialties() -> None:
    # Two Medicine posts in demand: 26 of 52 weeks passes the 50% cap, but then the four
    # 13-week terms are in three specialties only.
    inp = run([pos("m0", "Medicine"), pos("m1", " medicine")] + [filler(f"x{k}") for k in range(3)])
    out, rejected = rejected_without(inp, ("AMC_PGY1",))
    assert sum(pid.startswith("m") for pid in held(lines_of(out)[0])) == 1
    assert any("fewer than 4 terms of 10 weeks or more in different parent specialties" in v for v in rejected)


def test_pgy2_long_terms_in_three_different_subspecialties() -> None:
    # Two Emergency posts with no subspecialty: the 25% subspecialty cap does not group them,
    # but they are one subspecialty (their parent's) for the distinct long terms.
    inp = run(
        [pos(f"e{k}", "Emergency Medicine", experience_categories=ABC) for k in range(2)]
        + [filler(f"x{k}", experience_categories=ABC) for k in range(2)],
        term_structure=(17, 17, 18),
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",))
    assert sum(pid.startswith("e") for pid in held(lines_of(out)[0])) == 1
    assert any("fewer than 3 terms of 10 weeks or more in different subspecialties" in v for v in rejected)


def test_pgy2_subspecialties_of_one_parent_are_different() -> None:
    inp = run(
        [
            pos("card", "Medicine", subspecialty="Cardiology", experience_categories=ABC),
            pos("resp", "Medicine", subspecialty="Respiratory", experience_categories=ABC),
            pos("gen", "Medicine", experience_categories=ABC),
            filler("x", experience_categories=ABC),
        ],
        constraints=("AMC_PGY2",),
    )
    assert {"card", "resp", "gen"} <= set(held(lines_of(solve_checked(inp))[0]))


def test_short_terms_do_not_count() -> None:
    # Cardiology and Respiratory are open only in the 8-week terms: they do not make the long
    # terms, where only Medicine and the fillers are open, different.
    long, short = (1, 1, 1, 0, 0), (0, 0, 0, 1, 1)
    inp = run(
        [pos(f"g{k}", "Medicine", capacity_by_term=long, experience_categories=ABC) for k in range(2)]
        + [pos(s, "Medicine", subspecialty=s, capacity_by_term=short, experience_categories=ABC) for s in ("c", "r")]
        + [filler(f"x{k}", experience_categories=ABC) for k in range(2)],
        term_structure=(12, 12, 12, 8, 8),
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",))
    assert sum(pid.startswith("g") for pid in held(lines_of(out)[0])) == 1
    assert any("fewer than 3 terms of 10 weeks or more in different subspecialties" in v for v in rejected)


def test_too_few_specialties_is_diagnosed_by_name() -> None:
    inp = run([pos(f"m{k}", "Medicine", capacity=2) for k in range(2)] + [pos("s", "Surgery"), pos("e", "ED")])
    out = solve(replace(inp, constraints=("AMC_PGY1",)), SolveContext())
    assert out.status == "INFEASIBLE"
    assert "AMC_PGY1: at least 4 terms of 10 weeks or more in different parent specialties" in (out.error or "")
    assert "terms of 10 weeks or more are offered in 3 parent specialties" in (out.error or "")


def test_every_amc_template_has_the_rule() -> None:
    from daemon.planner.rules import resolve

    for state in ("AMC", "VIC", "NSW", "QLD", "SA", "WA", "TAS", "NT"):
        for cohort, attribute, count in (("PGY1", "parent_specialty", 4), ("PGY2", "subspecialty", 3)):
            rules = [r for r in resolve([], state, cohort).rules if isinstance(r, DistinctLongTerms)]
            assert [(r.attribute, r.count) for r in rules] == [(attribute, count)], (state, cohort)


def test_a_six_month_term_is_one_term_of_its_specialty() -> None:
    # "a" wanted in terms 1-2 as a 6-month term (13 + 13 weeks) is one "A" term: terms 3-4 then
    # need two more specialties, so one of the "B" posts gives way to "c". (Two short terms,
    # 6 + 6 weeks, are never one long term: test_rules_six_month.)
    inp = run(
        [
            pos("a", "A", capacity_by_term=(1, 1, 0, 0), experience_categories=ABC),
            filler("other", "B", capacity_by_term=(0, 1, 0, 0), experience_categories=ABC),
            pos("b1", "B", capacity_by_term=(0, 0, 1, 0), experience_categories=ABC),
            pos("b2", "B", capacity_by_term=(0, 0, 0, 1), experience_categories=ABC),
            filler("c", "C", capacity_by_term=(0, 0, 1, 1), experience_categories=ABC),
        ]
    )
    out, rejected = rejected_without(inp, ("AMC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    terms = held(lines_of(out)[0])
    assert terms[:2] == ["a", "a"] and "c" in terms
    assert any("fewer than 3 terms of 10 weeks or more in different subspecialties" in v for v in rejected)
