"""Solver processes: where CP-SAT runs, isolated from the daemon and from each other.

Each slot owns one long-lived solver process (imports done once, in the forkserver) and a
pipe to it. Plain data crosses the pipe both ways: a job (solver function, problem, run
context) in; progress reports and one final message out. The daemon can always tell a live
process from a dead one (``alive()``, from the process's own handle, no private API), so a
process that died while idle — OOM-killed, segfaulted, killed by hand — is replaced before
the next run uses the slot, and no run is charged for a crash it did not cause.

A stop request (cancellation, lost lease, shutdown, deadline) sets the slot's event; a
watcher thread in the child turns it into ``solver.stop_search()``. If the child does not
stop in time it is killed, which is always safe: nothing is written from a solver process.

A job's large numpy arrays (an L allocation's 2.25 M preference rows: 36 MB) do not go
through the pipe: they are written once into an anonymous memory file (``memfd_create``) whose
descriptor is passed with the rest of the job, and the solver process maps it and unpickles
the arrays over the mapping, without a copy (``pack_job`` / ``_receive``). Through the pipe
they were copied four times (pickled, sent, received, unpickled). The file has no name: it
is freed when the last process holding it closes or dies, so a killed solver leaks nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import io
import mmap
import multiprocessing as mp
import os
import pickle
import resource
import select
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler, recv_handle, send_handle
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from daemon import log
from daemon.kinds import Solver
from daemon.solving import BadInput, SolveContext, SolveOutcome

# Imported once in the forkserver, so every new solver process starts warm.
PRELOAD = ["daemon.allocator.solve", "daemon.planner.solve"]
# How long a new solver process may take to say it is ready (imports are preloaded; the
# loop waits for it, so this stays under half of WatchdogSec).
START_TIMEOUT_SECONDS = 10.0


def context() -> BaseContext:
    """forkserver: forking the daemon itself (pool and LISTEN threads) would be unsafe."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class SolverCrashed(Exception):
    """The solver process died during a solve (segfault, OOM kill, os._exit)."""

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode  # negative: killed by that signal


class SolverRaised(Exception):
    """The solve raised; only its type name and message cross back (the exception itself
    may not pickle). ``bad_input`` marks a BadInput: the run's data, not the code, is at fault."""

    def __init__(self, type_name: str, message: str, bad_input: bool) -> None:
        super().__init__(type_name, message, bad_input)
        self.type_name, self.message, self.bad_input = type_name, message, bad_input

    def __str__(self) -> str:
        return self.message if self.bad_input else f"{self.type_name}: {self.message}"


# --- a job's hand-over --------------------------------------------------------------------

# Out-of-band buffers (pickle protocol 5: numpy arrays) of at least this many bytes in all go
# through a shared memory file; a smaller job goes through the pipe, in the pickle.
SHARED_MIN_BYTES = 1 << 20
_ALIGN = 64  # each array starts on a cache line, as numpy would allocate it


