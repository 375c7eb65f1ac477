"""Bad input (SPEC §8): BadInput, its message naming the rows or settings at fault."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from daemon.planner.solve import solve
from daemon.solving import BadInput, SolveContext
from tests.planner.factory import pos, run


def _fails(message: str, positions: Any = None, **fields: Any) -> None:
    inp = run(positions if positions is not None else [pos(f"p{k}") for k in range(4)], **fields)
    with pytest.raises(BadInput, match=message):
        solve(inp, SolveContext())


def test_unknown_constraint_names_list_the_valid_ones() -> None:
    inp = run([pos("a")], constraints=("VIC_PGY1", "NO_NIGHT", "MAX_SERVICE_TERMS=x"))
    with pytest.raises(BadInput) as err:
        solve(inp, SolveContext())
    message = str(err.value)
    assert "unknown constraint name(s): NO_NIGHT, MAX_SERVICE_TERMS=X" in message
    for valid in (
        "NO_NIGHTS",
        "AMC_PGY1",
        "NSW_PGY2",
        "TAS_PGY1",
        "MAX_SERVICE_TERMS=k",
        "NUM_TERMS=k",
        "ALLOW_6_MONTH_TERMS",
        "UNRESTRICTED",
    ):
        assert valid in message


def test_term_structure_must_add_up_to_the_year() -> None:
    _fails(r"10\+10\+10\+10\+10 = 50 weeks", term_structure=(10, 10, 10, 10, 10))


def test_negative_capacities_name_the_positions() -> None:
    _fails(
        "negative capacity: bad, worse",
        [pos("ok"), pos("bad", capacity=-1), pos("worse", capacity_by_term=(1, -2, 1, 1))],
    )


def test_capacity_by_term_needs_one_entry_per_term() -> None:
    _fails("one entry per term .4.: short", [pos("short", capacity_by_term=(1, 1))])


def test_leave_that_cannot_fit() -> None:
    _fails("14 weeks of leave cannot fit", leave_weeks=14)


def test_negative_leave() -> None:
    _fails("leave_weeks must not be negative", leave_weeks=-1)


def test_no_positions() -> None:
    _fails("has no positions", [])


def test_no_position_open_to_the_cohort() -> None:
    _fails(
        "no position is open to cohort PGY1", [pos("a", cohorts=("PGY2",)), pos("b", cohorts=("PGY2",))], cohort="PGY1"
    )


def test_duplicate_ids_and_odd_categories() -> None:
    _fails("duplicate position ids: a", [pos("a"), pos("a")])
    _fails(r"categories must be A, B, C or D: odd \(E\)", [pos("odd", experience_categories=("A", "E"))])


def test_run_settings() -> None:
    _fails("n_job_lines must be at least 1", n=0)
    _fails(r"max_seconds must be within \(0, 86400\] seconds, got 0", max_seconds=0)
    _fails(r"num_workers must be within \[1, 10000\], got 0", num_workers=0)
    _fails(r"num_workers must be within \[1, 10000\], got 10001", num_workers=10_001)
    _fails("NUM_TERMS=0: k must be at least 1", constraints=("NUM_TERMS=0",))
    _fails("affinity weights must lie in -100..100: a/b", specialty_affinity=(("a", "b", 101),))


def test_all_faults_are_reported_at_once() -> None:
    inp = replace(run([pos("bad", capacity=-1)], n=0))
    with pytest.raises(BadInput, match=r"n_job_lines.*negative capacity: bad"):
        solve(inp, SolveContext())


def test_values_of_the_wrong_type_are_bad_input() -> None:
    # What a loader without the database's checks may pass: each a BadInput naming the field.
    _fails(r"term_structure must be whole numbers of weeks, got \(26, None, 26\)", term_structure=(26, None, 26))
    _fails(r"term_structure must be whole numbers of weeks", term_structure=([26, 26],))
    _fails("max_seconds must be a finite number, got inf", max_seconds=float("inf"))
    _fails("max_seconds must be a finite number, got nan", max_seconds=float("nan"))
    _fails(r"constraints must be names, got \(None,\)", constraints=(None,))
    _fails(
        r"capacity_by_term must be whole numbers: b \(1, None, 1, 1\)",
        [pos("a"), pos("b", capacity_by_term=(1, None, 1, 1))],
    )
    _fails(r"cohorts and tags must be names: b cohorts \(None,\)", [pos("a"), pos("b", cohorts=(None,))])
    _fails(r"cohorts and tags must be names: b tags \('x', None\)", [pos("a"), pos("b", tags=("x", None))])
    _fails(r"categories must be A, B, C or D: b \(None\)", [pos("a"), pos("b", experience_categories=(None,))])
