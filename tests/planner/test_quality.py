"""How the lines read (issue 12): figures measured on written lines, in result_metadata and
the workbook."""

from __future__ import annotations

from daemon.planner.quality import figures
from daemon.planner.result import GeneratedLine, Rotation
from tests.planner.factory import VIC_TERMS, lines_of, pos, run, solve_checked

STARTS = (1, 11, 21, 31, 41)


def line(n: int, posts: str, leave: tuple[tuple[int, int], ...] = ()) -> GeneratedLine:
    clinical = [Rotation("CLINICAL", STARTS[t], VIC_TERMS[t], p, t) for t, p in enumerate(posts)]
    away = [Rotation("LEAVE", start, length) for start, length in leave]
    return GeneratedLine(f"Line {n:03d}", n, tuple(clinical + away))


INP = run(
    [
        *(pos("a", "Medicine"), pos("b", "medicine "), pos("c", "Medicine", is_rural=True)),
        *(pos("d", "Surgery", is_rural=True), pos("e", "ED", is_rural=True), pos("f", "ED")),
    ],
    term_structure=VIC_TERMS,
)


def test_pairwise_distance_is_over_all_pairs() -> None:
    lines = [line(1, "abcde"), line(2, "abcdf"), line(3, "fedcb"), line(4, "bafed")]
    q = figures(INP, lines)
    # 1-2 differ in one term, every other pair in all five: all pairs counted.
    assert q["min_pairwise_distance"] == 1
    assert q["pairs_differing_in_one_term"] == 1
    distances = [1, 5, 5, 5, 5, 5]
    assert q["mean_pairwise_distance"] == round(sum(distances) / 6, 3)


def test_specialties_repeats_and_rural_terms_per_line() -> None:
    q = figures(INP, [line(1, "abcde"), line(2, "fedab")])
    # Line 1: Medicine x3 (case and spaces ignored), Surgery, ED; rural c, d, e.
    # Line 2: ED x2, Surgery, Medicine x2; rural e, d.
    assert q["specialties_per_line"] == {"3": 2}
    assert q["most_terms_of_one_specialty"] == {"2": 1, "3": 1}
    assert q["rural_terms_per_line"] == {"2": 1, "3": 1}


def test_leave_by_week_week_one_and_half_terms() -> None:
    lines = [line(1, "abcde", ((1, 5),)), line(2, "bcdef", ((12, 2), (31, 3))), line(3, "cdefa", ((47, 5),))]
    q = figures(INP, lines)
    assert len(q["leave_by_week"]) == 52
    assert q["leave_by_week"][:6] == [1, 1, 1, 1, 1, 0]
    assert sum(q["leave_by_week"]) == 15
    assert q["lines_on_leave_in_week_1"] == 1
    # Line 1 works 5 of 10 weeks of term 1; line 3 loses 5 of the 12-week term 5 (under half).
    assert q["lines_working_half_a_long_term"] == 1


def test_a_solved_run_reports_its_quality() -> None:
    out = solve_checked(run([pos(p, capacity=2) for p in "abcde"], n=4, term_structure=VIC_TERMS))
    q = out.metadata["quality"]
    assert q["lines"] == len(lines_of(out)) == 4
    assert q["min_pairwise_distance"] is not None and sum(q["leave_by_week"]) == 4 * 5
