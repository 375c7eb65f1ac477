"""Real daemon processes for lifecycle tests, and the SQL the tests use to watch them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg.types.json import Jsonb

from tests.pg import as_daemon

ROOT = Path(__file__).resolve().parent.parent
FINAL = ("COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED")

# Fast lifecycle settings so the tests see leases expire and polls happen in seconds.
FAST = ["--heartbeat-seconds", "0.2", "--lease-seconds", "3", "--poll-seconds", "1"]


class DaemonProcess:
    """``receptord run`` (or the slow test kind) as a child process, logging to a file."""

    def __init__(
        self,
        db_url: str,
        *flags: str,
        slow: bool = False,
        name: str = "",
        log_dir: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        module = "tests.slow_kind" if slow else "daemon.cli"
        args = [sys.executable, "-m", module]
        if not slow:
            args.append("run")
        args += ["--database-url", as_daemon(db_url), "--log-format", "json", *FAST, *flags]
        if name:
            args += ["--daemon-name", name]
        self.log_path = log_dir / f"daemon-{name or 'x'}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.wait_exit(timeout)
        finally:
            self._log.close()

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"daemon did not exit within {timeout} s; its log:\n{self.log()[-5000:]}") from None

    def log(self) -> str:
        return self.log_path.read_text()  # the child writes to the file directly


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def status(conn: psycopg.Connection[Any], run_id: str) -> str:
    row = conn.execute("SELECT status FROM receptord_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return str(row[0])


def wait_final(conn: psycopg.Connection[Any], run_id: str, timeout: float = 60) -> str:
    return str(wait_for(lambda: (s := status(conn, run_id)) in FINAL and s, timeout, f"run {run_id} to finish"))


def fails_then_serves(
    conn: psycopg.Connection[Any], d: DaemonProcess, allocation_run: str, config: dict[str, Any]
) -> str:
    """Enqueue a run with ``config`` that must end FAILED, then a plain one the daemon must
    still complete (its solver slot survived or was rebuilt); the failed run's id."""
    failed = enqueue(conn, allocation_run, config=Jsonb(config))
    assert wait_final(conn, failed) == "FAILED", d.log()
    after = enqueue(conn, allocation_run)
    assert wait_final(conn, after) == "COMPLETED", d.log()
    return failed


def events(conn: psycopg.Connection[Any], run_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT event FROM run_events WHERE run_id = %s ORDER BY id", (run_id,))]


def allocations(conn: psycopg.Connection[Any], run_id: str) -> int:
    row = conn.execute("SELECT count(*) FROM allocator_py_allocations WHERE run_id = %s", (run_id,)).fetchone()
    assert row is not None
    return int(row[0])


def enqueue(conn: psycopg.Connection[Any], allocation_run: str, **columns: Any) -> str:
    cols = ["allocation_run_id", *columns]
    placeholders = ", ".join(["%s"] * len(cols))
    sql = f"INSERT INTO allocator_py_runs ({', '.join(cols)}) VALUES ({placeholders}) RETURNING id"
    row = conn.execute(sql, (allocation_run, *columns.values())).fetchone()
    assert row is not None
    return str(row[0])


def attempts(conn: psycopg.Connection[Any], run_id: str) -> int:
    row = conn.execute("SELECT attempts FROM receptord_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return int(row[0])


def solver_processes(d: DaemonProcess) -> list[psutil.Process]:
    """The daemon's solver processes: the children of its multiprocessing forkserver."""
    found: list[psutil.Process] = []
    for child in psutil.Process(d.proc.pid).children():
        with contextlib.suppress(psutil.Error):
            if any("forkserver" in part for part in child.cmdline()):
                found += child.children()
    return found


class SystemdSocket:
    """A stand-in for systemd's notify socket: what the daemon sends, and when."""

    def __init__(self, folder: Path) -> None:
        self.address = str(folder / "notify.sock")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.address)
        self._sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []  # (monotonic time, datagram)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def env(self, watchdog_seconds: float) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.address, "WATCHDOG_USEC": str(int(watchdog_seconds * 1_000_000))}

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, message: str, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return [t for t, m in list(self.messages) if m == message and since <= t <= until]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
