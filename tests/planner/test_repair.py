"""The repair pass (``planner.repair``): a required seat left empty is filled by a line that
gives up an excludable post in that term, if the line stays compliant."""

from __future__ import annotations

from daemon.planner.data import Pathway
from daemon.planner.problem import build_problem
from daemon.planner.repair import repair
from tests.planner.factory import filler, pos, run

TERMS = (26, 26)


def test_an_empty_required_seat_takes_a_line_from_an_excludable_post() -> None:
    # Line 0 holds excludable x and y while required a (term 0) and b (term 1) have a seat
    # free: it takes both; line 1, in b then y, keeps y, b's term-1 seat being taken.
    positions = [pos("a", capacity_by_term=(1, 0)), pos("b"), filler("x"), filler("y")]
    problem = build_problem(run(positions, n=2, term_structure=TERMS))
    lines, filled = repair(problem, [(2, 3), (1, 3)])
    assert (lines, filled) == ([(0, 1), (1, 3)], 2)


def test_a_move_the_rules_forbid_is_not_made() -> None:
    # The free required seat is rural and the line already holds a rural term: MAX_ONE_RURAL.
    positions = [pos("r", capacity_by_term=(1, 0), is_rural=True), filler("x"), filler("s", is_rural=True)]
    start = [(1, 2)]
    capped = build_problem(run(positions, term_structure=TERMS, constraints=("MAX_ONE_RURAL",)))
    assert repair(capped, start) == ([(1, 2)], 0)
    free = build_problem(run(positions, term_structure=TERMS))
    assert repair(free, start) == ([(0, 2)], 1)


def test_a_line_in_a_required_post_stays() -> None:
    # Moving from required c to required a would only empty c's seat instead.
    positions = [pos("a", capacity_by_term=(1, 0)), pos("c", capacity_by_term=(1, 0)), filler("y")]
    problem = build_problem(run(positions, term_structure=TERMS))
    assert repair(problem, [(1, 2)]) == ([(1, 2)], 0)


def test_a_reserved_line_keeps_its_pathway() -> None:
    # The line's excludable Paediatrics post x could give way to required a's free seat, but
    # the line is reserved for a Paediatrics pathway it would then miss: it stays.
    positions = [pos("a", capacity_by_term=(1, 0)), filler("x", "Paediatrics"), filler("y")]
    problem = build_problem(run(positions, term_structure=TERMS))
    assert repair(problem, [(1, 2)]) == ([(0, 2)], 1)
    for mode in ("exact", "soft"):
        gp = Pathway("GP", 1, ("Paediatrics",), mode=mode)
        assert repair(problem, [(1, 2)], [gp]) == ([(1, 2)], 0)
