"""The local search after CP-SAT (``planner.spread``): lines moved apart over all pairs, never
at the cost of a rule, a required seat or a reading goal, and the same lines every time."""

from __future__ import annotations

import itertools
from collections import Counter

from daemon.checks.planner import check_held, requirements
from daemon.planner.data import Pathway
from daemon.planner.problem import Problem, build_problem
from daemon.planner.spread import spread
from tests.planner.factory import filler, pos, run


def _fewest_apart(lines: list[tuple[int, ...]]) -> int:
    return min(sum(x != y for x, y in zip(a, b, strict=True)) for a, b in itertools.combinations(lines, 2))


def _within_seats(problem: Problem, lines: list[tuple[int, ...]]) -> bool:
    taken = Counter((t, i) for held in lines for t, i in enumerate(held))
    return all(n <= problem.seats[i][t] for (t, i), n in taken.items())


def test_lines_move_apart_until_no_two_share_a_term() -> None:
    # Two pairs of identical lines; four posts of two seats each leave room for a Latin square.
    problem = build_problem(run([pos(p, capacity=2) for p in "abcd"], n=4))
    start = [(0, 1, 2, 3), (0, 1, 2, 3), (1, 2, 3, 0), (1, 2, 3, 0)]
    moved = spread(problem, start)
    assert _fewest_apart(moved.lines) == 4
    assert moved.as_metadata()["min_distance_before"] == 0
    assert moved.as_metadata()["min_distance_after"] == 4
    assert _within_seats(problem, moved.lines)
    req, _ = requirements(problem.inp)
    assert all(not check_held(req, problem.inp, [problem.positions[i] for i in held]) for held in moved.lines)


def test_a_move_the_rules_forbid_is_not_made() -> None:
    # Both lines hold x then rural r; the only way apart is the free rural seat r2 in term 0,
    # a second rural term: MAX_ONE_RURAL forbids it (the reading goals are off, so only the
    # rule stands in the way), and without the rule the lines part.
    positions = [
        filler("x", capacity_by_term=(2, 0)),
        filler("r", capacity_by_term=(0, 2), is_rural=True),
        filler("r2", capacity_by_term=(1, 0), is_rural=True),
    ]
    start = [(0, 1), (0, 1)]
    free = build_problem(run(positions, n=2, term_structure=(26, 26), constraints=("NO_READING_GOALS",)))
    assert _fewest_apart(spread(free, start).lines) == 1
    capped = build_problem(
        run(positions, n=2, term_structure=(26, 26), constraints=("NO_READING_GOALS", "MAX_ONE_RURAL"))
    )
    assert spread(capped, start).lines == start


def test_a_required_seat_is_not_emptied_to_part_lines() -> None:
    # Moving a line from required a to the free excludable seat y would part the lines but
    # leave a required seat empty: a required seat outweighs any distance.
    positions = [pos("a", capacity_by_term=(2, 0)), pos("b", capacity_by_term=(0, 2)), filler("y")]
    problem = build_problem(run(positions, n=2, term_structure=(26, 26)))
    assert spread(problem, [(0, 1), (0, 1)]).lines == [(0, 1), (0, 1)]


def test_a_reading_goal_is_not_broken_to_part_lines() -> None:
    # As above with the rule off: the second rural term is an extra term of the reading goals,
    # weighted above the distance.
    positions = [
        filler("x", capacity_by_term=(2, 0)),
        filler("r", capacity_by_term=(0, 2), is_rural=True),
        filler("r2", capacity_by_term=(1, 0), is_rural=True),
    ]
    problem = build_problem(run(positions, n=2, term_structure=(26, 26)))
    assert spread(problem, [(0, 1), (0, 1)]).lines == [(0, 1), (0, 1)]


def test_the_same_lines_give_the_same_answer() -> None:
    problem = build_problem(run([pos(p, capacity=3) for p in "abcdef"], n=12))
    start = [held for held in [(0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0)] for _ in range(3)]
    assert spread(problem, start).lines == spread(problem, start).lines


def test_a_reserved_line_keeps_its_pathway() -> None:
    # Both lines hold Paediatrics x then r; the way apart is the free seat z in term 0, which
    # would take a line off Paediatrics. Lines reserved for an exact Paediatrics pathway stay;
    # a soft one's lines fall no further short either; pool lines part.
    positions = [
        filler("x", "Paediatrics", capacity_by_term=(2, 0)),
        filler("r", capacity_by_term=(0, 2)),
        filler("z", capacity_by_term=(1, 0)),
    ]
    problem = build_problem(run(positions, n=2, term_structure=(26, 26)))
    start = [(0, 1), (0, 1)]
    assert _fewest_apart(spread(problem, start).lines) == 1
    for mode in ("exact", "soft"):
        gp = Pathway("GP", 2, ("Paediatrics",), mode=mode)
        assert spread(problem, start, [gp, gp]).lines == start
    # One reserved line, one from the pool: the pool's line moves.
    gp = Pathway("GP", 1, ("Paediatrics",), mode="exact")
    assert spread(problem, start, [gp, None]).lines == [(0, 1), (2, 1)]
