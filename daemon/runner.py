"""One claimed run, start to finish: load, solve in a slot, heartbeat, then commit or release.

Runs in its own thread so that a slow load, a long solve or an unreachable database delays
only this run's heartbeats, never the daemon's loop or another run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from daemon import log, queue
from daemon.settings import Settings
from daemon.solving import BadInput, SolveOutcome
from daemon.workers import SolverSlot

# How long a solver gets to honour a stop request before its process is killed.
STOP_GRACE_SECONDS = 1.5
# Retry pause while the database is unreachable when committing a result.
COMMIT_RETRY_SECONDS = 1.0

log_ = log.get("receptord.runner")


class RunAbandoned(Exception):
    """The run must not be written by this daemon (lease lost, cancelled, shutting down)."""


class Runner:
    def __init__(
        self,
        claim: queue.Claim,
        slot: SolverSlot,
        pool: ConnectionPool[psycopg.Connection[Any]],
        settings: Settings,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.claim = claim
        self._on_done = on_done  # wakes the daemon loop: a slot is free
        self.slot = slot
        self._pool = pool
        self._settings = settings
        self._cancelled = threading.Event()
        self._release_deadline: float | None = None  # set when the daemon is draining
        # A daemon thread: the loop's drain already waits for runs to commit or hand back; an
        # exit must never hang on a run stuck on an unreachable database.
        self._thread = threading.Thread(target=self._main, name=f"run-{claim.run_id[:8]}", daemon=True)
        self.context = {
            "run_id": claim.run_id,
            "kind": claim.kind.name,
            "attempt": str(claim.attempts),
        }

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def cancel(self) -> None:
        """The run was cancelled (heard by NOTIFY): stop now; the fence makes the write a no-op."""
        self._cancelled.set()

    def give_back_at(self, deadline: float) -> None:
        """Drain: finish by ``deadline`` (monotonic) or hand the run back to the queue."""
        self._release_deadline = deadline

    # --- the run ---------------------------------------------------------------------------

    def _main(self) -> None:
        structlog.contextvars.bind_contextvars(**self.context)
        try:
            self._process()
        except Exception:
            log_.exception("run failed unexpectedly; releasing it")
            self._release("internal error in the daemon (see its log)", refund=False)
        finally:
            structlog.contextvars.unbind_contextvars(*self.context)
            self._on_done()

    def _process(self) -> None:
        kind = self.claim.kind
        started = time.monotonic()
        try:
            with self._pool.connection() as conn:
                problem = kind.load(conn, self.claim.run_id)
        except BadInput as e:
            self._finish(SolveOutcome("FAILED", {"stage": "load"}, error=str(e)))
            return
        loaded = time.monotonic()
        log_.info("loaded", seconds=round(loaded - started, 3))
        future = self.slot.submit(kind.solve, problem, self.context, self._settings.solver_threads)
        try:
            outcome = self._await(future)
        except RunAbandoned as e:
            log_.info("solve abandoned", reason=str(e))
            return
        except BrokenProcessPool:
            log_.error("solver process crashed")
            self.slot.rebuild()
            self._release("the solver process crashed (out of memory or killed)", refund=False)
            return
        except BadInput as e:
            outcome = SolveOutcome("FAILED", {"stage": "solve"}, error=str(e))
        except Exception as e:
            log_.exception("solver raised")
            outcome = SolveOutcome("FAILED", {"stage": "solve"}, error=f"solver error: {type(e).__name__}: {e}")
        solved = time.monotonic()
        timing = {"load": loaded - started, "solve": solved - loaded}
        self._finish(outcome, timing)

    def _await(self, future: Future[SolveOutcome]) -> SolveOutcome:
        """Wait for the solve, heartbeating; stop it when the run is lost, cancelled or due back."""
        while True:
            try:
                return future.result(timeout=self._settings.heartbeat_seconds)
            except FutureTimeout:
                pass
            reason = self._stop_reason()
            if reason is not None:
                self._stop_solve(future)
                if reason == "shutdown":
                    self._release("daemon shut down before the solve finished", refund=True)
                raise RunAbandoned(reason)

    def _stop_reason(self) -> str | None:
        if self._cancelled.is_set():
            return "cancelled"
        if self._release_deadline is not None and time.monotonic() >= self._release_deadline:
            return "shutdown"
        try:
            with self._pool.connection(timeout=self._settings.heartbeat_seconds) as conn:
                alive = queue.heartbeat(conn, self.claim, self.slot.latest_progress())
        except Exception as e:  # database unreachable: keep solving, the fence decides later
            log_.warning("heartbeat failed", error=str(e))
            return None
        return None if alive else "lease lost (cancelled or reclaimed)"

    def _stop_solve(self, future: Future[SolveOutcome]) -> None:
        self.slot.request_stop()
        try:
            future.result(timeout=STOP_GRACE_SECONDS)
        except FutureTimeout:
            log_.warning("solver ignored the stop request; killing it")
            self.slot.rebuild()
        except Exception:  # a crash while stopping changes nothing: the result is discarded
            self.slot.rebuild()

    # --- endings ---------------------------------------------------------------------------

    def _finish(self, outcome: SolveOutcome, timing: dict[str, float] | None = None) -> None:
        """Write the result and the final status in one transaction fenced on the claim."""
        metadata = dict(outcome.metadata)
        while True:
            began = time.monotonic()
            try:
                with self._pool.connection() as conn, conn.transaction():
                    if not queue.lock(conn, self.claim):
                        log_.warning("lease lost before commit; result discarded")
                        return
                    if outcome.status == "COMPLETED":
                        self.claim.kind.write(conn, self.claim.run_id, outcome)
                    if timing is not None:
                        seconds = {k: round(v, 4) for k, v in timing.items()}
                        seconds["write"] = round(time.monotonic() - began, 4)
                        metadata["seconds"] = seconds
                    queue.finish(conn, self.claim, outcome.status, metadata, outcome.error)
                log_.info("finished", status=outcome.status, error=outcome.error)
                return
            except psycopg.OperationalError as e:
                log_.warning("commit failed; retrying", error=str(e))
                time.sleep(COMMIT_RETRY_SECONDS)
            except (psycopg.Error, BadInput) as e:
                # The results broke a constraint or would destroy data in use: nothing of them
                # was written (rolled back); the run fails with the reason instead.
                log_.exception("writing results failed")
                reason = e.diag.message_primary if isinstance(e, psycopg.Error) else None
                outcome = SolveOutcome("FAILED", metadata, error=f"could not write the results: {reason or e}")
                timing = None

    def _release(self, reason: str, *, refund: bool) -> None:
        try:
            with self._pool.connection() as conn:
                status = queue.release(conn, self.claim, reason, refund=refund)
        except psycopg.Error as e:
            log_.warning("release failed; the lease will expire instead", error=str(e))
            return
        log_.info("released", reason=reason, status=status)
