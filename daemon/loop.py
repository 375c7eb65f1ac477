"""The daemon: wake, reap, claim, dispatch; on SIGTERM, drain.

One thread runs this loop; each claimed run gets a ``Runner`` thread (and a lease thread) and
a solver slot; a ``Listener`` thread turns NOTIFY into wake-ups. The loop never waits on a
solve and never waits long on the database (every wait is bounded well under half the
systemd watchdog), so it keeps reaping, announcing itself and feeding the watchdog whatever
the solves or the database do. No error of any class ends the loop: it logs, backs off and
carries on. On a stop, in-flight runs get the drain's grace to finish; the rest are handed
back refunded, and any that cannot be (the database is down) are left to their leases, which
expire and let another daemon reap them.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from daemon import log, runs
from daemon.db import TRANSIENT_ERRORS, make_pool, redact, sql_text
from daemon.inbox import Inbox, StatusChanged, Wake
from daemon.kinds import RunKind, registry
from daemon.listen import Listener
from daemon.metrics import HealthServer, Metrics
from daemon.notify import SystemdNotifier
from daemon.runner import Runner
from daemon.settings import Settings, memory_bytes
from daemon.workers import SolverCrashed, SolverSlot, context

ANNOUNCE_SECONDS = 5.0
# How long the database may be unreachable at start-up before the process gives up (exit 1).
START_DB_TIMEOUT_SECONDS = 60.0
# Longest pause between database retries in an outage: back within about a second of its end.
DB_RETRY_MAX_SECONDS = 1.0
# Longest the loop waits for a pooled connection (all are lost in an outage): with the pings
# around each tick's database work and sleeps of at most a quarter of WatchdogSec, no gap
# between watchdog pings reaches half of WatchdogSec, however long the outage.
LOOP_DB_TIMEOUT_SECONDS = 1.0
# After the drain deadline, runners hand back or commit; this bounds how long that may take.
DRAIN_COMMIT_SECONDS = 10.0
# During a drain, renew systemd's stop timeout this often (to the drain's give-up point plus
# DRAIN_COMMIT_SECONDS) while runs are still going.
EXTEND_TIMEOUT_EVERY_SECONDS = 5.0
# /healthz fails when the loop has not ticked for this long (it ticks at least every poll).
LOOP_STALL_SECONDS = 30.0

log_ = log.get("receptord.loop")


class Daemon:
    def __init__(self, settings: Settings, kinds: dict[str, RunKind] | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self.kinds = list((kinds or registry()).values())
        self._kind_order = itertools.cycle(range(len(self.kinds)))
        self.inbox = Inbox()
        self._stop_requested = False  # set by a signal handler: a plain flag, no lock
        # One key per claim: a run handed back (a solver crash, a refund) may be claimed again
        # by this daemon while its previous runner is still winding down; keyed by run id (or
        # by run id and attempt, which a refund repeats) the new runner replaced the old one
        # here, and the old one's solver slot was never freed.
        self._runners: dict[int, Runner] = {}
        self._claims = itertools.count()  # the runners' keys: one per claim, never reused
        self._free_slots: deque[SolverSlot] = deque()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = make_pool(
            settings.database_url, 2 * settings.solver_processes + 2
        )
        self._listener = Listener(settings.database_url, self.inbox) if settings.listen else None
        self._systemd = SystemdNotifier()
        self._started_at = datetime.now(UTC)
        self._next_reap = 0.0
        self._next_announce = 0.0
        self._db_backoff = 0.0
        self._last_error = ""
        self._had_work = False  # the last tick claimed something: look for more at once
        self.metrics = Metrics(tuple(kind.name for kind in self.kinds))
        self._loop_error = ""  # the last tick failed, not on the database: a bug
        self._last_tick = time.monotonic()
        self._database_ok = False  # the last tick reached the database
        self._health = (
            HealthServer(settings.metrics_address, self.metrics, alive=self.liveness, ready=self.readiness)
            if settings.metrics_address
            else None
        )

    # --- control -----------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Stop claiming and drain (SIGTERM / SIGINT, or another thread).

        As a signal handler it takes no lock the interrupted code may hold: it sets a flag and
        pokes the inbox's socket (the interpreter's wakeup fd has already woken the loop)."""
        self._stop_requested = True
        self.inbox.poke()

    def liveness(self) -> list[str]:
        """/healthz: the loop is ticking (a stuck loop feeds no watchdog and claims nothing)."""
        quiet = time.monotonic() - self._last_tick
        limit = max(LOOP_STALL_SECONDS, 3 * self.settings.poll_seconds)
        return [f"the daemon loop has not ticked for {quiet:.0f} s"] if quiet > limit else []

    def readiness(self) -> list[str]:
        """/readyz: this daemon can take runs now. The schema was checked at start-up (the
        daemon refuses to start on another); a schema broken since shows as database errors."""
        problems = []
        if self._stop_requested:
            problems.append("draining: not taking new runs")
        if not self._database_ok:
            problems.append(f"database unreachable: {log.scrub(self._last_error) or 'not reached yet'}")
        if self._loop_error:
            problems.append(f"the daemon loop failed (a bug: see its log): {self._loop_error}")
        if self._listener is not None and not self._listener.connected.is_set():
            problems.append("LISTEN connection down: reconnecting (runs are still found by polling)")
        dead = sum(not slot.alive() for slot in list(self._free_slots))
        if dead and self._database_ok:  # before the first tick they are still starting
            problems.append(f"{dead} idle solver process(es) not running: being replaced")
        return problems

    def install_signal_handlers(self) -> None:
        self.inbox.wake_on_signals()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    # --- main --------------------------------------------------------------------------------

    def run(self) -> int:
        log_.info(
            "starting",
            daemon=self.name,
            database=redact(self.settings.database_url),
            slots=self.settings.solver_processes,
            listen=self.settings.listen,
        )
        ctx = context()
        if self._health is not None:
            self._health.start()
        try:
            memory = memory_bytes(self.settings.slot_memory)
            self._free_slots.extend(
                SolverSlot(ctx, self.settings.log_format, self.settings.log_level, memory)
                for _ in range(self.settings.solver_processes)
            )
            self._replace_dead_slots()  # start them all now, not on the first run's clock
            if not self._open_pool():
                return 0  # stopped while starting: nothing was claimed
            if self._listener is not None:
                self._listener.start()
            self._systemd.ready()
            while not self._stop_requested:
                self._tick()
            self._drain()
        finally:
            self._close()
        log_.info("stopped", daemon=self.name)
        return 0

    def _open_pool(self) -> bool:
        """Wait for the database, hearing SIGTERM meanwhile; False if stopped first.

        Unreachable for a minute at start-up: raise PoolTimeout, so the process exits non-zero
        and systemd restarts it."""
        self._pool.open(wait=False)
        deadline = time.monotonic() + START_DB_TIMEOUT_SECONDS
        while not self._stop_requested:
            self._last_tick = time.monotonic()  # waiting for the database is not a stuck loop
            try:  # not pool.wait(): on a timeout it closes the pool
                with self._pool.connection(timeout=min(1.0, max(0.1, deadline - time.monotonic()))):
                    return True
            except PoolTimeout:
                if time.monotonic() >= deadline:
                    raise
        return False

    def _tick(self) -> None:
        self._systemd.watchdog()
        now = self._last_tick = time.monotonic()
        self.metrics.last_tick.set_to_current_time()
        try:
            self._collect_finished()
            self._replace_dead_slots()
            if now >= self._next_reap:
                self._reap()
                self._next_reap = now + max(1.0, self.settings.lease_seconds / 4)
            if now >= self._next_announce:
                self._announce("running")
                self._next_announce = now + ANNOUNCE_SECONDS
            self._claim_while_free()
            if self._db_backoff:
                log_.info("database reachable again")
            self._db_backoff, self._last_error, self._database_ok, self._loop_error = 0.0, "", True, ""
        except Exception as e:
            if isinstance(e, psycopg.Error | PoolTimeout):
                self._database_ok = False
                self.metrics.database_error(e)
            else:
                self._loop_error = f"{type(e).__name__}: {e}"
            # Every class of error ends here, never in an exit that would abandon in-flight
            # runs: an outage or a failover to a read-only standby (transient), a revoked
            # grant or a broken schema (not transient: logged as an error, once per change).
            self._db_backoff = min(max(0.1, self._db_backoff * 2), DB_RETRY_MAX_SECONDS)
            text = f"{type(e).__name__}: {e}"
            if text != self._last_error:
                level = log_.warning if isinstance(e, TRANSIENT_ERRORS) else log_.error
                level("database unavailable; retrying", error=text, retry_in=self._db_backoff)
            self._last_error = text
        self._systemd.watchdog()
        self._count_slots()
        for event in self.inbox.wait(self._wait_seconds()):
            if isinstance(event, StatusChanged) and event.status == "CANCELLED":
                for runner in list(self._runners.values()):
                    if runner.claim.run_id == event.run_id:
                        runner.cancel()

    def _wait_seconds(self) -> float:
        if self._stop_requested:
            return 0.0
        if self._db_backoff:
            return self._db_backoff
        if self._free_slots and self._had_work:
            return 0.0  # a run was just claimed and a slot is free: look for more at once
        wait = min(self.settings.poll_seconds, max(0.05, self._next_reap - time.monotonic()))
        watchdog = self._systemd.watchdog_interval()  # half of WatchdogSec
        return wait if watchdog is None else min(wait, watchdog / 2)

    # --- solver slots ------------------------------------------------------------------------

    def _count_slots(self) -> None:
        busy = len(self._runners)
        self.metrics.slots.labels("total").set(self.settings.solver_processes)
        self.metrics.slots.labels("busy").set(busy)
        self.metrics.slots.labels("alive").set(busy + sum(slot.alive() for slot in self._free_slots))
        self.metrics.listening.set(int(self._listener is not None and self._listener.connected.is_set()))

    def _replace_dead_slots(self) -> None:
        """A solver process that died while idle (OOM kill, segfault, a stray kill) is
        replaced now, before any run is handed its slot."""
        for slot in self._free_slots:
            if not slot.alive():
                if slot.pid is not None:
                    log_.warning("a solver process died while idle; replacing it", pid=slot.pid)
                try:
                    slot.start()
                except SolverCrashed as e:  # no memory, no descriptors: try again next tick
                    log_.error("could not start a solver process; will retry", error=str(e))

    # --- queue work --------------------------------------------------------------------------

    def _claim_while_free(self) -> None:
        """Claim while a live solver process is free: never a run there is no process for."""
        self._had_work = False
        while not self._stop_requested:
            slot = next((s for s in self._free_slots if s.alive()), None)  # least recently used
            if slot is None:
                return
            claim = self._claim_next()
            if claim is None:
                return
            self._had_work = True
            self._free_slots.remove(slot)
            runner = Runner(
                claim,
                slot,
                self._pool,
                self.settings,
                metrics=self.metrics,
                on_done=lambda: self.inbox.post(Wake("slot free")),
            )
            self._runners[next(self._claims)] = runner
            log_.info("claimed", run_id=claim.run_id, kind=claim.kind.name, attempt=claim.attempts)
            runner.start()

    def _claim_next(self) -> runs.Claim | None:
        """Claim from the kinds in turn, so neither queue starves the other."""
        start = next(self._kind_order)
        with self._pool.connection(timeout=LOOP_DB_TIMEOUT_SECONDS) as conn:
            for i in range(len(self.kinds)):
                kind = self.kinds[(start + i) % len(self.kinds)]
                claim = runs.claim(conn, kind, self.name)
                if claim is not None:
                    return claim
        return None

    def _collect_finished(self) -> None:
        for key, runner in list(self._runners.items()):
            if not runner.is_alive():
                runner.join()
                del self._runners[key]
                self._free_slots.append(runner.slot)

    def _reap(self) -> None:
        with self._pool.connection(timeout=LOOP_DB_TIMEOUT_SECONDS) as conn:
            for kind in self.kinds:
                for run_id, status, attempts in runs.reap(conn, kind, self.settings.lease_seconds):
                    self.metrics.reclaims.labels(kind.name).inc()
                    if status == "FAILED":
                        self.metrics.poisoned.labels(kind.name).inc()
                    log_.warning(
                        "reclaimed a run whose lease expired",
                        run_id=run_id,
                        kind=kind.name,
                        status=status,
                        attempts=attempts,
                    )
            runs.prune_daemons(conn)

    def _announce(self, state: str) -> None:
        in_flight = len(self._runners)
        with self._pool.connection(timeout=LOOP_DB_TIMEOUT_SECONDS) as conn:
            pending = runs.announce(
                conn,
                self.name,
                slots=self.settings.solver_processes,
                in_flight=in_flight,
                state=state,
                started_at=self._started_at,
            )
            for kind in self.kinds:
                depth, oldest = runs.queue_depth(conn, kind)
                self.metrics.queue_pending.labels(kind.name).set(depth)
                self.metrics.queue_oldest.labels(kind.name).set(oldest)
        self._systemd.status(f"{state}: solving {in_flight}/{self.settings.solver_processes}, {pending} queued")

    # --- shutdown ----------------------------------------------------------------------------

    def _drain(self) -> None:
        """Let in-flight solves finish within the grace period; give the rest back, refunded.

        One deadline for all runs (not a wait per run), systemd told of every extension, and
        the watchdog fed throughout: a drain during a database outage still ends on time."""
        grace = self.settings.drain_seconds
        log_.info("draining", in_flight=len(self._runners), grace_seconds=grace)
        self._systemd.stopping()
        deadline = time.monotonic() + grace
        for runner in self._runners.values():
            runner.give_back_at(deadline)
        try:
            self._announce("draining")
        except Exception as e:
            log_.warning("could not announce draining", error=str(e))
        give_up = deadline + DRAIN_COMMIT_SECONDS
        next_extend = 0.0
        interrupted = False
        while True:
            self._collect_finished()
            now = time.monotonic()
            if not self._runners or now >= give_up:
                break
            if now >= deadline and not interrupted:  # loads in progress end now, not later
                for runner in self._runners.values():
                    runner.interrupt()
                interrupted = True
            if now >= next_extend:
                self._systemd.extend_timeout(give_up - now + DRAIN_COMMIT_SECONDS)
                next_extend = now + EXTEND_TIMEOUT_EVERY_SECONDS
            self._systemd.watchdog()
            self._last_tick = now
            self.inbox.wait(min(1.0, give_up - now))
        if self._runners:
            self._give_back_leftovers()

    def _give_back_leftovers(self) -> None:
        """Runs whose runner could not end in time (a query that would not cancel, a commit
        waiting on a lock): hand them back refunded from here. Fenced, so a no-op for any the
        runner did finish; a runner mid-commit holds the run's row lock, and we do not wait."""
        left = [runner.claim.run_id for runner in self._runners.values()]
        log_.warning("runs still in flight after the drain; handing them back", runs=left)
        for runner in self._runners.values():
            try:
                with self._pool.connection(timeout=LOOP_DB_TIMEOUT_SECONDS) as conn, conn.transaction():
                    conn.execute(sql_text("queue/release_nowait"))
                    runs.release(conn, runner.claim, "daemon shut down before the run finished", refund=True)
            except Exception as e:
                log_.error("could not hand a run back; its lease will expire", run_id=runner.claim.run_id, error=str(e))

    def _close(self) -> None:
        if self._health is not None:
            self._health.stop()
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
        self._pool.close(timeout=5)
        self.inbox.close()
