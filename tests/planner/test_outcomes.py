"""Run outcomes: INFEASIBLE with a diagnosis, partial filling, timeouts, stops, progress."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from daemon.planner.hospitals import vic_hospital
from daemon.planner.solve import solve
from daemon.solving import SolveContext
from tests.planner.factory import VIC_TERMS, filler, lines_of, pos, run, solve_checked


def test_vic_pgy1_without_a_surgery_position() -> None:
    positions = [pos(f"g{k}") for k in range(4)] + [pos("med", "Medicine"), pos("ed", "Emergency Medicine")]
    out = solve_checked(run(positions, term_structure=VIC_TERMS, constraints=("VIC_PGY1",)))
    assert out.status == "INFEASIBLE"
    assert ("VIC_PGY1 requires a Surgery term on every line but no position has parent_specialty Surgery") in (
        out.error or ""
    )


def test_seats_per_term_diagnosis() -> None:
    inp = run([pos(f"p{k}") for k in range(4)], n=5, allow_partial_filling=False)
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE"
    assert "positions open to cohort ANY offer only 4 seats in term 1 for 5 lines" in (out.error or "")


def test_partial_filling_builds_fewer_lines_and_says_why() -> None:
    inp = run([pos(f"p{k}") for k in range(4)], n=5)
    out = solve_checked(inp)
    assert len(lines_of(out)) == 4
    meta = out.metadata
    assert (meta["lines_requested"], meta["lines_built"]) == (5, 4)
    assert any("only 4 seats in term 1 for 5 lines" in r for r in meta["fewer_lines_because"])


def test_rules_the_counts_cannot_see_are_proved_by_the_solver() -> None:
    # Seat counts allow two lines; but the second line would have to hold both rural posts.
    positions = [
        pos("r0", is_rural=True),
        pos("r1", is_rural=True),
        pos("u0"),
        pos("u1"),
        filler("u2", capacity_by_term=(1, 0, 0, 0)),
    ]
    strict = run(positions, n=2, constraints=("MAX_ONE_RURAL",), allow_partial_filling=False)
    out = solve_checked(strict)
    assert out.status == "INFEASIBLE"
    assert "CP-SAT proved that no 2 lines satisfy MAX_ONE_RURAL" in (out.error or "")
    assert "at most 1 of the 2 lines can be built" in (out.error or "")
    partial = solve_checked(replace(strict, allow_partial_filling=True))
    assert partial.metadata["lines_built"] == 1
    assert any("at most 1 lines" in r for r in partial.metadata["fewer_lines_because"])


def test_excludable_positions_are_dropped_first() -> None:
    inp = run([pos(f"p{k}") for k in range(4)] + [filler("spare")], n=1)
    meta = solve_checked(inp).metadata
    assert meta["unfilled_required_seats"] == 12  # 16 required seats, one line
    assert meta["dropped_positions"] == ["spare"]


def test_no_solution_in_time_fails_with_a_clear_message() -> None:
    # Building 140 lines takes longer than 0.05 s: no time is left to search.
    inp = run(list(vic_hospital()), n=140, term_structure=VIC_TERMS, max_seconds=0.05, constraints=("VIC_PGY1",))
    out = solve(inp, SolveContext())
    assert out.status == "FAILED"
    assert "no compliant set of job lines was found within max_seconds=0.05" in (out.error or "")


def test_a_stop_request_ends_the_solve() -> None:
    stop = threading.Event()
    stop.set()
    out = solve(run([pos(f"p{k}", capacity=20) for k in range(8)], n=100), SolveContext(stop_event=stop))
    assert out.status == "FAILED"
    assert "stopped" in (out.error or "")


def test_progress_reaches_the_heartbeat() -> None:
    seen: list[dict[str, Any]] = []
    solve(run([pos(f"p{k}", capacity=3) for k in range(6)], n=12), SolveContext(report=seen.append))
    solutions = [s for s in seen if "best_objective" in s]
    assert solutions
    assert {"best_objective", "best_bound", "lines", "phase"} <= set(solutions[0])


# The suite's timeout (pyproject.toml), by a thread: a signal is never handled while the main
# thread is inside CP-SAT, so the default method would wait for the solve however long it runs.
@pytest.mark.timeout(method="thread")
def test_a_stop_during_the_search_ends_it_and_keeps_the_best_lines() -> None:
    # The stop lands in the middle of the soft phase: right after its first solution, not at
    # some wall-clock moment that a slow machine might reach before the search even starts.
    # With a day to spend and a stall limit of a fifth of that, only the stop can end this
    # solve before the timeout fails the test.
    stop = threading.Event()

    def report(progress: dict[str, Any]) -> None:
        if progress.get("phase") == "soft" and "best_objective" in progress:
            stop.set()

    inp = run(list(vic_hospital()), n=140, term_structure=VIC_TERMS, max_seconds=86_400, constraints=("VIC_PGY1",))
    out = solve(inp, SolveContext(report=report, stop_event=stop))
    assert stop.is_set(), "the soft phase never reported a solution"
    assert len(lines_of(out)) == 140  # the best lines found before the stop
    soft = out.metadata["phases"]["soft"]
    # It did not end by reaching its bound: the search was stopped.
    assert soft["status"] == "FEASIBLE" and soft["objective"] > soft["best_bound"], soft
