"""Soft reading goals (issue 12, ``planner.readable``): at most one rural term and no parent
specialty three times on a line, on by default, given up only when capacity needs it."""

from __future__ import annotations

from dataclasses import replace

from daemon.checks.planner import check_lines
from daemon.planner.data import PlannerInput
from tests.planner.factory import count_held, filler, held, lines_of, pos, run, solve_checked

# Affinity pays 100 for two rural (or two Medicine) terms in a row: without the reading goals
# the line takes them, with them (weighted above affinity) it does not.
RURAL = run(
    [
        *(pos("a", capacity_by_term=(1, 0, 0, 0)), pos("b", capacity_by_term=(0, 1, 0, 0))),
        *(filler("r1", "Rural", is_rural=True), filler("r2", "Rural", is_rural=True), filler("x"), filler("y")),
    ],
    specialty_affinity=(("Rural", "Rural", 100),),
)
MEDICINE = run(
    [filler(f"m{k}", "Medicine") for k in range(3)] + [filler("x"), filler("y")],
    specialty_affinity=(("Medicine", "Medicine", 100),),
)


def _specialties(inp: PlannerInput, line_posts: list[str]) -> list[str]:
    by_id = {p.id: p.parent_specialty for p in inp.positions}
    return [by_id[p] for p in line_posts]


def test_at_most_one_rural_term_by_default() -> None:
    out = solve_checked(RURAL)
    (line,) = lines_of(out)
    assert count_held(RURAL, line, "is_rural") == 1
    assert out.metadata["quality"]["rural_terms_per_line"] == {"1": 1}
    assert out.metadata["soft_goals"]["reading"]["rural_terms_beyond_one"] == 0


def test_no_parent_specialty_three_times_by_default() -> None:
    out = solve_checked(MEDICINE)
    (line,) = lines_of(out)
    assert _specialties(MEDICINE, held(line)).count("Medicine") == 2
    assert out.metadata["quality"]["most_terms_of_one_specialty"] == {"2": 1}


def test_the_run_can_turn_them_off() -> None:
    inp = replace(RURAL, constraints=("NO_READING_GOALS",))
    out = solve_checked(inp)
    (line,) = lines_of(out)
    assert count_held(RURAL, line, "is_rural") == 2
    assert out.metadata["soft_goals"]["reading"] == {
        "on": False,
        "rural_terms_beyond_one": 1,
        "specialty_terms_beyond_two": 0,
        "weight": 0,
    }
    assert check_lines(inp, lines_of(out)) == []  # a run option the checker knows, asking nothing


def test_capacity_comes_first() -> None:
    # Every required seat rural: the line takes two rural terms rather than leave one empty.
    inp = run([pos("r1", is_rural=True), pos("r2", is_rural=True), filler("x"), filler("y")])
    out = solve_checked(inp)
    (line,) = lines_of(out)
    assert count_held(inp, line, "is_rural") == 2
    assert out.metadata["unfilled_required_seats"] == 2 * 4 - 2  # each post once per line