@dataclass
class PackedJob:
    """A pickled job: ``header`` holds everything but the buffers, which lie in the file
    ``fd`` at ``layout``'s (offset, size) pairs; no file (None) when the pickle holds all."""

    header: bytes
    layout: list[tuple[int, int]]
    fd: int | None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _dumps(job: Any, buffer_callback: Any = None) -> bytes:
    """``job`` pickled as ``Connection.send`` would (multiprocessing's reducers), protocol 5."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, 5, buffer_callback=buffer_callback)
    pickler.dispatch_table = ForkingPickler(io.BytesIO()).dispatch_table
    pickler.dump(job)
    return out.getvalue()


def pack_job(job: Any) -> PackedJob:
    """Pickle ``job``, its large arrays into a memory file (see the module's docstring); the
    caller closes the file once it is sent. Without memfd_create (or if it fails), all in
    the pickle."""
    buffers: list[pickle.PickleBuffer] = []
    header = _dumps(job, buffers.append)
    views = [b.raw() for b in buffers]
    if sum(v.nbytes for v in views) < SHARED_MIN_BYTES or not hasattr(os, "memfd_create"):
        return PackedJob(_dumps(job), [], None)
    try:
        fd = os.memfd_create("receptord-job", os.MFD_CLOEXEC)
    except OSError:
        return PackedJob(_dumps(job), [], None)
    try:
        layout, end = [], 0
        for view in views:
            start = -(-end // _ALIGN) * _ALIGN
            written = 0
            while written < view.nbytes:
                written += os.pwrite(fd, view[written:], start + written)
            layout.append((start, view.nbytes))
            end = start + view.nbytes
        os.ftruncate(fd, end)  # a trailing empty array starts past the last byte written
    except BaseException:
        os.close(fd)
        raise
    return PackedJob(header, layout, fd)


def send_job(conn: Connection, packed: PackedJob) -> None:
    conn.send(packed.layout)
    conn.send_bytes(packed.header)
    if packed.fd is not None:
        send_handle(conn, packed.fd, 0)  # the pid is unused on Unix (SCM_RIGHTS)


def _receive(conn: Connection) -> Any:
    """The next job from the pipe (EOFError when it is closed); MemoryError if it does not
    fit. The arrays are writable (a private mapping: copy on write) and unmapped when the
    last of them is freed."""
    layout = conn.recv()
    header = conn.recv_bytes()
    if not layout:
        return pickle.loads(header)
    fd = recv_handle(conn)
    try:
        size = max(start + n for start, n in layout)
        shared = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE | mmap.MAP_POPULATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as e:
        if e.errno == errno.ENOMEM:
            raise MemoryError(str(e)) from None
        raise
    finally:
        os.close(fd)
    view = memoryview(shared)
    return pickle.loads(header, buffers=[view[start : start + n] for start, n in layout])


# --- in the solver process ------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessSetup:
    """How a solver process sets itself up (plain data, sent to it at start)."""

    memory_limit: int | None  # bytes of address space (RLIMIT_AS); None: unlimited
    log_format: str
    log_level: str


# glibc's mallopt parameters, and the largest mmap threshold it accepts on 64-bit (32 MiB).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 256 * 1024 * 1024


def _libc() -> Any:
    """glibc, or None (another C library: its allocator is left as it is)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def _reuse_freed_memory(libc: Any) -> None:
    """Keep a solve's freed arrays for its next ones, rather than unmapping them.

    A solve allocates and frees many arrays of megabytes (an L allocation: a dozen of 18 MB).
    glibc maps each one afresh past its mmap threshold and unmaps it when freed, so each one
    is paid again in page faults, zeroed page by page: on the virtual machines measured, a
    third of an L solve (1.0 s, against 0.6 s with the memory reused; the first solve of a
    process 1.8 s against 1.0 s). Arrays up to 32 MiB then come from the heap, and freed
    memory stays there until the solve ends (``malloc_trim`` after each one gives it back).
    """
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _serve(conn: Connection, stop: MpEvent, daemon_pid: int, setup: ProcessSetup) -> None:
    """The solver process: solve jobs from the pipe, one at a time, until it closes."""
    memory_limit = setup.memory_limit
    if memory_limit is not None:
        # Past it, allocations fail (MemoryError, std::bad_alloc) in this process alone, instead
        # of the kernel's OOM killer choosing a victim on the host, PostgreSQL perhaps.
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    # The daemon handles signals; a ^C in a terminal must not kill solves mid-write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with, args=(daemon_pid,), name="daemon-watch", daemon=True).start()
    log.configure(setup.log_format, setup.log_level)
    import structlog

    send_lock = threading.Lock()  # progress comes from CP-SAT's callback thread

    def send(message: tuple[str, Any]) -> None:
        with send_lock:
            conn.send(message)

    libc = _libc()
    _reuse_freed_memory(libc)
    send(("ready", os.getpid()))
    while True:
        try:
            solve, problem, run_context, threads = _receive(conn)
        except EOFError:  # the daemon closed the pipe: shut down
            return
        except MemoryError:  # the problem itself does not fit
            send(("raised", SolverRaised("MemoryError", "unpickling the problem", bad_input=False)))
            continue
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**run_context)
        ctx = SolveContext(report=lambda p: send(("progress", p)), threads=threads, memory_limit=memory_limit)
        send(_solve_one(solve, problem, ctx, stop))
        del problem  # an idle solver process holds no run's memory
        if libc is not None:
            libc.malloc_trim(0)


