"""Targeted pathways: reserved lines, exact (hard on those lines) or soft (a heavily weighted
goal), first in line order, labelled, reported, and verified by the independent checker."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daemon.checks.planner import check_lines
from daemon.planner.data import Pathway, Position
from daemon.planner.pathways import counted, from_json
from daemon.planner.problem import build_problem
from daemon.planner.result import GeneratedLine, Rotation
from daemon.solving import BadInput
from tests.planner.factory import filler, held, lines_of, pos, run, solve_checked


def gp(lines: int = 1, mode: str = "exact", **fields: object) -> Pathway:
    """Aspiring GPs: a Paediatrics term."""
    return replace(Pathway("GP", lines, ("Paediatrics",), mode=mode), **fields)  # type: ignore[arg-type]


# Required posts with more seats than two lines can fill; a Paediatrics post is optional:
# without the pathway no line needs it, and holding it leaves one more required seat empty.
TIGHT = [pos(p, capacity=2) for p in "abcd"] + [filler("paed", "Paediatrics")]


def test_an_exact_pathway_puts_its_terms_on_its_lines_first() -> None:
    out = solve_checked(run(TIGHT, n=2, pathways=(gp(),)))
    first, second = lines_of(out)
    assert (first.pathway, second.pathway) == ("GP", None)
    assert "paed" in held(first)
    assert "paed" not in held(second)
    assert out.metadata["pathways"] == [
        {"name": "GP", "mode": "exact", "lines_reserved": 1, "lines_built": 1, "lines_met": 1, "lines": ["Line 001"]}
    ]
    # Without the pathway, the required seats win and no line holds the optional post.
    free = lines_of(solve_checked(run(TIGHT, n=2)))
    assert all("paed" not in held(line) for line in free)


def test_an_exact_pathway_matches_subspecialties_too() -> None:
    positions = [pos(p, capacity=2) for p in "abcd"] + [filler("nicu", "Neonates", subspecialty="O&G")]
    either = gp(specialties=("Paediatrics", "o&g "))
    lines = lines_of(solve_checked(run([*positions, filler("paed", "Paediatrics")], n=2, pathways=(either,))))
    assert {"nicu", "paed"} & set(held(lines[0]))
    lines = lines_of(solve_checked(run(positions, n=2, pathways=(gp(specialties=("O&G",)),))))
    assert "nicu" in held(lines[0])


def test_a_distinct_pathway_needs_different_subspecialties() -> None:
    """Two Medicine terms in different subspecialties: two Cardiology posts are not enough."""
    positions = [
        pos("cardio", "Medicine", subspecialty="Cardiology"),
        pos("cardio2", "Medicine", subspecialty="Cardiology"),
        pos("x"),
        pos("y"),
        filler("resp", "Medicine", subspecialty="Respiratory"),
    ]
    bpt = Pathway("pre-BPT", 1, ("Medicine",), min_terms=2, mode="exact", distinct=True)
    (line,) = lines_of(solve_checked(run(positions, pathways=(bpt,))))
    assert "resp" in held(line)
    counted = solve_checked(run(positions, pathways=(replace(bpt, distinct=False),)))
    assert "resp" not in held(lines_of(counted)[0])


def test_reserved_lines_that_cannot_meet_an_exact_pathway_are_pool_lines() -> None:
    """One seat of Paediatrics in the year, four lines reserved for it: one line meets the
    pathway and the three others are built as pool lines. Four lines are all the seats allow
    (terms 2-4 offer four), so a reservation that kept its lines for the pathway would leave
    the run with one line (issue 12, review: 12 of 20 lines on VIC_PGY1)."""
    positions = [pos(p) for p in "abcd"] + [filler("paed", "Paediatrics", capacity_by_term=(1, 0, 0, 0))]
    out = solve_checked(run(positions, n=5, pathways=(gp(4),)))
    lines = lines_of(out)
    assert len(lines) == 4
    assert [line.pathway for line in lines] == ["GP", None, None, None]
    assert "paed" in held(lines[0])
    assert out.metadata["pathways"] == [
        {"name": "GP", "mode": "exact", "lines_reserved": 4, "lines_built": 1, "lines_met": 1, "lines": ["Line 001"]}
    ]
    refused = solve_checked(run(positions, n=4, pathways=(gp(4),), allow_partial_filling=False))
    assert refused.status == "INFEASIBLE"


def test_a_reserved_line_met_comes_before_required_seats_but_after_lines() -> None:
    """Both Paediatrics posts on the reserved line, or post z (a required seat, open in terms
    3 and 4, once per line) instead of one of them: the reserved line met wins over the seat.
    But two lines can be built only if neither holds both Paediatrics posts: then both are
    built, as pool lines. The seats per term allow two lines, so it is the solver, not a
    count, that decides."""

    def only(*terms: int) -> tuple[int, ...]:
        return tuple(2 * (t in terms) if t < 2 else int(t in terms) for t in range(4))

    positions = [
        pos("a", capacity_by_term=only(0)),
        pos("b", capacity_by_term=only(1)),
        pos("z", capacity_by_term=only(2, 3)),
        filler("paed1", "Paediatrics", capacity_by_term=only(2)),
        filler("paed2", "Paediatrics", capacity_by_term=only(3)),
    ]
    (line,) = lines_of(solve_checked(run(positions, n=1, pathways=(gp(min_terms=2),))))
    assert line.pathway == "GP"
    assert held(line) == ["a", "b", "paed1", "paed2"]
    out = solve_checked(run(positions, n=2, pathways=(gp(min_terms=2),)))
    assert [line.pathway for line in lines_of(out)] == [None, None]
    assert out.metadata["pathways"][0]["lines_built"] == 0


# Every post optional; affinity rewards a -> b -> c -> d, so without the pathway the best
# lines avoid Paediatrics.
LOOSE = [filler(p, capacity=2) for p in "abcd"] + [filler("paed", "Paediatrics", capacity=2)]
CHAIN = (("a", "b", 100), ("b", "c", 100), ("c", "d", 100))


def test_a_soft_pathway_is_met_when_it_can_be_above_the_other_soft_goals() -> None:
    out = solve_checked(run(LOOSE, n=2, pathways=(gp(mode="soft"),), specialty_affinity=CHAIN, max_seconds=20.0))
    first = lines_of(out)[0]
    assert first.pathway == "GP" and "paed" in held(first)
    assert out.metadata["pathways"][0]["lines_met"] == 1
    free = lines_of(solve_checked(run(LOOSE, n=2, specialty_affinity=CHAIN, max_seconds=20.0)))
    assert all("paed" not in held(line) for line in free)


def test_a_soft_pathway_never_costs_a_line_or_a_required_seat() -> None:
    out = solve_checked(run(TIGHT, n=2, pathways=(gp(mode="soft", min_terms=2),)))
    lines = lines_of(out)
    # 32 required seats, 8 held: a soft pathway's term never takes the place of one of them.
    assert len(lines) == 2 and out.metadata["unfilled_required_seats"] == 32 - 8
    assert lines[0].pathway == "GP"
    assert out.metadata["pathways"][0]["lines_met"] == 0


@pytest.mark.parametrize(
    ("pathways", "message"),
    [
        ((gp(mode="hard"),), "pathway 'GP': mode must be exact or soft, got 'hard'"),
        ((gp(lines=3),), "pathway 'GP': lines must be within 1..n_job_lines (2), got 3"),
        ((gp(lines=0),), "pathway 'GP': lines must be within 1..n_job_lines (2), got 0"),
        ((gp(min_terms=5),), "pathway 'GP': min_terms must be within 1..4 (the terms of a line), got 5"),
        ((gp(specialties=("Paeds", "Paediatrics")),), "pathway 'GP': specialties 'Paeds' match no position's"),
        ((gp(specialties=()),), "pathway 'GP': specialties must name at least one"),
        ((gp(), replace(gp(), name=" gp ")), "pathway 'GP': name used by 2 pathways"),
        ((gp(), replace(gp(), name="BPT", lines=2)), "the pathways reserve 3 lines, more than n_job_lines (2)"),
        ((replace(gp(), name=" "),), "a pathway needs a name"),
        ((replace(gp(), name="G" * 40_000),), "pathway 1: name has 40,000 characters, more than 100"),
        ((gp(), replace(gp(), name="GP\x1b[31m")), "pathway 2: name must not contain control characters, got 'GP\\x1b"),
        ((replace(gp(), name="GP\u202e"),), "pathway 1: name must not contain control characters"),
        ((replace(gp(), name=" padded "),), "pathway 1: name must not start or end with spaces, got ' padded '"),
    ],
)
def test_bad_pathways_are_named(pathways: tuple[Pathway, ...], message: str) -> None:
    with pytest.raises(BadInput) as raised:
        build_problem(run(TIGHT, n=2, pathways=pathways))
    assert message in str(raised.value)


def _raw(**fields: object) -> list[object]:
    return [{"name": "GP", "lines": 1, "specialties": ["O&G"], "mode": "exact", **fields}]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "GP"}, "must be a JSON list of pathways"),
        ([1], "pathway 1 must be an object"),
        (_raw(lines="10"), "pathway 1 ('GP'): lines must be a whole number, got '10'"),
        (_raw(lines=True), "pathway 1 ('GP'): lines must be a whole number"),
        (_raw(specialties="O&G"), "pathway 1 ('GP'): specialties must be a list of names"),
        (_raw(mode=None), "pathway 1 ('GP'): mode must be"),
        ([{"name": "GP", "lines": 1, "specialties": ["O&G"]}], "pathway 1 ('GP'): mode is required"),
        (_raw(min_term=2), "pathway 1 ('GP'): unknown field 'min_term'"),
        (_raw(distinct="yes"), "pathway 1 ('GP'): distinct must be true or false"),
        (_raw(name=7), "pathway 1: name must be text, got 7"),
    ],
)
def test_pathways_of_the_wrong_type_are_named(raw: object, message: str) -> None:
    with pytest.raises(BadInput) as raised:
        from_json(raw, "allocation_planner_runs.pathways of run r")
    assert str(raised.value).startswith("allocation_planner_runs.pathways of run r: ")
    assert message in str(raised.value)


def test_pathways_from_json() -> None:
    raw = [{"name": "GP", "lines": 2, "specialties": ["Paediatrics"], "mode": "soft"}]
    assert from_json(raw, "x") == (gp(2, "soft"),)


def _line(name: str, pathway: str | None, positions: list[str]) -> GeneratedLine:
    rotations = tuple(Rotation("CLINICAL", 1 + 13 * t, 13, p, t) for t, p in enumerate(positions))
    return GeneratedLine(name, 1, (*rotations, Rotation("LEAVE", 2, 5)), pathway)


def test_the_checker_verifies_exact_pathways() -> None:
    inp = run(TIGHT, n=2, pathways=(gp(),))
    good = _line("Line 001", "GP", ["paed", "a", "b", "c"])
    bad = _line("Line 002", "GP", ["a", "b", "c", "d"])
    assert check_lines(inp, [good]) == []
    assert "Line 002: pathway GP: 0 terms in Paediatrics, not 1" in check_lines(inp, [bad])
    assert "pathway GP: 2 lines, more than the 1 it reserves" in check_lines(inp, [good, good])
    assert "1 lines name pathway 'BPT', which the run does not have" in check_lines(
        inp, [_line("Line 001", "BPT", ["a", "b", "c", "d"])]
    )
    # A soft pathway's lines are a goal: reported, not violations.
    assert check_lines(replace(inp, pathways=(gp(mode="soft"),)), [bad]) == []
    distinct = Pathway("BPT", 1, ("Medicine",), min_terms=2, mode="exact", distinct=True)
    medicine = [pos("m1", "Medicine", subspecialty="Cardiology"), pos("m2", "Medicine", subspecialty="Cardiology")]
    twice = _line("Line 001", "BPT", ["m1", "m2", "a", "b"])
    assert "Line 001: pathway BPT: 1 different subspecialties of its list, not 2" in check_lines(
        run([*TIGHT, *medicine], n=1, pathways=(distinct,)), [twice]
    )


# Two Cardiology posts, one a 6-month term can be on; the other has one seat, in term 4.
SIX_MONTHS = [pos(p, capacity=2) for p in "abc"] + [
    filler("c1", "Cardiology", capacity=2, six_month_approved=True),
    filler("c2", "Cardiology", capacity_by_term=(0, 0, 0, 1)),
]
CARDIOLOGY = Pathway("CARD", 2, ("Cardiology",), min_terms=2, mode="exact")


def test_a_six_month_term_is_one_term_of_a_pathway() -> None:
    """Two Cardiology terms on two lines: only one line can hold both posts; a 6-month term in
    c1 is one term (README), so the other line cannot meet the pathway and is a pool line."""
    out = solve_checked(run(SIX_MONTHS, n=2, pathways=(CARDIOLOGY,), constraints=("ALLOW_6_MONTH_TERMS",)))
    first, second = lines_of(out)
    assert (first.pathway, second.pathway) == ("CARD", None)
    assert {"c1", "c2"} <= set(held(first))
    assert out.metadata["pathways"][0]["lines_met"] == 1


def test_the_checker_and_the_report_count_a_six_month_term_once_for_a_pathway() -> None:
    inp = run(SIX_MONTHS, n=2, pathways=(CARDIOLOGY,), constraints=("ALLOW_6_MONTH_TERMS",))
    c1, a, b = (next(p for p in SIX_MONTHS if p.id == pid) for pid in ("c1", "a", "b"))
    assert counted(CARDIOLOGY, [c1, c1, a, b]) == 1  # result_metadata.pathways' lines_met
    assert check_lines(inp, [_line("Line 001", "CARD", ["c1", "a", "b", "c2"])]) == []
    assert "Line 001: pathway CARD: 1 terms in Cardiology, not 2" in check_lines(
        inp, [_line("Line 001", "CARD", ["c1", "c1", "a", "b"])]
    )


MEDICINE = [pos("m1", "Medicine", subspecialty="Cardiology"), pos("m2", "Medicine", subspecialty=" cardiology")]


@pytest.mark.parametrize(
    ("positions", "pathway", "constraints", "most"),
    [
        (TIGHT, gp(min_terms=2), (), 1),
        # One post a 6-month term can be on: still one term.
        ([p for p in SIX_MONTHS if p.id != "c2"], CARDIOLOGY, ("ALLOW_6_MONTH_TERMS",), 1),
        ([*TIGHT, *MEDICINE], Pathway("BPT", 1, ("Medicine",), min_terms=2, mode="exact", distinct=True), (), 1),
        # Two Paediatrics posts, both open in term 1 only.
        (
            [*TIGHT[:4], *(filler(f"p{k}", "Paediatrics", capacity_by_term=(1, 0, 0, 0)) for k in (1, 2))],
            gp(min_terms=2),
            (),
            1,
        ),
    ],
)
def test_an_exact_pathway_no_line_can_meet_is_refused(
    positions: list[Position], pathway: Pathway, constraints: tuple[str, ...], most: int
) -> None:
    """Planned, it would leave its lines unreserved and the diagnosis would blame the rules or
    the positions' seats for lines no rule or seat keeps from being built."""
    inp = run(positions, n=2, pathways=(pathway,), constraints=constraints)
    with pytest.raises(BadInput) as raised:
        build_problem(inp)
    assert f"pathway {pathway.name!r} asks for {pathway.min_terms} " in str(raised.value)
    assert f"the positions offer at most {most} per line" in str(raised.value)
    # A soft pathway is a goal: it may fall short.
    build_problem(replace(inp, pathways=(replace(pathway, mode="soft"),)))


