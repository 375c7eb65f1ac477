"""`receptord demo`, the README's first command, runs the whole loop on its own embedded server."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from daemon.db import ROOT
from tests.daemons import status, wait_for


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "demo", "--dir", str(tmp_path), "--workers", "18", "--lines", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("-> COMPLETED") == 2  # the planner run, then the allocator run
    assert (tmp_path / "allocator-run.xlsx").exists()
    # Nothing it suggests points at its own server, gone once it exits (issue 13).
    assert "DATABASE_URL='" not in done.stdout
    assert "The demo's PostgreSQL has stopped" in done.stdout


def test_demo_keep_is_a_way_in_runs_inserted_by_hand_complete_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daemon.cli",
            "demo",
            "--keep",
            "--dir",
            str(tmp_path),
            "--workers",
            "8",
            "--lines",
            "10",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_collect, args=(proc, lines), daemon=True).start()
    try:
        printed = _read_until(lines, "The first matches", timeout=300)
        psql, url = re.search(r"connect:\s+(\S+) '([^']+)'", printed).groups()  # type: ignore[union-attr]
        assert Path(psql).is_file()  # the wheel's own client: no PostgreSQL install needed
        assert f"watch:    DATABASE_URL='{url}' receptord status --watch" in printed
        inserts = printed[printed.index("Enqueue by hand") : printed.index("The first matches")]
        statements = [s.strip() for s in inserts.split("\n", 1)[1].split(";") if s.strip()]
        assert len(statements) == 2
        with psycopg.connect(url, autocommit=True) as conn:
            ids = [conn.execute(s + " RETURNING id").fetchone()[0] for s in statements]  # type: ignore[index]
            wait_for(
                lambda: [status(conn, str(i)) for i in ids] == ["COMPLETED", "COMPLETED"],
                120,
                "both runs inserted by hand to complete",
            )
        shown = subprocess.run(
            [sys.executable, "-m", "daemon.cli", "status", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "DATABASE_URL": url},
        )
        assert [row["state"] for row in json.loads(shown.stdout)["Live daemons"]] == ["running"]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0, _drain(lines)
    assert "Stopped: the daemon drained" in _drain(lines)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()  # the server went with it


def _collect(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    for line in proc.stdout or ():
        lines.put(line)


def _read_until(lines: queue.Queue[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in seen):
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            raise AssertionError("".join(seen)[-3000:]) from None
    return "".join(seen)


def _drain(lines: queue.Queue[str]) -> str:
    out = []
    while not lines.empty():
        out.append(lines.get_nowait())
    return "".join(out)
