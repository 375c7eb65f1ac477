"""Workbook reading benchmark (issue 14): `receptord allocate --parse-xlsx` on the L tier.

The L tier of the allocator benchmark (1,500 workers x 1,500 lines, 2.25 M preference rows)
is seeded, loaded as the daemon loads it and exported as `receptord export` writes it (the
streamed writer above 500,000 rows); then ``read_workbook`` reads it back three times. The
baseline is openpyxl's read-only mode merely walking every cell once, which is what the
reader did before python-calamine (and less: none of its checks): a lower bound on its time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl
import psycopg

from bench.common import fresh_database, save
from daemon.allocator.load import load
from daemon.allocator.xlsx_reader import read_workbook
from daemon.allocator.xlsx_writer import write_input
from daemon.synthetic import seed_allocation

WORKERS = LINES = 1500
READS = 3


def _openpyxl_walk(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for name in wb.sheetnames for _ in wb[name].iter_rows(values_only=True))
    finally:
        wb.close()


def main() -> dict[str, Any]:
    url = fresh_database()
    with psycopg.connect(url, autocommit=True) as conn:
        h = seed_allocation(conn, workers=WORKERS, lines=LINES, seed=1500, name="bench xlsx L")
        row = conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id, config) VALUES (%s, '{}') RETURNING id",
            (h.allocation_run,),
        ).fetchone()
        assert row is not None
        inp = load(conn, str(row[0]))
    with tempfile.TemporaryDirectory(prefix="receptord-bench-xlsx-") as tmp:
        path = Path(tmp) / "L.xlsx"
        started = time.perf_counter()
        write_input(path, inp)
        write_seconds = time.perf_counter() - started
        reads = []
        for _ in range(READS):
            started = time.perf_counter()
            back = read_workbook(path)
            reads.append(time.perf_counter() - started)
            assert len(back.worker_prefs) == len(inp.worker_prefs) == WORKERS * LINES
        started = time.perf_counter()
        rows_walked = _openpyxl_walk(path)
        baseline = time.perf_counter() - started
        size = path.stat().st_size
    result = {
        "workers": WORKERS,
        "lines": LINES,
        "preference_rows": len(inp.worker_prefs),
        "workbook_bytes": size,
        "write_seconds": write_seconds,
        "read_seconds": reads,
        "read_median_seconds": statistics.median(reads),
        "openpyxl_walk_seconds": baseline,
        "openpyxl_rows_walked": rows_walked,
    }
    save("xlsx", result, table(result))
    return result


def table(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| workbook | preference rows | size | read_workbook (median of 3) | openpyxl walking the cells | export |",
            "|---|---|---|---|---|---|",
            f"| L {r['workers']:,} x {r['lines']:,} | {r['preference_rows']:,} | {r['workbook_bytes'] / 2**20:.0f} MiB "
            f"| {r['read_median_seconds']:.1f} s | {r['openpyxl_walk_seconds']:.1f} s "
            f"({r['openpyxl_walk_seconds'] / r['read_median_seconds']:.1f}x) | {r['write_seconds']:.1f} s |",
        ]
    )