def test_a_diagnosis_says_the_exact_pathways_are_kept_and_what_they_built() -> None:
    """Three lines reserved, Paediatrics open for one line: the diagnosis's models hold every
    reserved line to the pathway, so 'no rule at all' is not the whole story and it says so
    (it used to blame the positions alone), with what the pathway built."""
    team = [pos(f"team{k}", capacity_by_term=(1, 1, 0, 0)) for k in range(2)]
    ward = [pos(f"ward{k}", is_team_based=False, capacity=3) for k in range(4)]
    paed = filler("paed", "Paediatrics", is_team_based=False, capacity_by_term=(0, 0, 1, 0))
    out = solve_checked(run([*team, *ward, paed], n=3, constraints=("AMC_PGY1",), pathways=(gp(3),)))
    assert [line.pathway for line in lines_of(out)] == ["GP", None]
    short = "exact pathway 'GP': 1 of the 3 lines it reserves meet it (a reserved line that cannot is built as a pool"
    assert any(short in reason for reason in out.metadata["fewer_lines_because"])
    error = out.error or ""
    assert short in error
    assert "this diagnosis holds the exact pathway 'GP' on its 3 reserved lines throughout" in error
    assert "even with no rule at all, " not in error
    assert "even with no rule at all but the exact pathway 'GP' on its 3 reserved lines, 3 lines" in error


def test_an_infeasible_run_says_the_exact_pathways_were_held() -> None:
    positions = [pos(p) for p in "abcd"] + [filler("paed", "Paediatrics", capacity_by_term=(1, 0, 0, 0))]
    out = solve_checked(run(positions, n=4, pathways=(gp(4),), allow_partial_filling=False))
    assert out.status == "INFEASIBLE"
    held = "CP-SAT proved that no 4 lines satisfy UNRESTRICTED with exact pathway 'GP' on its 4 reserved lines here"
    assert held in (out.error or "")
