"""Solver processes: where CP-SAT runs, isolated from the daemon and from each other.

Each slot is a single-process ``ProcessPoolExecutor``: the process stays warm between runs
(imports done once), and a crash (segfault, OOM kill, ``os._exit``) breaks only its own slot,
which is rebuilt, while solves in other slots go on. Plain data crosses the boundary both
ways. A stop request (cancellation, lost lease, shutdown) sets the slot's event; a watcher
thread in the child turns it into ``solver.stop_search()``. If the child does not stop in
time it is killed, which is always safe: nothing is written from a solver process.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import select
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from daemon import log
from daemon.kinds import Solver
from daemon.solving import SolveContext, SolveOutcome

# Imported once in the forkserver, so every new solver process starts warm.
PRELOAD = ["daemon.allocator.solve", "daemon.planner.solve"]


def context() -> BaseContext:
    """forkserver: forking the daemon itself (pool and LISTEN threads) would be unsafe."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


# --- in the solver process ------------------------------------------------------------------

_stop_event: MpEvent | None = None
_progress: Any = None


def _child_init(stop_event: MpEvent, progress: Any, daemon_pid: int, log_format: str, log_level: str) -> None:
    global _stop_event, _progress
    _stop_event, _progress = stop_event, progress
    # The daemon handles signals; a ^C in a terminal must not kill solves mid-write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with, args=(daemon_pid,), name="daemon-watch", daemon=True).start()
    log.configure(log_format, log_level)


def _exit_with(daemon_pid: int) -> None:
    """End this process when the daemon dies (kill -9 included): no orphan keeps solving.

    Our parent is the forkserver, which outlives the daemon as long as any solver process
    does, so neither PDEATHSIG nor a broken pipe would tell us; a pidfd of the daemon does.
    """
    try:
        fd = os.pidfd_open(daemon_pid)
    except (OSError, AttributeError):  # very old kernel: fall back to polling
        while _alive(daemon_pid):
            time.sleep(1.0)
    else:
        select.select([fd], [], [])
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _run(solve: Solver, problem: Any, run_context: dict[str, str], threads: int) -> SolveOutcome:
    assert _stop_event is not None
    import structlog

    structlog.contextvars.bind_contextvars(**run_context)
    progress = _progress
    ctx = SolveContext(report=progress.put, threads=threads)
    done = threading.Event()
    stop_event = _stop_event

    def watch() -> None:
        while not done.is_set():
            if stop_event.wait(0.05):
                ctx.request_stop()
                return

    watcher = threading.Thread(target=watch, name="stop-watcher", daemon=True)
    watcher.start()
    try:
        return solve(problem, ctx)
    finally:
        done.set()


# --- in the daemon ----------------------------------------------------------------------------


class SolverSlot:
    """One solver process and the channels to it."""

    def __init__(self, ctx: BaseContext, log_format: str, log_level: str) -> None:
        self._ctx = ctx
        self._log_args = (log_format, log_level)
        self._start()

    def _start(self) -> None:
        self._stop = self._ctx.Event()
        self._progress = self._ctx.Queue()
        self._executor = ProcessPoolExecutor(
            1,
            mp_context=self._ctx,
            initializer=_child_init,
            initargs=(self._stop, self._progress, os.getpid(), *self._log_args),
        )

    def submit(self, solve: Solver, problem: Any, run_context: dict[str, str], threads: int) -> Future[SolveOutcome]:
        self._stop.clear()
        while self.latest_progress() is not None:  # leftovers of the previous run
            pass
        return self._executor.submit(_run, solve, problem, run_context, threads)

    def warm_up(self) -> None:
        """Start the process now (imports included), not on the first run's clock."""
        self._executor.submit(os.getpid).result()

    def request_stop(self) -> None:
        self._stop.set()

    def latest_progress(self) -> dict[str, Any] | None:
        """The newest progress report since the last call, if any."""
        latest = None
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                latest = self._progress.get_nowait()
        return latest

    def kill(self) -> None:
        """Kill the solver process now; the slot must be rebuilt afterwards."""
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def rebuild(self) -> None:
        """Replace a broken (crashed or killed) process with a fresh one."""
        self.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._progress.close()
        self._start()
        self.warm_up()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the process: politely, then by force, so a stuck solve cannot hang the exit."""
        pids = self._pids()
        self._executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.kill()
        self._progress.close()

    def _pids(self) -> list[int]:
        # The executor's own process table: the only handle on its children it offers.
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)
