"""The HiGHS child process dies with the solver process that started it (kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.daemons import ROOT

# A weak-stability run HiGHS does not prove for a long while (bench G4's shape, smaller).
_SOLVER = """
import sys
from bench.stability import Case, generate
from daemon.allocator.solve import solve
from daemon.solving import SolveContext
case = Case("kill", 400, 100, 4, True, None, 120, "", 120, 0.0)
solve(generate(case), SolveContext())
"""


def _highs_children(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "daemon.allocator.highs_process" in " ".join(c.cmdline())]


def test_the_highs_child_dies_with_its_solver_process() -> None:
    solver = subprocess.Popen([sys.executable, "-c", _SOLVER], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        children: list[psutil.Process] = []
        while not children and time.monotonic() < deadline:
            assert solver.poll() is None, "the solve ended before HiGHS started"
            time.sleep(0.2)
            children = _highs_children(solver.pid)
        assert children, "no HiGHS child appeared"
        time.sleep(1.0)  # past the child's start, where it arms its parent-death signal
        os.kill(solver.pid, signal.SIGKILL)
        solver.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"HiGHS outlived its solver process: {alive}"
    finally:
        if solver.poll() is None:
            solver.kill()
