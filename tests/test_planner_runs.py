"""Planner runs end to end: a plain INSERT, a real daemon, lines written with the final status,
every written line verified by the independent compliance checker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.checks.planner import check_lines
from daemon.offline import export_planner_run
from daemon.planner.hospitals import vic_hospital
from daemon.planner.load import load
from daemon.planner.xlsx_reader import read_workbook
from daemon.synthetic import seed_allocation, seed_positions
from tests.daemons import DaemonProcess, events, wait_final

Conn = psycopg.Connection[Any]


class Rotation:
    def __init__(self, kind: str, start: int, length: int, position: Any, term: int | None) -> None:
        self.kind, self.start_week, self.length_weeks = kind, start, length
        self.position_id = None if position is None else str(position)
        self.term_index = term


class Line:
    def __init__(self, name: str, rotations: list[Rotation], pathway: str | None) -> None:
        self.name, self.rotations, self.pathway = name, rotations, pathway


def written_lines(conn: Conn, allocation_run: str) -> list[Line]:
    lines: dict[str, Line] = {}
    for line_id, name, pathway, kind, start, length, position, term in conn.execute(
        "SELECT j.id, j.name, j.pathway, r.kind, r.start_week, r.length_weeks, r.position, r.term_index "
        "FROM job_lines j JOIN rotations r ON r.job_line = j.id WHERE j.allocation_run = %s "
        "ORDER BY j.sort_order, r.start_week, r.kind",
        (allocation_run,),
    ):
        line = lines.setdefault(str(line_id), Line(name, [], pathway))
        line.rotations.append(Rotation(kind, start, length, position, term))
    return list(lines.values())


def plan(conn: Conn, allocation_run: str, n: int, constraints: list[str], **columns: Any) -> str:
    cols = ["allocation_run", "n_job_lines", "constraints", *columns]
    values = [allocation_run, n, constraints, *columns.values()]
    sql = (
        f"INSERT INTO allocation_planner_runs ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING id"
    )
    row = conn.execute(sql, values).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[Conn, DaemonProcess]]:
    d = DaemonProcess(db_url, log_dir=tmp_path)
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn, d
    assert d.stop() == 0, d.log()


def test_vic_pgy1_lines_are_written_compliant_and_replaced_with_a_snapshot(
    served: tuple[Conn, DaemonProcess], db_url: str
) -> None:
    conn, d = served
    allocation_run = seed_positions(conn, vic_hospital(), name="Victorian health service")
    run_id = plan(conn, allocation_run, 12, ["VIC_PGY1"], max_seconds=30)
    assert wait_final(conn, run_id, timeout=120) == "COMPLETED", d.log()[-3000:]
    lines = written_lines(conn, allocation_run)
    assert len(lines) == 12
    with psycopg.connect(db_url) as c:
        inp = load(c, run_id)
    assert check_lines(inp, lines) == []
    assert events(conn, run_id) == ["enqueued", "claimed", "completed"]
    meta = conn.execute("SELECT result_metadata FROM allocation_planner_runs WHERE id = %s", (run_id,)).fetchone()
    assert meta is not None and meta[0]["seconds"]["solve"] > 0

    # A second run replaces the lines, after snapshotting them, in the same transaction.
    second = plan(conn, allocation_run, 10, ["VIC_PGY1"], max_seconds=30)
    assert wait_final(conn, second, timeout=120) == "COMPLETED", d.log()[-3000:]
    assert len(written_lines(conn, allocation_run)) == 10
    snap = conn.execute(
        "SELECT jsonb_array_length(snapshot->'lines') FROM job_lines_history WHERE planner_run = %s", (second,)
    ).fetchone()
    assert snap == (12,)


PATHWAYS = [
    {"name": "GP", "lines": 2, "specialties": ["Paediatrics", "Obstetrics"], "mode": "exact"},
    {"name": "pre-BPT", "lines": 2, "specialties": ["Medicine"], "min_terms": 2, "distinct": True, "mode": "soft"},
]


def test_pathways_reserve_the_first_lines_and_label_them(
    served: tuple[Conn, DaemonProcess], db_url: str, tmp_path: Path
) -> None:
    """Through the real lifecycle: the reserved lines come first, carry their pathway's name in
    job_lines.pathway, meet an exact pathway (the checker, from the database), are reported,
    and the export reads them back."""
    conn, d = served
    allocation_run = seed_positions(conn, vic_hospital(), name="pathways", seed=4)
    run_id = plan(conn, allocation_run, 6, ["UNRESTRICTED"], max_seconds=30, pathways=Jsonb(PATHWAYS))
    assert wait_final(conn, run_id, timeout=120) == "COMPLETED", d.log()[-3000:]
    lines = written_lines(conn, allocation_run)
    assert [line.pathway for line in lines] == ["GP", "GP", "pre-BPT", "pre-BPT", None, None]
    with psycopg.connect(db_url) as c:
        inp = load(c, run_id)
    assert [p.name for p in inp.pathways] == ["GP", "pre-BPT"]
    assert check_lines(inp, lines) == []
    meta = conn.execute("SELECT result_metadata FROM allocation_planner_runs WHERE id = %s", (run_id,)).fetchone()
    assert meta is not None
    gp, bpt = meta[0]["pathways"]
    assert (gp["lines"], gp["lines_met"]) == (["Line 001", "Line 002"], 2)
    assert (bpt["mode"], bpt["lines_built"]) == ("soft", 2)
    output = tmp_path / "export.xlsx"
    assert export_planner_run(db_url, run_id, output) == 0
    assert read_workbook(output).pathways == inp.pathways


def test_lines_in_use_are_never_replaced(served: tuple[Conn, DaemonProcess]) -> None:
    conn, d = served
    allocation_run = seed_positions(conn, vic_hospital(), name="in use", seed=2)
    first = plan(conn, allocation_run, 4, ["UNRESTRICTED"], max_seconds=20)
    assert wait_final(conn, first, timeout=120) == "COMPLETED", d.log()[-3000:]
    # A worker ranks a generated line: regenerating would silently delete that preference.
    h = seed_allocation(conn, workers=1, lines=1, seed=77)
    line = conn.execute("SELECT id FROM job_lines WHERE allocation_run = %s LIMIT 1", (allocation_run,)).fetchone()
    assert line is not None
    conn.execute(
        "UPDATE allocation_run_worker_mappings SET allocation_run = %s WHERE id = %s", (allocation_run, h.workers[0])
    )
    conn.execute("INSERT INTO preference_worker_job_lines VALUES (%s, %s, 1)", (h.workers[0], line[0]))
    second = plan(conn, allocation_run, 4, ["UNRESTRICTED"], max_seconds=20)
    assert wait_final(conn, second, timeout=120) == "FAILED"
    error = conn.execute("SELECT last_error FROM allocation_planner_runs WHERE id = %s", (second,)).fetchone()
    assert error is not None and "already in use" in error[0] and "1 preferences" in error[0]
    assert len(written_lines(conn, allocation_run)) == 4  # the first run's lines are intact
    assert conn.execute("SELECT count(*) FROM job_lines_history").fetchone() == (0,)


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"constraints": ["VIC_PGY1", "BOGUS_RULE"]}, ["BOGUS_RULE", "VIC_PGY1"]),
        ({"term_structure": [10, 10, 10]}, ["term"]),
        ({"leave_weeks": 60}, ["leave"]),
        (
            {"pathways": Jsonb([{"name": "GP", "lines": 2, "specialties": ["Paeds"], "mode": "exact"}])},
            ["pathway 'GP'", "'Paeds' match no position"],
        ),
        (
            {"pathways": Jsonb([{"name": "GP", "lines": "2", "specialties": ["Paediatrics"], "mode": "exact"}])},
            ["allocation_planner_runs.pathways of run", "pathway 1 ('GP'): lines must be a whole number"],
        ),
    ],
    ids=["unknown constraint", "term structure", "leave cannot fit", "pathway specialty", "pathway type"],
)
def test_bad_planner_input_fails_with_a_specific_message(
    served: tuple[Conn, DaemonProcess], columns: dict[str, Any], words: list[str]
) -> None:
    conn, d = served
    allocation_run = seed_positions(conn, vic_hospital(), name="bad", seed=3)
    constraints = columns.pop("constraints", ["UNRESTRICTED"])
    run_id = plan(conn, allocation_run, 4, constraints, **columns)
    assert wait_final(conn, run_id, timeout=60) in ("FAILED", "INFEASIBLE"), d.log()[-3000:]
    error = conn.execute("SELECT last_error FROM allocation_planner_runs WHERE id = %s", (run_id,)).fetchone()
    assert error is not None
    for word in words:
        assert word.lower() in error[0].lower(), error[0]
    assert conn.execute("SELECT count(*) FROM job_lines WHERE allocation_run = %s", (allocation_run,)).fetchone() == (
        0,
    )
