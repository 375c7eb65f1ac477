"""The daemon: wake, reap, claim, dispatch; on SIGTERM, drain.

One thread runs this loop; each claimed run gets a ``Runner`` thread and a solver slot; a
``Listener`` thread turns NOTIFY into wake-ups. The loop itself never waits on a solve, so it
keeps reaping, announcing itself and feeding the systemd watchdog whatever the solves do.
"""

from __future__ import annotations

import itertools
import queue as stdqueue
import signal
import threading
import time
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from daemon import log, queue
from daemon.db import make_pool, redact
from daemon.kinds import RunKind, registry
from daemon.listen import Event, Listener, StatusChanged, Wake, wait_any
from daemon.notify import SystemdNotifier
from daemon.runner import Runner
from daemon.settings import Settings
from daemon.workers import SolverSlot, context

ANNOUNCE_SECONDS = 5.0
DB_RETRY_MAX_SECONDS = 10.0

log_ = log.get("receptord.loop")


class Daemon:
    def __init__(self, settings: Settings, kinds: dict[str, RunKind] | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self.kinds = list((kinds or registry()).values())
        self._kind_order = itertools.cycle(range(len(self.kinds)))
        self.inbox: stdqueue.Queue[Event] = stdqueue.Queue()
        self._stopping = threading.Event()
        self._runners: dict[str, Runner] = {}
        self._free_slots: list[SolverSlot] = []
        self._pool: ConnectionPool[psycopg.Connection[Any]] = make_pool(
            settings.database_url, 2 * settings.pool_size + 2
        )
        self._listener = Listener(settings.database_url, self.inbox) if settings.listen else None
        self._systemd = SystemdNotifier()
        self._next_reap = 0.0
        self._next_announce = 0.0
        self._db_backoff = 0.0
        self._had_work = False  # the last tick claimed something: look for more at once

    # --- control -----------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Stop claiming and drain (SIGTERM / SIGINT). Safe from a signal handler."""
        self._stopping.set()
        self.inbox.put(Wake("stop"))

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    # --- main --------------------------------------------------------------------------------

    def run(self) -> int:
        log_.info(
            "starting",
            daemon=self.name,
            database=redact(self.settings.database_url),
            slots=self.settings.pool_size,
            listen=self.settings.listen,
        )
        ctx = context()
        self._free_slots = [
            SolverSlot(ctx, self.settings.log_format, self.settings.log_level) for _ in range(self.settings.pool_size)
        ]
        try:
            for slot in self._free_slots:
                slot.warm_up()
            # Unreachable for a minute at start-up: exit non-zero and let systemd restart us.
            self._pool.open(wait=True, timeout=60)
            if self._listener is not None:
                self._listener.start()
            self._systemd.ready()
            while not self._stopping.is_set():
                self._tick()
            self._drain()
        finally:
            self._close()
        log_.info("stopped", daemon=self.name)
        return 0

    def _tick(self) -> None:
        self._collect_finished()
        now = time.monotonic()
        try:
            if now >= self._next_reap:
                self._reap()
                self._next_reap = now + max(1.0, self.settings.lease_seconds / 4)
            if now >= self._next_announce:
                self._announce("running")
                self._next_announce = now + ANNOUNCE_SECONDS
            self._claim_while_free()
            self._db_backoff = 0.0
        except (psycopg.OperationalError, PoolTimeout) as e:
            self._db_backoff = min(max(0.2, self._db_backoff * 2), DB_RETRY_MAX_SECONDS)
            log_.warning("database unavailable; retrying", error=str(e), retry_in=self._db_backoff)
            self._stopping.wait(self._db_backoff)
        self._systemd.watchdog()
        for event in wait_any(self.inbox, self._wait_seconds()):
            if isinstance(event, StatusChanged) and event.status == "CANCELLED":
                runner = self._runners.get(event.run_id)
                if runner is not None:
                    runner.cancel()

    def _wait_seconds(self) -> float:
        if self._free_slots and self._db_backoff == 0.0 and self._had_work:
            return 0.0  # a run was just claimed and a slot is free: look for more at once
        wait = min(self.settings.poll_seconds, max(0.05, self._next_reap - time.monotonic()))
        watchdog = self._systemd.watchdog_interval()
        return wait if watchdog is None else min(wait, watchdog)

    # --- queue work --------------------------------------------------------------------------

    def _claim_while_free(self) -> None:
        self._had_work = False
        while self._free_slots and not self._stopping.is_set():
            claim = self._claim_next()
            if claim is None:
                return
            self._had_work = True
            slot = self._free_slots.pop()
            runner = Runner(claim, slot, self._pool, self.settings, on_done=lambda: self.inbox.put(Wake("slot free")))
            self._runners[claim.run_id] = runner
            log_.info("claimed", run_id=claim.run_id, kind=claim.kind.name, attempt=claim.attempts)
            runner.start()

    def _claim_next(self) -> queue.Claim | None:
        """Claim from the kinds in turn, so neither queue starves the other."""
        start = next(self._kind_order)
        with self._pool.connection() as conn:
            for i in range(len(self.kinds)):
                kind = self.kinds[(start + i) % len(self.kinds)]
                claim = queue.claim(conn, kind, self.name)
                if claim is not None:
                    return claim
        return None

    def _collect_finished(self) -> None:
        for run_id, runner in list(self._runners.items()):
            if not runner.is_alive():
                runner.join()
                del self._runners[run_id]
                self._free_slots.append(runner.slot)

    def _reap(self) -> None:
        with self._pool.connection() as conn:
            for kind in self.kinds:
                for run_id, status in queue.reap(conn, kind, self.settings.lease_seconds):
                    log_.warning(
                        "reclaimed a run whose lease expired",
                        run_id=run_id,
                        kind=kind.name,
                        status=status,
                    )

    def _announce(self, state: str) -> None:
        in_flight = len(self._runners)
        with self._pool.connection() as conn:
            pending = queue.announce(conn, self.name, slots=self.settings.pool_size, in_flight=in_flight, state=state)
        self._systemd.status(f"{state}: solving {in_flight}/{self.settings.pool_size}, {pending} queued")

    # --- shutdown ----------------------------------------------------------------------------

    def _drain(self) -> None:
        """Let in-flight solves finish within the grace period; give the rest back, refunded."""
        grace = self.settings.drain_seconds
        log_.info("draining", in_flight=len(self._runners), grace_seconds=grace)
        self._systemd.stopping()
        self._systemd.extend_timeout(grace + 10)
        deadline = time.monotonic() + grace
        for runner in self._runners.values():
            runner.give_back_at(deadline)
        try:
            self._announce("draining")
        except (psycopg.Error, PoolTimeout) as e:
            log_.warning("could not announce draining", error=str(e))
        for runner in list(self._runners.values()):
            # Runners hand back their runs at the deadline; allow them the commit after it.
            runner.join(timeout=max(0.0, deadline - time.monotonic()) + 15)
        self._collect_finished()

    def _close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        try:
            self._announce("stopped")
        except Exception as e:  # best effort: the live-daemon view ages us out anyway
            log_.warning("could not announce stop", error=str(e))
        for slot in self._free_slots:
            slot.shutdown()
        for runner in self._runners.values():
            runner.slot.kill()
        self._pool.close()
