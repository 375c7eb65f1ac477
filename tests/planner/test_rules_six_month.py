"""6-month terms: one post in two consecutive terms of 24-28 weeks (ALLOW_6_MONTH_TERMS), and
VIC_PGY2's conditions on them (approved posts, A/B/C outside, the subspecialty cap exemption).

Each case has demand for one post in terms 1 and 2, which a single line fills only as a 6-month
term; where a rule refuses that, the line takes the excludable ``other`` in term 2 instead."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from daemon.checks.planner import check_lines
from daemon.planner.data import Position
from daemon.planner.load import load
from daemon.planner.result import GeneratedLine
from daemon.planner.rules.six_month_terms import most_pairs, pair_starts
from daemon.synthetic import seed_positions
from tests.planner.factory import filler, held, lines_of, pos, rejected_without, run, solve_checked

TWICE = ["long", "long", "third", "fourth"]
ONCE = ["long", "other", "third", "fourth"]


def _case(
    *,
    approved: bool = False,
    long: tuple[str, ...] = ("A",),
    other: tuple[str, ...] = ("A", "B", "C", "D"),
    third: tuple[str, ...] = ("A", "B"),
    fourth: tuple[str, ...] = ("C",),
) -> list[Position]:
    """A year of 13-week terms: "long" (Medicine / Cardiology) wanted in terms 1 and 2, the
    excludable "other" the alternative in term 2; categories as given."""
    return [
        pos(
            "long",
            "Medicine",
            subspecialty="Cardiology",
            capacity_by_term=(1, 1, 0, 0),
            experience_categories=long,
            six_month_approved=approved,
        ),
        filler("other", capacity_by_term=(0, 1, 0, 0), experience_categories=other),
        pos("third", capacity_by_term=(0, 0, 1, 0), experience_categories=third),
        pos("fourth", capacity_by_term=(0, 0, 0, 1), experience_categories=fourth),
    ]


def _as_held(line: GeneratedLine, ids: list[str]) -> GeneratedLine:
    """``line`` with its terms in the positions ``ids`` (for the checker)."""
    clinical = {r.term_index: r for r in line.clinical}
    moved = tuple(replace(clinical[t], position_id=pid) for t, pid in enumerate(ids))
    return replace(line, rotations=(*moved, *line.leave))


@pytest.mark.parametrize(
    ("terms", "six_month"),
    [
        ((13, 13, 13, 13), True),
        ((12, 12, 14, 14), True),  # 24 weeks: the window's least
        ((14, 14, 12, 12), True),  # 28 weeks: its most
        ((8, 8, 18, 18), False),  # 16 weeks: two short terms, accepted before
        ((11, 11, 15, 15), False),  # 22 weeks, as 10 + 12 in a five-term year
        ((15, 15, 11, 11), False),  # 30 weeks
    ],
)
def test_a_six_month_term_is_two_consecutive_terms_of_24_to_28_weeks(terms: tuple[int, ...], six_month: bool) -> None:
    inp = run(_case(), term_structure=terms, constraints=("ALLOW_6_MONTH_TERMS",))
    (line,) = lines_of(solve_checked(inp))
    assert held(line) == (TWICE if six_month else ONCE)
    # The checker reads the window on its own: outside it the pair is a repeat.
    found = check_lines(inp, [_as_held(line, TWICE)])
    assert (found == []) == six_month
    assert six_month or any("held in terms [0, 1] (only a 6-month term of 24-28 weeks repeats)" in v for v in found)


def test_pair_starts_and_most_pairs() -> None:
    assert pair_starts((13, 13, 13, 13)) == (0, 1, 2)
    assert most_pairs((13, 13, 13, 13)) == 2
    assert pair_starts((10, 10, 10, 10, 12)) == ()  # VIC's PGY1 structure: no 6-month term
    assert pair_starts((6, 6, 10, 15, 15)) == (2,)  # 10 + 15, not 6 + 6
    assert most_pairs((12, 12, 14, 14)) == 2 and most_pairs((8, 18, 26)) == 1


def test_vic_pgy2_on_an_unapproved_post_is_refused() -> None:
    out, rejected = rejected_without(run(_case()), ("VIC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    assert held(lines_of(out)[0]) == ONCE
    assert any("a 6-month term in long, a post not approved for one" in v for v in rejected)


def test_vic_pgy2_on_an_approved_post_is_built() -> None:
    inp = run(_case(approved=True), constraints=("VIC_PGY2", "ALLOW_6_MONTH_TERMS"))
    assert held(lines_of(solve_checked(inp))[0]) == TWICE


def test_vic_pgy2_needs_a_b_and_c_outside_the_six_month_term() -> None:
    # C only in the 6-month post and in "other": a 6-month term would leave the rest without C.
    inp = run(_case(approved=True, long=("C",), other=("C",), fourth=("A", "B")))
    out, rejected = rejected_without(inp, ("VIC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    assert held(lines_of(out)[0]) == ONCE
    assert any("no category C term outside the 6-month term(s)" in v for v in rejected)


def test_vic_pgy2_exempts_a_six_month_term_from_the_subspecialty_cap() -> None:
    """26 weeks of Cardiology are 50% of the year: AMC_PGY2's 25% cap refuses them, VIC_PGY2's
    does not count a 6-month term."""
    inp = run(_case(approved=True))
    out, rejected = rejected_without(inp, ("AMC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    assert held(lines_of(out)[0]) == ONCE
    assert any("more than 25% of the year in subspecialty cardiology" in v for v in rejected)
    vic = lines_of(solve_checked(replace(inp, constraints=("VIC_PGY2", "ALLOW_6_MONTH_TERMS"))))
    assert held(vic[0]) == TWICE
    assert check_lines(replace(inp, constraints=("VIC_PGY2", "ALLOW_6_MONTH_TERMS")), vic) == []


def test_the_exemption_is_the_six_month_terms_only() -> None:
    """Beside a 6-month term, a 14-week Respiratory term is still over 25% of the year (13
    weeks). (More Cardiology beside a Cardiology 6-month term cannot be tested: the 24-28 weeks
    left must hold two long terms in other subspecialties too.)"""
    inp = run(
        [
            *_case(approved=True, third=("A", "B", "C"))[:3],
            pos("wide", "Medicine", subspecialty="Respiratory", capacity_by_term=(0, 0, 0, 1)),
            filler("fourth", capacity_by_term=(0, 0, 0, 1)),
        ],
        term_structure=(13, 13, 12, 14),
    )
    out, rejected = rejected_without(inp, ("VIC_PGY2",), base=("ALLOW_6_MONTH_TERMS",))
    assert held(lines_of(out)[0]) == TWICE  # "wide" left unfilled
    assert any("more than 25% of the year in subspecialty respiratory" in v for v in rejected)


def test_six_month_approved_round_trips_through_the_database(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        allocation_run = seed_positions(conn, _case(approved=True), name="six-month terms")
        row = conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints) VALUES (%s, 1, %s) "
            "RETURNING id",
            (allocation_run, ["VIC_PGY2", "ALLOW_6_MONTH_TERMS"]),
        ).fetchone()
        assert row is not None
        inp = load(conn, str(row[0]))
        default = conn.execute(
            "INSERT INTO positions (allocation_run, name, parent_specialty) VALUES (%s, 'new', 'Medicine') "
            "RETURNING six_month_approved",
            (allocation_run,),
        ).fetchone()
    assert {p.name: p.six_month_approved for p in inp.positions} == {
        "long": True,
        "other": False,
        "third": False,
        "fourth": False,
    }
    assert default == (False,)  # migration 0013's default


def test_allowed_but_impossible_six_month_terms_are_said() -> None:
    # VIC's 10/10/10/10/12 year has no two consecutive terms of 24-28 weeks: the run builds
    # its lines without any, and its metadata says why none were possible.
    positions = [pos(p, capacity=1) for p in "abcde"]
    short = run(positions, constraints=("VIC_PGY2", "ALLOW_6_MONTH_TERMS"), term_structure=(10, 10, 10, 10, 12))
    assert "none possible" in solve_checked(short).metadata["six_month_terms"]
    # Possible, or not asked for: nothing to say.
    assert (
        "six_month_terms" not in solve_checked(run(_case(approved=True), constraints=("ALLOW_6_MONTH_TERMS",))).metadata
    )
    assert "six_month_terms" not in solve_checked(replace(short, constraints=("VIC_PGY2",))).metadata
