"""The offline commands: a workbook with no database, one queued run in the foreground, and an
export of a database run that replays offline to the same result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import psycopg

from daemon.allocator.solve import solve as solve_allocator
from daemon.allocator.xlsx_reader import read_workbook
from daemon.db import ROOT
from daemon.planner.example import positions as example_positions
from daemon.solving import SolveContext
from daemon.synthetic import seed_allocation, seed_positions
from tests.checked import assert_valid_allocation
from tests.daemons import enqueue, events

EXAMPLE = ROOT / "examples" / "allocator-example.xlsx"


def receptord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_parse_xlsx_solves_the_example_without_a_database(tmp_path: Path) -> None:
    out = tmp_path / "result.xlsx"
    done = receptord("allocate", "--parse-xlsx", str(EXAMPLE), "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OPTIMAL" in done.stdout
    book = openpyxl.load_workbook(out, read_only=True)
    assert len(list(book["allocations"].iter_rows(min_row=2))) == 24  # one row per doctor
    # The offline outcome's explanations and seat values, one row each.
    outcome = solve_allocator(read_workbook(EXAMPLE), SolveContext())
    assert outcome.payload.explanations
    assert len(list(book["why"].iter_rows(min_row=2))) == len(outcome.payload.explanations)
    assert len(list(book["seat_values"].iter_rows(min_row=2))) == len(outcome.payload.seat_values) == 10


def test_a_bad_workbook_names_the_sheet_and_row(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(EXAMPLE)
    book["preference_worker_job_lines"]["C2"] = "first"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    done = receptord("allocate", "--parse-xlsx", str(bad))
    assert done.returncode == 2
    assert "preference_worker_job_lines" in done.stdout and "row 2" in done.stdout


def test_foreground_run_then_export_replays_offline_to_the_same_result(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        h = seed_allocation(conn, workers=20, lines=8, capacity=3, ranked=5, seed=21)
        run_id = enqueue(conn, h.allocation_run)
        done = receptord("allocate", "--allocator-run-id", run_id, "--database-url", db_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
        objective = assert_valid_allocation(db_url, run_id)
        # A finished run is not solved again.
        again = receptord("allocate", "--allocator-run-id", run_id, "--database-url", db_url)
        assert again.returncode == 1 and "is COMPLETED" in again.stdout
    book = tmp_path / "export.xlsx"
    done = receptord("export", "--allocator-run-id", run_id, "--output", str(book), "--database-url", db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    replay = receptord("allocate", "--parse-xlsx", str(book))
    assert replay.returncode == 0, replay.stdout
    replayed = float(next(line for line in replay.stdout.splitlines() if "objective:" in line).split(":")[1])
    assert abs(replayed - objective) < 1e-6
    assert_export_explains(db_url, run_id, book)


def assert_export_explains(db_url: str, run_id: str, book: Path) -> None:
    """The export's why and seat_values sheets: the run's rows in the database, one each, with
    the sentences `receptord explain` prints."""
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT worker_mapping::text, job_line::text, reason FROM allocator_py_explanations WHERE run_id = %s",
            (run_id,),
        ).fetchall()
        seats = conn.execute("SELECT count(*) FROM allocator_py_seat_values WHERE run_id = %s", (run_id,)).fetchone()
    assert stored and seats is not None
    wb = openpyxl.load_workbook(book, read_only=True)
    why = list(wb["why"].iter_rows(min_row=2, values_only=True))
    assert sorted((r[0], r[2], r[5]) for r in why) == sorted(stored)
    assert len(list(wb["seat_values"].iter_rows(min_row=2))) == seats[0] == 8
    told = receptord("explain", "--allocator-run-id", run_id, "--database-url", db_url)
    assert told.returncode == 0, told.stdout + told.stderr
    assert all(f"  - {r[8]}" in told.stdout.splitlines() for r in why)


PLANNER_EXAMPLE = ROOT / "examples" / "planner-example.xlsx"


def quick(book_path: Path, out: Path, seconds: int = 8, lines: int = 20) -> Path:
    """The example workbook with a smaller, quicker run."""
    book = openpyxl.load_workbook(book_path)
    sheet = book["allocation_planner_runs"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("max_seconds") + 1, seconds)
    sheet.cell(2, header.index("n_job_lines") + 1, lines)
    book.save(out)
    return out


def test_plan_parse_xlsx_writes_a_week_by_week_workbook(tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    done = receptord("plan", "--parse-xlsx", str(quick(PLANNER_EXAMPLE, tmp_path / "in.xlsx")), "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lines_built: 20" in done.stdout
    book = openpyxl.load_workbook(out)
    assert {"lines", "diagnostics"} <= set(book.sheetnames)
    assert book["lines"].merged_cells.ranges  # rotations drawn as merged week blocks


def test_planner_run_in_the_foreground_then_exported_and_replayed(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        allocation_run = seed_positions(conn, example_positions(), name="offline planner")
        row = conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, max_seconds) "
            "VALUES (%s, 16, '{VIC_PGY1}', 8) RETURNING id",
            (allocation_run,),
        ).fetchone()
        assert row is not None
        run_id = str(row[0])
        done = receptord("plan", "--planner-run-id", run_id, "--database-url", db_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
    book = tmp_path / "planner-export.xlsx"
    done = receptord("export", "--planner-run-id", run_id, "--output", str(book), "--database-url", db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lines" in openpyxl.load_workbook(book).sheetnames
    replay = receptord("plan", "--parse-xlsx", str(book))
    assert replay.returncode == 0, replay.stdout
    assert "lines_built: 16" in replay.stdout


def test_parse_xlsx_with_allow_unassigned_writes_unassigned_rows(tmp_path: Path) -> None:
    from daemon.allocator.xlsx_writer import write_input
    from tests.allocator.alloc_factory import make_input

    inp = make_input({"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 2}}, {"x": 2}, config={"allow_unassigned": True})
    book, out = tmp_path / "in.xlsx", tmp_path / "result.xlsx"
    write_input(book, inp)
    done = receptord("allocate", "--parse-xlsx", str(book), "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(openpyxl.load_workbook(out, read_only=True)["allocations"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3  # one row per doctor, the unassigned one included
    assert [r[3] for r in rows].count("unassigned") == 1
