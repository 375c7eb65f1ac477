"""Lines from an earlier release, for the reading benchmark's "before" column: the release's
tree (``git archive``) in a temporary folder, each case solved there by a child process with
that release's planner, the lines handed back as JSON and measured here with today's
``quality.figures`` — one ruler for before and after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from daemon.db import ROOT
from daemon.planner.result import GeneratedLine, Rotation

# The last release before issue 12's reading goals, leave rules, repair and local search.
BEFORE = "069eab2"
# The last release whose CP-SAT phases ran on the clock with the parallel portfolio (not
# repeatable), for the cost of repeatable output.
CLOCK_BOUND = "c111f2e"

# Run in the old tree: today's case builders (bench/reading_cases.py, which needs only modules
# the old release has) and the old release's solve.
_CHILD = """
import dataclasses, json, runpy, sys
from daemon.planner.solve import solve
from daemon.solving import SolveContext
cases = dict(runpy.run_path(sys.argv[1])["reading_cases"]())
inp = dataclasses.replace(cases[sys.argv[2]], max_seconds=float(sys.argv[3]), num_workers=2)
out = solve(inp, SolveContext(threads=2))
print(json.dumps([[dataclasses.asdict(r) for r in line.rotations] for line in out.payload or ()]))
"""


@contextmanager
def release_tree(revision: str = BEFORE) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"receptord-{revision}-") as tmp:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield Path(tmp)


def solve_there(tree: Path, case: str, seconds: float) -> list[GeneratedLine]:
    """``case`` (a name of ``reading_cases``) solved by the release in ``tree``."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT / "bench" / "reading_cases.py"), case, str(seconds)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},  # the old tree's daemon, not the installed one
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        GeneratedLine(name=f"Line {k:03d}", sort_order=k, rotations=tuple(Rotation(**r) for r in rotations))
        for k, rotations in enumerate(rows, start=1)
    ]
