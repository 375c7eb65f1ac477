"""A claimed run's lease, kept fresh from its own thread for as long as the daemon holds it.

The heartbeat runs apart from the run's work, so a slow load, a long solve, a long write or
a wait for a database connection can never starve it: only a dead, frozen or unreachable
daemon stops renewing, and only then can the reaper take the run. Every heartbeat is fenced
on the claim; the first one that finds the fence gone (cancelled, reclaimed) sets ``lost``
and the run stops without writing anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from daemon import log, runs
from daemon.db import TRANSIENT_ERRORS

log_ = log.get("receptord.lease")


class Lease:
    def __init__(
        self,
        claim: runs.Claim,
        pool: ConnectionPool[psycopg.Connection[Any]],
        *,
        interval: float,
        progress: Callable[[], dict[str, Any] | None],
        context: dict[str, str],
        on_lost: Callable[[], None] = lambda: None,
    ) -> None:
        self._claim = claim
        self._pool = pool
        self._interval = interval
        self._progress = progress
        self._context = context
        self._on_lost = on_lost  # e.g. cancel the run's load: there is no point finishing it
        self._stopped = threading.Event()
        self._finishing = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"lease-{claim.run_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the run is finished or handed back). Does not wait."""
        self._stopped.set()

    def finishing(self) -> None:
        """The run is being committed: keep renewing until ``stop`` (a failed commit is
        retried under the lease), but a renewal that finds the run finished is expected, not
        a lost lease (renewals queue behind the commit's row lock)."""
        self._finishing.set()

    def _main(self) -> None:
        import structlog

        structlog.contextvars.bind_contextvars(**self._context)
        while not self._stopped.wait(self._interval):
            try:
                with self._pool.connection(timeout=self._interval) as conn:
                    held = runs.heartbeat(conn, self._claim, self._progress())
            except TRANSIENT_ERRORS as e:  # unreachable: keep trying; the fence decides later
                log_.warning("heartbeat failed; retrying", error=str(e))
                continue
            except psycopg.Error as e:  # e.g. a revoked grant: keep trying, loudly
                log_.error("heartbeat refused; retrying", error=str(e), error_class=type(e).__name__)
                continue
            if not held:
                self.lost.set()
                if not (self._stopped.is_set() or self._finishing.is_set()):
                    log_.warning("lease lost (cancelled or reclaimed)")
                    self._on_lost()
                return
