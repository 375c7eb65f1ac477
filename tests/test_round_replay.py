"""Rounds (issue 10) loaded again after later rounds completed: export and the checker rebuild
a COMPLETED round's input, which must be the one it was solved with. Rounds that completed
after it (or were superseded after it) change nothing (sql/allocator/earlier_rounds.sql)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from daemon import offline
from daemon.allocator.data import AllocatorInput
from daemon.allocator.load import load
from daemon.allocator.xlsx_reader import read_workbook
from daemon.synthetic import Hospital, seed_allocation
from tests.checked import assert_valid_allocation
from tests.daemons import enqueue
from tests.test_rounds import allocated, solve_now


def as_run(inp: AllocatorInput) -> dict[str, Any]:
    """What earlier rounds change in a round's input (RankTable holds arrays: no ==)."""
    return {
        "workers": inp.worker_ids,
        "lines": inp.lines,
        "taken": inp.taken_capacity,
        "supervisor workers": inp.preferencer_taken_workers,
        "supervisor lines": inp.preferencer_used_lines,
    }


def loaded(db_url: str, run_id: str) -> AllocatorInput:
    with psycopg.connect(db_url) as c:
        return load(c, run_id)


def exported(db_url: str, run_id: str, book: Path) -> dict[str, Any]:
    assert offline.export_allocator_run(db_url, run_id, book) == 0
    return as_run(read_workbook(book))


def three_rounds(conn: psycopg.Connection) -> tuple[Hospital, list[str]]:
    """Round 0 fills line 0; round 1 (lines 0 and 1) has three workers for two seats and
    leaves one unassigned; round 2 places that one and the last worker on line 2, a line of
    round 1's supervisor outside round 1."""
    h = seed_allocation(conn, workers=6, lines=3, capacity=2, seed=41, supervisors=1)
    conn.execute("UPDATE allocation_run_preferencers SET max_workers = 6, max_job_lines = 3")
    config = Jsonb({"allow_unassigned": True, "num_workers": 1})
    rounds = [
        enqueue(conn, h.allocation_run, is_exclusive=True, priority=3, config=config,
                included_worker_mappings=h.workers[:2], included_job_lines=h.lines[:1]),
        enqueue(conn, h.allocation_run, is_exclusive=True, priority=2, config=config,
                included_worker_mappings=h.workers[:5], included_job_lines=h.lines[:2]),
        enqueue(conn, h.allocation_run, is_exclusive=True, priority=1, config=config),
    ]  # fmt: skip
    return h, rounds


def test_a_completed_round_reloads_with_the_input_it_was_solved_with(
    db_url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    h, rounds = three_rounds(conn)
    solve_now(db_url, rounds[0])
    assert set(allocated(conn, rounds[0]).values()) == {h.lines[0]}
    before: dict[str, dict[str, Any]] = {}
    for run in rounds[1:]:
        before[run] = as_run(loaded(db_url, run))  # PENDING, next in line: what its claim sees
        solve_now(db_url, run)
        assert as_run(loaded(db_url, run)) == before[run]  # and what it sees once COMPLETED
    first, second = rounds[1], rounds[2]
    # The case: round 2 placed the worker round 1 left unassigned, on its supervisor's line
    # outside round 1. Today's round 1 would lose that worker and count that seat.
    left = set(h.workers[2:5]) - set(allocated(conn, first))
    assert len(left) == 1 and left <= set(allocated(conn, second)), (left, allocated(conn, second))
    assert set(allocated(conn, second).values()) == {h.lines[2]}
    assert set(before[first]["workers"]) == set(h.workers[2:5])
    assert before[first]["taken"] == {h.lines[0]: 2}
    assert before[first]["supervisor workers"] == {}

    for run in rounds[1:]:
        assert as_run(loaded(db_url, run)) == before[run], run
        assert exported(db_url, run, tmp_path / f"{run}.xlsx") == before[run], run
        assert_valid_allocation(db_url, run)  # the checker, on the input rebuilt now

    # Superseding round 0 now changes nothing for rounds that completed while it counted...
    conn.execute("SELECT supersede_run(%s)", (rounds[0],))
    for run in rounds[1:]:
        assert as_run(loaded(db_url, run)) == before[run], run
        assert_valid_allocation(db_url, run)
    # ...but a round still to run no longer counts it.
    redo = enqueue(conn, h.allocation_run, is_exclusive=True, included_worker_mappings=h.workers[:2])
    assert set(loaded(db_url, redo).worker_ids) == set(h.workers[:2])
