"""Supervisor caps count earlier exclusive rounds on the supervisor's lines outside this run
(issue 10, item 3; SPEC §3 "on every line of the allocation run, in this run or not").

The input carries, per supervisor, the workers earlier rounds placed on its lines outside the
run (``preferencer_taken_workers``) and how many of those lines they used
(``preferencer_used_lines``); lines inside the run carry theirs in ``taken_capacity``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput, Preferencer
from daemon.allocator.problem import Allocation
from daemon.allocator.xlsx_reader import read_workbook
from daemon.allocator.xlsx_writer import write_input
from daemon.checks.allocation import check_allocation
from tests.allocator.alloc_factory import make_input, placed, solve_checked
from tests.allocator.alloc_strategies import SETTINGS

ALPHA0 = {"preferencer_weight": 0}


def _two_lines(sup: Preferencer, **kw: Any) -> AllocatorInput:
    """w1 wants a (S's line) over c (nobody's); S's other line B lies outside the run."""
    return make_input(
        {"w1": {"a": 1, "c": 2}},
        {"a": 1, "c": 1},
        config=ALPHA0,
        preferencers=[sup],
        line_preferencers=[("a", "S")],
        **kw,
    )


def test_max_workers_counts_workers_placed_earlier_outside_the_run() -> None:
    inp = _two_lines(Preferencer("S", "S", max_workers=1), sup_taken_workers={"S": 1}, sup_used_lines={"S": 1})
    assert placed(solve_checked(inp)) == {"w1": "c"}


def test_max_workers_not_reached_leaves_the_line_open() -> None:
    inp = _two_lines(Preferencer("S", "S", max_workers=2), sup_taken_workers={"S": 1}, sup_used_lines={"S": 1})
    assert placed(solve_checked(inp)) == {"w1": "a"}


def test_max_workers_counts_inside_and_outside_together() -> None:
    # One worker earlier on a (inside the run, seat 2 of 2 left) and one on B (outside): 2 of 2.
    inp = make_input(
        {"w1": {"a": 1, "c": 2}},
        {"a": 2, "c": 1},
        config=ALPHA0,
        preferencers=[Preferencer("S", "S", max_workers=2)],
        line_preferencers=[("a", "S")],
        taken={"a": 1},
        sup_taken_workers={"S": 1},
        sup_used_lines={"S": 1},
    )
    assert placed(solve_checked(inp)) == {"w1": "c"}


def test_max_workers_used_up_earlier_makes_the_run_infeasible() -> None:
    inp = make_input(
        {"w1": {"a": 1}},
        {"a": 1},
        config=ALPHA0,
        preferencers=[Preferencer("S", "S", max_workers=1)],
        line_preferencers=[("a", "S")],
        sup_taken_workers={"S": 1},
        sup_used_lines={"S": 1},
    )
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE", out.metadata
    assert out.error and "'S' (S)" in out.error


def test_max_workers_cap_binding_goes_to_a_path_that_enforces_it() -> None:
    # A pure assignment otherwise: the reduced cap must take it off linear_sum_assignment.
    inp = make_input(
        {"w1": {"a": 1, "c": 2}, "w2": {"b": 1, "c": 2}},
        {"a": 1, "b": 1, "c": 2},
        config=ALPHA0,
        preferencers=[Preferencer("S", "S", max_workers=2)],
        line_preferencers=[("a", "S"), ("b", "S")],
        sup_taken_workers={"S": 1},
        sup_used_lines={"S": 1},
    )
    problem = build_problem(inp)
    assert [s.max_new_workers for s in problem.supervisors] == [1]
    out = solve_checked(inp)
    got = placed(out)
    assert sorted(got.values()).count("c") == 1, (got, out.metadata.get("method"))


def test_max_job_lines_counts_lines_used_earlier_outside_the_run() -> None:
    inp = _two_lines(Preferencer("S", "S", max_job_lines=1), sup_taken_workers={"S": 1}, sup_used_lines={"S": 1})
    assert placed(solve_checked(inp)) == {"w1": "c"}


