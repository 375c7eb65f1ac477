"""Supervisor caps across exclusive rounds, on a real daemon and database (issue 10, item 3).

Supervisor S owns lines A and B. Round 1 (exclusive, only B) puts a worker on B; round 2
(exclusive, A and an unsupervised line C, or A alone) must count that worker against S's
``max_workers`` and B against its ``max_job_lines`` although B is not in round 2.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.checked import assert_valid_allocation
from tests.daemons import DaemonProcess, enqueue, wait_final

Conn = psycopg.Connection[Any]


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Conn]:
    d = DaemonProcess(db_url, log_dir=tmp_path)
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn
    assert d.stop() == 0, d.log()[-3000:]


@dataclass(frozen=True)
class Rounds:
    allocation_run: str
    lines: dict[str, str]  # name -> job line id
    workers: dict[str, str]  # name -> worker mapping id


def _seed(conn: Conn, *, max_workers: int | None, max_job_lines: int | None) -> Rounds:
    run = str(uuid.uuid4())
    lines = {name: str(uuid.uuid4()) for name in ("A", "B", "C")}
    workers = {name: str(uuid.uuid4()) for name in ("w1", "w2")}
    sup = str(uuid.uuid4())
    with conn.transaction():
        conn.execute(
            "INSERT INTO allocationruns (id, name, periodstart, periodend)"
            " VALUES (%s, 'rounds', '2027-01-04', '2027-12-31')",
            (run,),
        )
        for i, (name, lid) in enumerate(lines.items()):
            conn.execute(
                "INSERT INTO job_lines (id, allocation_run, name, sort_order, max_n_workers)"
                " VALUES (%s, %s, %s, %s, 2)",
                (lid, run, name, i),
            )
        for name, mid in workers.items():
            wid = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO workers (id, name, email) VALUES (%s, %s, %s)", (wid, name, f"{name}@example.org")
            )
            conn.execute(
                "INSERT INTO allocation_run_worker_mappings (id, allocation_run, worker) VALUES (%s, %s, %s)",
                (mid, run, wid),
            )
            for rank, line in enumerate(("A", "B", "C"), start=1):  # everyone wants S's lines first
                conn.execute(
                    "INSERT INTO preference_worker_job_lines (worker_mapping, job_line, rank) VALUES (%s, %s, %s)",
                    (mid, lines[line], rank),
                )
        conn.execute(
            "INSERT INTO allocation_run_preferencers (id, allocation_run, name, max_job_lines, max_workers) "
            "VALUES (%s, %s, 'S', %s, %s)",
            (sup, run, max_job_lines, max_workers),
        )
        for line in ("A", "B"):
            conn.execute(
                "INSERT INTO job_line_preferencers (job_line, preferencer) VALUES (%s, %s)", (lines[line], sup)
            )
    return Rounds(run, lines, workers)


def _allocated(conn: Conn, run_id: str) -> dict[str, str]:
    return {
        str(w): str(j)
        for w, j in conn.execute(
            "SELECT worker_mapping, job_line FROM allocator_py_allocations WHERE run_id = %s", (run_id,)
        )
    }


def _round_one(conn: Conn, db_url: str, r: Rounds) -> None:
    first = enqueue(
        conn,
        r.allocation_run,
        is_exclusive=True,
        included_job_lines=[r.lines["B"]],
        included_worker_mappings=[r.workers["w1"]],
    )
    assert wait_final(conn, first) == "COMPLETED"
    assert _allocated(conn, first) == {r.workers["w1"]: r.lines["B"]}
    assert_valid_allocation(db_url, first)


@pytest.mark.parametrize(("max_workers", "max_job_lines"), [(1, None), (None, 1)])
def test_round_two_counts_round_one_on_a_line_outside_it(
    served: Conn, db_url: str, max_workers: int | None, max_job_lines: int | None
) -> None:
    conn = served
    r = _seed(conn, max_workers=max_workers, max_job_lines=max_job_lines)
    _round_one(conn, db_url, r)
    second = enqueue(conn, r.allocation_run, is_exclusive=True, included_job_lines=[r.lines["A"], r.lines["C"]])
    assert wait_final(conn, second) == "COMPLETED"
    # w2 would rather have A, but S's cap is used up by w1 on B: C it is.
    assert _allocated(conn, second) == {r.workers["w2"]: r.lines["C"]}
    assert_valid_allocation(db_url, second)


def test_round_two_with_only_the_capped_supervisors_line_is_infeasible(served: Conn, db_url: str) -> None:
    conn = served
    r = _seed(conn, max_workers=1, max_job_lines=None)
    _round_one(conn, db_url, r)
    second = enqueue(conn, r.allocation_run, is_exclusive=True, included_job_lines=[r.lines["A"]])
    assert wait_final(conn, second) == "INFEASIBLE"
    assert _allocated(conn, second) == {}
    row = conn.execute("SELECT last_error FROM receptord_runs WHERE id = %s", (second,)).fetchone()
    assert row is not None and row[0] and "max_workers" in row[0], row
