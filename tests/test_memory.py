"""No run can exhaust the host: each solver process has an address-space limit, a run that
needs more fails at its first attempt saying so, and oversized models are refused before
anything is built."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from daemon.allocator.solve import solve as allocate
from daemon.planner.data import PlannerInput
from daemon.planner.hospitals import vic_hospital
from daemon.planner.solve import solve as plan
from daemon.settings import memory_bytes
from daemon.solving import BadInput, SolveContext
from daemon.synthetic import seed_allocation, seed_positions
from tests.allocator.alloc_factory import make_input
from tests.daemons import DaemonProcess, attempts, enqueue, events, fails_then_serves, wait_final, wait_for
from tests.slow_kind import ABORT_KEY, MEMORY_KEY

GIB = 2**30


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("6G", 6 * GIB),
        ("6GiB", 6 * GIB),
        ("512M", 512 * 2**20),
        ("1.5g", int(1.5 * GIB)),
        ("unlimited", None),
        ("0", None),
    ],
)
def test_memory_sizes(text: str, size: int | None) -> None:
    assert memory_bytes(text) == size


@pytest.mark.parametrize("text", ["lots", "6X", "1M", "-1G", "inf", "1e30G"])
def test_bad_memory_sizes_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        memory_bytes(text)


def test_an_allocator_run_too_large_for_the_limit_is_refused_before_building() -> None:
    """Past the dense path's size, a run the sparse hub path cannot take (stability here)."""
    workers = [f"w{i}" for i in range(5000)]
    inp = make_input({w: {} for w in workers}, {f"l{j}": 1 for j in range(5000)}, config={"stability": "weak"})
    with pytest.raises(
        BadInput,
        match=r"5,000 workers x 5,000 job lines \(not solvable on the sparse path: weak stability.*\) "
        r"needs about 4\.7 GiB.*1\.0 GiB",
    ):
        allocate(inp, SolveContext(memory_limit=GIB))


def test_a_planner_run_too_large_for_the_limit_is_refused_before_building() -> None:
    inp = PlannerInput(run_id="r", allocation_run_id="a", n_job_lines=100_000, positions=vic_hospital())
    with pytest.raises(
        BadInput, match=r"100,000 lines x 35 positions x 5 terms with 2 search workers needs about .* GiB.*SLOT_MEMORY"
    ):
        plan(inp, SolveContext(memory_limit=6 * GIB))


def test_a_run_that_outgrows_its_solver_fails_at_once_and_the_solver_is_replaced(
    conn: psycopg.Connection, db_url: str, tmp_path: Path
) -> None:
    hospital = seed_allocation(conn, workers=6, lines=3, capacity=2, seed=4)
    d = DaemonProcess(
        db_url, "--solver-processes", "1", slow=True, log_dir=tmp_path, env={"RECEPTORD_SLOT_MEMORY": "1G"}
    )
    try:
        hog = fails_then_serves(conn, d, hospital.allocation_run, {MEMORY_KEY: 2 * GIB})
        wait_for(lambda: d.log().count('"solving"') == 2, 10, "both solves to be logged")
    finally:
        assert d.stop() == 0, d.log()
    error = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (hog,)).fetchone()
    assert error is not None and "needs more memory than a solver process may use (1.0 GiB" in error[0]
    assert attempts(conn, hog) == 1 and events(conn, hog) == ["enqueued", "claimed", "failed"]
    pids = [line.split('"solver_pid": ')[1].split(",")[0] for line in d.log().splitlines() if '"solving"' in line]
    assert pids[0] != pids[1]  # the process that ran out was replaced


def test_the_runaway_planner_run_fails_at_once_and_the_daemon_serves_on(
    conn: psycopg.Connection, db_url: str, tmp_path: Path
) -> None:
    """The probe's runaway: 100,000 lines, a million seats per position, 10 s: once it grew
    to 4.2 GiB over 87 s. Now refused before building, at its first attempt."""
    service = seed_positions(conn, vic_hospital(), name="runaway", seed=8)
    conn.execute("UPDATE positions SET capacity = 1000000 WHERE allocation_run = %s", (service,))
    d = DaemonProcess(db_url, "--solver-processes", "1", log_dir=tmp_path)
    try:
        runaway = conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, max_seconds) "
            "VALUES (%s, 100000, 10) RETURNING id",
            (service,),
        ).fetchone()
        assert runaway is not None
        assert wait_final(conn, str(runaway[0])) == "FAILED", d.log()
        after = enqueue(conn, seed_allocation(conn, workers=4, lines=2, capacity=2, seed=3).allocation_run)
        assert wait_final(conn, after) == "COMPLETED", d.log()
    finally:
        assert d.stop() == 0, d.log()
    row = conn.execute(
        "SELECT last_error, attempts FROM allocation_planner_runs WHERE id = %s", (str(runaway[0]),)
    ).fetchone()
    assert row is not None and "too large for one solver process" in row[0] and row[1] == 1


def test_a_solver_aborted_under_its_memory_limit_fails_at_once(
    conn: psycopg.Connection, db_url: str, tmp_path: Path
) -> None:
    """OR-Tools allocates in C++ threads: past the limit, std::bad_alloc ends in SIGABRT, not a
    MemoryError. That too is the run's size, not a crash to retry three times."""
    hospital = seed_allocation(conn, workers=4, lines=2, capacity=2, seed=6)
    d = DaemonProcess(
        db_url, "--solver-processes", "1", slow=True, log_dir=tmp_path, env={"RECEPTORD_SLOT_MEMORY": "2G"}
    )
    try:
        aborted = fails_then_serves(conn, d, hospital.allocation_run, {ABORT_KEY: True})
    finally:
        assert d.stop() == 0, d.log()
    error = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (aborted,)).fetchone()
    assert error is not None and "needs more memory than a solver process may use (2.0 GiB" in error[0]
    assert attempts(conn, aborted) == 1