def test_a_line_used_earlier_and_now_counts_once() -> None:
    # S may use 2 lines: B (outside, earlier) and a (inside, earlier too): more workers on a
    # use no new line, but b would be a third.
    inp = make_input(
        {"w1": {"b": 1, "a": 2, "c": 3}, "w2": {"b": 1, "a": 2, "c": 3}},
        {"a": 3, "b": 2, "c": 2},
        config=ALPHA0,
        preferencers=[Preferencer("S", "S", max_job_lines=2)],
        line_preferencers=[("a", "S"), ("b", "S")],
        taken={"a": 1},
        sup_taken_workers={"S": 1},
        sup_used_lines={"S": 1},
    )
    assert placed(solve_checked(inp)) == {"w1": "a", "w2": "a"}


@pytest.mark.parametrize(
    ("sup", "expected"),
    [
        (Preferencer("S", "S", max_workers=1), "preferencer S: 1 new workers on its lines, max 0"),
        (Preferencer("S", "S", max_job_lines=1), "preferencer S: 1 new lines used, max 0"),
    ],
)
def test_checker_flags_caps_used_up_outside_the_run(sup: Preferencer, expected: str) -> None:
    inp = _two_lines(sup, sup_taken_workers={"S": 1}, sup_used_lines={"S": 1})
    result = check_allocation(inp, [Allocation("w1", "a", 1.0, 1.0)])
    assert any(expected in v for v in result.violations), result.violations
    assert check_allocation(inp, [Allocation("w1", "c", 2.0, 2.0)]).ok


# --- property: brute force over explicit earlier allocations --------------------------------


def _reference(
    inp: AllocatorInput,
    owners_all: list[tuple[str, str]],
    earlier: list[str],
) -> float | None:
    """Least objective over all assignments, caps judged from the earlier rounds' raw rows.

    ``earlier`` lists the line of each earlier-round worker, over every line of the allocation
    run; ``owners_all`` maps every line to its supervisors. Everything but the caps is left to
    the checker (its cap reports are ignored here)."""
    best: float | None = None
    for choice in itertools.product(inp.line_ids, repeat=len(inp.worker_ids)):
        rows = [Allocation(w, ln, None, 0.0) for w, ln in zip(inp.worker_ids, choice, strict=True)]
        result = check_allocation(inp, rows)
        real = [
            v
            for v in result.violations
            if ": worker_rank" not in v and ": dissatisfaction" not in v and not v.startswith("preferencer ")
        ]
        if real:
            continue
        ok = True
        for sup in inp.preferencers:
            # Over a cap with this run's help (earlier rounds alone may be over it already,
            # if the cap was lowered since: this run just adds nothing more).
            own = {ln for ln, s in owners_all if s == sup.id}
            before = [ln for ln in earlier if ln in own]
            now = [ln for ln in choice if ln in own]
            if sup.max_workers is not None and now and len(before) + len(now) > sup.max_workers:
                ok = False
            new_lines = set(now) - set(before)
            if sup.max_job_lines is not None and new_lines and len(set(before) | new_lines) > sup.max_job_lines:
                ok = False
        if ok and (best is None or result.objective < best):
            best = result.objective
    return best


