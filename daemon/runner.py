"""One claimed run, start to finish: load, solve in a slot, then commit or hand back.

Runs in its own thread, with its lease renewed by another (``daemon.lease``), so a slow load,
a long solve or an unreachable database delays only this run, never the daemon's loop, the
lease or another run. Every way a run can end is decided here, once:

- solved (any status) → written with its final status in one transaction fenced on the claim;
- bad input, a solve that raised, or a solve past ``max_seconds`` + grace → FAILED, saying why;
- the solver process crashed mid-solve → handed back with the attempt counted (a run that
  crashes its solver every time ends FAILED at ``max_attempts``);
- cancelled or lease lost → nothing written (the fence would refuse it anyway);
- the daemon is draining and the deadline passed → handed back, attempt refunded.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool, PoolTimeout

from daemon import log, runs
from daemon.db import TRANSIENT_ERRORS, sql_text
from daemon.lease import Lease
from daemon.metrics import Metrics
from daemon.settings import Settings
from daemon.solving import BadInput, SolveOutcome
from daemon.workers import SolverCrashed, SolverRaised, SolverSlot

# How long a solver gets to honour a stop request before its process is killed.
STOP_GRACE_SECONDS = 1.5
# How often the runner looks up from a solve to check for a stop (cancel, lease, deadline).
POLL_SECONDS = 0.1
# Pause between tries while the database is unreachable (load, commit).
RETRY_SECONDS = 0.5

log_ = log.get("receptord.runner")


class Runner:
    def __init__(
        self,
        claim: runs.Claim,
        slot: SolverSlot,
        pool: ConnectionPool[psycopg.Connection[Any]],
        settings: Settings,
        *,
        metrics: Metrics,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.claim = claim
        self.slot = slot
        self._on_done = on_done  # wakes the daemon loop: a slot is free
        self._pool = pool
        self._settings = settings
        self._metrics = metrics
        self._cancelled = threading.Event()
        self._release_deadline: float | None = None  # set when the daemon is draining
        self._loading: psycopg.Connection[Any] | None = None  # the load's connection, while it runs
        self._loading_lock = threading.Lock()
        self.context = {"run_id": claim.run_id, "kind": claim.kind.name, "attempt": str(claim.attempts)}
        self._lease = Lease(
            claim,
            pool,
            interval=settings.heartbeat_seconds,
            progress=slot.latest_progress,
            context=self.context,
            on_lost=self.interrupt,
        )
        # A daemon thread: the loop's drain already waits for runs to commit or hand back; an
        # exit must never hang on a run stuck on an unreachable database.
        self._thread = threading.Thread(target=self._main, name=f"run-{claim.run_id[:8]}", daemon=True)

    def start(self) -> None:
        self._lease.start()
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def cancel(self) -> None:
        """The run was cancelled (heard by NOTIFY): stop now; the fence makes the write a no-op."""
        self._cancelled.set()
        self.interrupt()

    def give_back_at(self, deadline: float) -> None:
        """Drain: finish by ``deadline`` (monotonic) or hand the run back to the queue."""
        self._release_deadline = deadline

    def due_back(self) -> bool:
        return self._release_deadline is not None and time.monotonic() >= self._release_deadline

    # --- the run ---------------------------------------------------------------------------

    def _main(self) -> None:
        structlog.contextvars.bind_contextvars(**self.context)
        try:
            self._process()
        except Exception:
            log_.exception("run failed unexpectedly; releasing it")
            self._release("internal error in the daemon (see its log)", refund=False)
        finally:
            self._lease.stop()
            structlog.contextvars.unbind_contextvars(*self.context)
            self._on_done()

    def _process(self) -> None:
        kind = self.claim.kind
        started = time.monotonic()
        try:
            problem = self._load()
        except BadInput as e:
            self._finish(SolveOutcome("FAILED", {"stage": "load"}, error=str(e)))
            return
        if problem is None:
            return
        loaded = time.monotonic()
        log_.info("loaded", seconds=round(loaded - started, 3))
        limit = kind.seconds_allowed(problem)
        # The grace covers the stop too: a solve that ignores the stop request is killed by
        # max_seconds + grace after its load, not STOP_GRACE_SECONDS later.
        grace = max(0.0, self._settings.solve_grace_seconds - STOP_GRACE_SECONDS - POLL_SECONDS)
        outcome = self._solve(problem, loaded + limit + grace, limit)
        if outcome is None:
            return
        timing = {"load": loaded - started, "solve": time.monotonic() - loaded}
        self._finish(outcome, timing)

    def _load(self) -> Any:
        """The run's problem, retried while the database is unreachable; None if the run was
        cancelled, lost or due back meanwhile (the load's query is cancelled at once then:
        see ``interrupt``; the lease is renewed all along)."""
        while True:
            try:
                with self._pool.connection(timeout=self._settings.heartbeat_seconds) as conn:
                    self._loading = conn
                    try:
                        if self._abandon_reason() is None:  # else interrupted before the query
                            problem = self.claim.kind.load(conn, self.claim.run_id)
                            if self._abandon_reason() is None:
                                return problem
                    finally:  # before the connection goes back to the pool
                        with self._loading_lock:
                            self._loading = None
            except TRANSIENT_ERRORS as e:  # QueryCanceled included: the interrupt
                if self._abandon_reason() is None:
                    self._metrics.database_error(e)
                    log_.warning("loading failed; retrying", error=str(e))
            reason = self._abandon_reason()
            if reason is not None:
                self._end_unsolved(reason)
                return None
            time.sleep(RETRY_SECONDS)

    def interrupt(self) -> None:
        """Cancel the load's query, if one is running (from any thread): the run is being
        cancelled, lost or handed back, and a load of millions of rows should not finish first."""
        with self._loading_lock:  # the connection cannot go back to the pool meanwhile
            if self._loading is not None:
                with contextlib.suppress(Exception):
                    self._loading.cancel_safe(timeout=2.0)

    def _solve(self, problem: Any, deadline: float, limit: float) -> SolveOutcome | None:
        """Solve in the slot; None when the run ended otherwise (handed back, lost, cancelled)."""
        try:
            self._hand_over(problem)
            log_.info("solving", solver_pid=self.slot.pid)
        except SolverCrashed as e:  # no solver process would start: not this run's doing
            log_.error("no solver process could be started", error=str(e))
            self._release("the daemon could not start a solver process", refund=True)
            return None
        while True:
            try:
                outcome = self.slot.result(POLL_SECONDS)
            except SolverCrashed as e:
                self.slot.kill()  # replaced before the slot's next run
                if self.due_back():  # killed by the daemon's own shutdown, not by the run
                    self._release("daemon shut down before the solve finished", refund=True)
                    return None
                if e.exitcode == -signal.SIGABRT and self.slot.memory_limit is not None:
                    # OR-Tools allocates in C++ threads: past RLIMIT_AS, std::bad_alloc ends in
                    # std::terminate (SIGABRT), not a MemoryError. It would abort again.
                    return self._out_of_memory()
                log_.error("solver process crashed", detail=str(e))
                self._release("the solver process crashed (out of memory or killed)", refund=False)
                return None
            except SolverRaised as e:
                if e.type_name == "MemoryError":
                    return self._out_of_memory()
                if not e.bad_input:
                    log_.error("solver raised", error=str(e))
                error = str(e) if e.bad_input else f"solver error: {e}"
                return SolveOutcome("FAILED", {"stage": "solve"}, error=error)
            if outcome is not None:
                return outcome
            reason = self._abandon_reason()
            if reason is None and time.monotonic() >= deadline:
                self._stop_solve()
                grace = self._settings.solve_grace_seconds
                log_.error("solve overran its time limit; stopped", max_seconds=limit, grace_seconds=grace)
                return SolveOutcome(
                    "FAILED",
                    {"stage": "solve"},
                    error=f"the solve did not finish within max_seconds ({limit:g} s) plus a grace of "
                    f"{grace:g} s and was stopped; raise max_seconds if the run is large, or report it "
                    "if it keeps happening",
                )
            if reason is not None:
                self._stop_solve()
                self._end_unsolved(reason)
                return None

    def _hand_over(self, problem: Any) -> None:
        """Submit to a live solver process: one that died while idle, or dies between the check
        and the hand-over, is replaced first (the run is not charged for it)."""
        for tries_left in (1, 0):
            if self.slot.ensure_alive():
                log_.warning("the solver process had died while idle; replaced it before this run")
            try:
                self.slot.submit(self.claim.kind.solve, problem, self.context, self._settings.solver_threads)
                return
            except SolverCrashed:
                if not tries_left:
                    raise

    def _out_of_memory(self) -> SolveOutcome:
        """The run needs more memory than a solver process may have: a property of the run, so
        FAILED at once (a retry would fail the same way); the process, which may hold on to the
        memory or be left in a bad state, is replaced."""
        self.slot.kill()
        limit = self.slot.memory_limit
        size = "unlimited" if limit is None else f"{limit / 2**30:.1f} GiB"
        log_.error("solver ran out of memory", memory_limit=size)
        return SolveOutcome(
            "FAILED",
            {"stage": "solve"},
            error=f"the run needs more memory than a solver process may use ({size}, RECEPTORD_SLOT_MEMORY); "
            "split the run, or raise the limit on a host with the memory",
        )

    def _abandon_reason(self) -> str | None:
        if self._cancelled.is_set():
            return "cancelled"
        if self._lease.lost.is_set():
            return "lease lost (cancelled or reclaimed)"
        if self.due_back():
            return "shutdown"
        return None

    def _end_unsolved(self, reason: str) -> None:
        log_.info("solve abandoned", reason=reason)
        # Fenced, so a no-op when the run really was cancelled or reclaimed; if the notice was
        # stale (or the drain's deadline came), the run goes back to the queue, refunded.
        self._release(f"daemon stopped the run ({reason})", refund=True)

    def _stop_solve(self) -> None:
        """Ask the solver to stop; kill its process if it does not within the grace."""
        self.slot.request_stop()
        try:
            if self.slot.result(STOP_GRACE_SECONDS) is None:
                log_.warning("solver ignored the stop request; killing it")
                self.slot.kill()  # replaced before the slot's next run
        except SolverRaised:  # the process is fine; the result is discarded either way
            pass
        except SolverCrashed:
            self.slot.kill()

    # --- endings ---------------------------------------------------------------------------

    def _finish(self, outcome: SolveOutcome, timing: dict[str, float] | None = None) -> None:
        """Write the result and the final status in one transaction fenced on the claim.

        Transient database errors are retried until the daemon's drain deadline; any other
        error while writing results fails the run with the reason (nothing of the results is
        written: the transaction rolls back). If even the failure cannot be recorded, the run
        is handed back and its lease left to expire.
        """
        metadata = dict(outcome.metadata)
        self._lease.finishing()
        while True:
            began = time.monotonic()
            try:
                with self._pool.connection(timeout=self._settings.heartbeat_seconds) as conn, conn.transaction():
                    # Rows this transaction locks (the run, job lines a planner run replaces)
                    # may be held by someone else, a client's open transaction: wait a while,
                    # then retry (LockNotAvailable is transient) with the lease still renewed.
                    conn.execute(sql_text("queue/finish_lock_timeout"))
                    if not runs.lock(conn, self.claim):
                        log_.warning("lease lost before commit; result discarded")
                        return
                    if outcome.status == "COMPLETED":
                        self.claim.kind.write(conn, self.claim.run_id, outcome)
                    if timing is not None:
                        seconds = {k: round(v, 4) for k, v in timing.items()}
                        seconds["write"] = round(time.monotonic() - began, 4)
                        metadata["seconds"] = seconds
                    runs.finish(conn, self.claim, outcome.status, metadata, outcome.error)
                log_.info("finished", status=outcome.status, error=outcome.error)
                self._count_finished(outcome.status, metadata.get("seconds"))
                return
            except TRANSIENT_ERRORS as e:
                self._metrics.database_error(e)
                if self.due_back():
                    log_.warning("could not commit before shutdown; handing the run back", error=str(e))
                    self._release("daemon shut down before the results could be written", refund=True)
                    return
                log_.warning("commit failed; retrying", error=str(e))
                time.sleep(RETRY_SECONDS)
            except (psycopg.Error, BadInput) as e:
                reason = e.diag.message_primary if isinstance(e, psycopg.Error) else None
                if timing is None and outcome.status == "FAILED":
                    log_.error("could not record the run's failure; handing it back", error=str(e))
                    self._release(f"could not record the result: {reason or e}", refund=False)
                    return
                # The results broke a constraint or would destroy data in use: nothing of them
                # was written (rolled back); the run fails with the reason instead.
                log_.error("writing results failed", error=str(e), error_class=type(e).__name__)
                outcome = SolveOutcome("FAILED", metadata, error=f"could not write the results: {reason or e}")
                timing = None

    def _count_finished(self, status: str, seconds: dict[str, float] | None) -> None:
        kind = self.claim.kind.name
        self._metrics.finished.labels(kind, status).inc()
        for phase, spent in (seconds or {}).items():
            self._metrics.phase_seconds.labels(kind, phase).observe(spent)

    def _release(self, reason: str, *, refund: bool) -> None:
        try:
            with self._pool.connection(timeout=self._settings.heartbeat_seconds) as conn:
                status = runs.release(conn, self.claim, reason, refund=refund)
        except (psycopg.Error, PoolTimeout) as e:
            self._metrics.database_error(e)
            log_.warning("release failed; the lease will expire instead", error=str(e))
            return
        self._metrics.handed_back(self.claim.kind.name, status, refund=refund)
        log_.info("released", reason=reason, status=status)
