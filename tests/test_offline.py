"""The offline commands: a workbook with no database, one queued run in the foreground, and an
export of a database run that replays offline to the same result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import psycopg

from daemon.db import ROOT
from daemon.synthetic import seed_allocation
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
    sheet = openpyxl.load_workbook(out, read_only=True)["allocations"]
    assert len(list(sheet.iter_rows(min_row=2))) == 24  # one row per doctor


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
