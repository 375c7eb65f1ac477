"""`receptord demo`, the README's first command, runs the whole loop on its own embedded server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from daemon.db import ROOT


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