def _solve_one(solve: Solver, problem: Any, ctx: SolveContext, stop: MpEvent) -> tuple[str, Any]:
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.wait(0.05):
                ctx.request_stop()
                return

    threading.Thread(target=watch, name="stop-watcher", daemon=True).start()
    try:
        return ("done", solve(problem, ctx))
    except Exception as e:
        if not isinstance(e, BadInput):
            log.get("receptord.solver").exception("solver raised")
        return ("raised", SolverRaised(type(e).__name__, str(e), isinstance(e, BadInput)))
    finally:
        done.set()


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


# --- in the daemon ----------------------------------------------------------------------------


class SolverSlot:
    """One solver process and the pipe to it. Used by one run at a time."""

    def __init__(self, ctx: BaseContext, log_format: str, log_level: str, memory_limit: int | None = None) -> None:
        self._ctx = ctx
        self._setup = ProcessSetup(memory_limit, log_format, log_level)
        self.memory_limit = memory_limit
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._stop: MpEvent | None = None
        self._progress: dict[str, Any] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Start a fresh solver process and wait until it is ready (imports done); any failure
        (no memory, no file descriptors, a dead forkserver) is a SolverCrashed."""
        self.kill()
        try:
            self._start()
        except SolverCrashed:
            self.kill()
            raise
        except Exception as e:
            self.kill()
            raise SolverCrashed(f"could not start a solver process: {type(e).__name__}: {e}") from e

    def _start(self) -> None:
        # A new stop event for every process: one shared with a process that died inside
        # Event.wait() keeps a phantom waiter, and the next set() would block forever.
        self._stop = self._ctx.Event()
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=_serve,
            args=(theirs, self._stop, os.getpid(), self._setup),
            name="receptord-solver",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        if not ours.poll(START_TIMEOUT_SECONDS):
            raise SolverCrashed("the solver process did not start in time")
        try:
            ours.recv()  # ("ready", pid)
        except (EOFError, OSError):
            raise SolverCrashed("the solver process died while starting") from None

    def ensure_alive(self) -> bool:
        """Start a process if there is none alive; True if one had died (not merely never
        started, or killed on purpose)."""
        if self.alive():
            return False
        died = self._process is not None
        self.start()
        return died

    def submit(self, solve: Solver, problem: Any, run_context: dict[str, str], threads: int) -> None:
        """Hand a job to the (live) process; raises SolverCrashed if it died just now."""
        assert self._conn is not None and self._stop is not None
        self._stop.clear()
        self._progress = None
        packed = pack_job((solve, problem, run_context, threads))
        try:
            send_job(self._conn, packed)
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            raise SolverCrashed(str(e)) from None
        finally:
            packed.close()

    def result(self, timeout: float) -> SolveOutcome | None:
        """The outcome if the solve ended within ``timeout`` s, else None (still running).

        Raises SolverCrashed if the process died, SolverRaised if the solve raised. Progress
        reports read on the way are kept for ``latest_progress``.
        """
        assert self._conn is not None and self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            ready = mp.connection.wait([self._conn, self._process.sentinel], max(0.0, deadline - time.monotonic()))
            if self._conn in ready:
                try:
                    tag, value = self._conn.recv()
                except (EOFError, OSError):
                    self._process.join(1)  # reaped, so the exit code is known
                    raise SolverCrashed(f"exit code {self._process.exitcode}", self._process.exitcode) from None
                if tag == "progress":
                    self._progress = value
                    continue
                if tag == "raised":
                    raise value
                return value  # type: ignore[no-any-return]
            if ready:  # only the sentinel: the process ended without a word
                self._process.join(1)
                raise SolverCrashed(f"exit code {self._process.exitcode}", self._process.exitcode)
            return None

    def latest_progress(self) -> dict[str, Any] | None:
        """The newest progress report of the current solve, if any."""
        return self._progress

    def request_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def kill(self) -> None:
        """Kill the process now, if any; ``start`` (or ``ensure_alive``) makes a new one."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, ValueError):
                self._process.kill()
            self._process.join(5)
            self._process = None

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the process: politely (pipe closed), then by force."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout)
        self.kill()
