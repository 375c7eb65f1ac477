"""A controllable allocator for lifecycle tests: the real loader, writer and solver, with
test-only config keys that make the solve take time or crash its process first.

Tests need solves that last long enough to cancel, drain or kill mid-way; real models finish
small runs in milliseconds. This wraps the real solver rather than faking the database.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any

import psycopg

from daemon import cli, log
from daemon.allocator import solve as allocator_solve_module
from daemon.allocator.data import AllocatorInput
from daemon.allocator.load import load as allocator_load
from daemon.allocator.solve import solve as allocator_solve
from daemon.kinds import RunKind, registry
from daemon.loop import Daemon
from daemon.solving import SolveContext, SolveOutcome

SLEEP_KEY = "test_sleep_seconds"
CRASH_KEY = "test_crash"
HANG_KEY = "test_hang_seconds"  # sleep ignoring stop requests, like a solver stuck in C code
LOAD_SLEEP_KEY = "test_load_sleep_seconds"  # a slow load, in the daemon (like 2.25 M rows)
MEMORY_KEY = "test_allocate_bytes"  # allocate this much in the solver, as a runaway model would
ABORT_KEY = "test_abort"  # abort the solver process, as std::bad_alloc in a C++ thread does
BREAK_KEY = "test_break_model"  # a modelling bug: the model puts the first worker on a second line


def solve(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
    config = dict(inp.config)
    sleep = float(config.pop(SLEEP_KEY, 0))
    config.pop(LOAD_SLEEP_KEY, None)
    if config.pop(ABORT_KEY, False):
        os.abort()
    hog = bytearray(int(config.pop(MEMORY_KEY, 0)))
    del hog
    time.sleep(float(config.pop(HANG_KEY, 0)))
    if config.pop(CRASH_KEY, False):
        os._exit(70)  # a solver process dying mid-solve, as a segfault or the OOM killer would
    if config.pop(BREAK_KEY, False):
        return _with_a_modelling_bug(dataclasses.replace(inp, config=config), ctx)
    deadline = time.monotonic() + sleep
    while time.monotonic() < deadline:
        if ctx.stop_requested():
            return SolveOutcome("FAILED", error="stopped before the end (must never be written)")
        ctx.report(sleeping_seconds_left=round(deadline - time.monotonic(), 2))
        time.sleep(0.02)
    return allocator_solve(dataclasses.replace(inp, config=config), ctx)


def _with_a_modelling_bug(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
    """The real solve, whose model (``_solve``, before the independent check) moves the first
    worker onto the next line at its true cost, as a wrong constraint would."""
    real = allocator_solve_module._solve

    def broken(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
        out = real(inp, ctx)
        rows = list(out.payload.allocations)
        lines = sorted(inp.line_ids)
        moved = lines[(lines.index(rows[0].job_line) + 1) % len(lines)]
        rows[0] = dataclasses.replace(rows[0], job_line=moved)
        return dataclasses.replace(out, payload=dataclasses.replace(out.payload, allocations=tuple(rows)))

    allocator_solve_module._solve = broken
    try:
        return allocator_solve(inp, ctx)
    finally:
        allocator_solve_module._solve = real


def load(conn: psycopg.Connection[Any], run_id: str) -> AllocatorInput:
    inp = allocator_load(conn, run_id)
    # In the database, like a long query: the daemon can cancel it.
    conn.execute("SELECT pg_sleep(%s)", (float(inp.config.get(LOAD_SLEEP_KEY, 0)),))
    return inp


def kinds() -> dict[str, RunKind]:
    real = registry()
    real["allocator"] = dataclasses.replace(real["allocator"], load=load, solve=solve)
    return real


if __name__ == "__main__":
    # `python -m tests.slow_kind [run flags]`: `receptord run` with this solver plugged in.
    args = cli.parser().parse_args(["run", *sys.argv[1:]])
    settings = cli.settings_from(args)
    log.configure(settings.log_format, settings.log_level)
    d = Daemon(settings, kinds())
    d.install_signal_handlers()
    sys.exit(d.run())