@st.composite
def _rounds(draw: st.DrawFn) -> tuple[AllocatorInput, list[tuple[str, str]], list[str]]:
    workers = [f"w{i}" for i in range(draw(st.integers(1, 3)))]
    inside = [f"l{j}" for j in range(draw(st.integers(1, 3)))]
    outside = [f"x{j}" for j in range(draw(st.integers(0, 2)))]
    sups = [
        Preferencer(f"s{k}", f"S{k}", draw(st.none() | st.integers(0, 3)), draw(st.none() | st.integers(0, 4)))
        for k in range(draw(st.integers(1, 2)))
    ]
    owners_all = [(ln, s.id) for ln in inside + outside for s in sups if draw(st.booleans())]
    earlier = draw(st.lists(st.sampled_from(inside + outside), max_size=3))
    caps = {ln: draw(st.integers(0, 3)) for ln in inside}
    taken = {ln: earlier.count(ln) for ln in inside if ln in earlier}
    caps = {ln: cap + taken.get(ln, 0) for ln, cap in caps.items()}  # earlier rows held real seats
    rank = st.integers(1, 3).map(float)
    ranks = {w: draw(st.dictionaries(st.sampled_from(inside), rank)) for w in workers}
    outside_rows = [ln for ln in earlier if ln in outside]
    taken_workers: dict[str, int] = {}
    used_lines: dict[str, int] = {}
    for s in sups:
        own = {ln for ln, o in owners_all if o == s.id}
        rows = [ln for ln in outside_rows if ln in own]
        if rows:
            taken_workers[s.id] = len(rows)
            used_lines[s.id] = len(set(rows))
    inp = make_input(
        ranks,
        caps,
        workers=workers,
        config={
            "preferencer_weight": draw(st.sampled_from([0.0, 0.5])),
            "stability": draw(st.sampled_from(["none", "none", "weak"])),
            "max_seconds": 20,
        },
        preferencers=sups,
        line_preferencers=[(ln, s) for ln, s in owners_all if ln in inside],
        taken=taken,
        sup_taken_workers=taken_workers,
        sup_used_lines=used_lines,
    )
    return inp, owners_all, earlier


@SETTINGS
@given(_rounds())
def test_optimum_with_earlier_rounds_equals_brute_force(case: tuple[AllocatorInput, list[Any], list[str]]) -> None:
    inp, owners_all, earlier = case
    out = solve_checked(inp)
    event(f"{out.status} by {out.metadata.get('method')}")
    expected = _reference(inp, owners_all, earlier)
    if expected is None:
        assert out.status == "INFEASIBLE", out.metadata
        return
    assert out.status == "COMPLETED", out.error
    bound = out.metadata["rounding_error_bound"]
    assert expected - 1e-9 <= out.metadata["objective"] <= expected + bound + 1e-9


# --- the offline workbook carries earlier rounds outside the run ----------------------------


def test_workbook_round_trips_earlier_rounds_outside_the_run(tmp_path: Path) -> None:
    inp = _two_lines(
        Preferencer("S", "S", max_workers=3), taken={"a": 1}, sup_taken_workers={"S": 2}, sup_used_lines={"S": 1}
    )
    path = tmp_path / "in.xlsx"
    write_input(path, inp)
    back = read_workbook(path)
    assert (back.taken_capacity, back.preferencer_taken_workers, back.preferencer_used_lines) == (
        {"a": 1},
        {"S": 2},
        {"S": 1},
    )


def test_workbook_counts_taken_seats_on_lines_the_run_leaves_out(tmp_path: Path) -> None:
    # The whole allocation run in the workbook: B taken by round 1, the run includes a and c.
    whole = make_input(
        {"w1": {"a": 1, "c": 2}},
        {"a": 1, "B": 1, "c": 1},
        config=ALPHA0,
        preferencers=[Preferencer("S", "S", max_workers=1)],
        line_preferencers=[("a", "S"), ("B", "S")],
        taken={"B": 1},
    )
    path = tmp_path / "in.xlsx"
    write_input(path, whole)
    wb = openpyxl.load_workbook(path)
    runs = wb["allocator_py_runs"]
    header = [c.value for c in runs[1]]
    runs.cell(2, header.index("included_job_lines") + 1, "a, c")
    wb.save(path)
    inp = read_workbook(path)
    assert inp.line_ids == ("a", "c") and inp.taken_capacity == {}
    assert (inp.preferencer_taken_workers, inp.preferencer_used_lines) == ({"S": 1}, {"S": 1})
    assert placed(solve_checked(inp)) == {"w1": "c"}
