"""The run lifecycle in SQL: claim, heartbeat, finish, release, reap, daemon presence.

Thin wrappers over ``sql/queue/*.sql``. Every statement that changes a claimed run is fenced
on the claim (status GENERATING, claimed_by, attempts), so a daemon that lost its lease can
never change the run again: exactly one conditional UPDATE decides each transition.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from daemon import __version__
from daemon.db import queue_statement, sql_text
from daemon.kinds import RunKind
from daemon.text import LAST_ERROR_LIMIT, bounded, printable


@dataclass(frozen=True)
class Claim:
    """A run this daemon holds: the fence every later statement is conditioned on."""

    kind: RunKind
    run_id: str
    attempts: int
    daemon: str

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"id": self.run_id, "daemon": self.daemon, "attempts": self.attempts, **extra}


# The unique index that lets one exclusive allocator run (round) of an allocation run be
# GENERATING at a time (migration 0010): a claim that loses a race to it claimed nothing.
ONE_ROUND_INDEX = "allocator_py_runs_one_exclusive_idx"


def claim(conn: psycopg.Connection[Any], kind: RunKind, daemon: str) -> Claim | None:
    """Claim the next pending run of ``kind`` (committed on return), or None."""
    return _claim(conn, kind, queue_statement(kind.claim_sql, kind.table, kind.created_column), {"daemon": daemon})


def claim_id(conn: psycopg.Connection[Any], kind: RunKind, run_id: str, daemon: str) -> Claim | None:
    """Claim one named run if it is pending (committed on return), or None."""
    statement = queue_statement(kind.claim_id_sql, kind.table, kind.created_column)
    return _claim(conn, kind, statement, {"daemon": daemon, "id": run_id})


def _claim(conn: psycopg.Connection[Any], kind: RunKind, statement: Any, params: dict[str, Any]) -> Claim | None:
    try:
        with conn.transaction():
            row = conn.execute(statement, params).fetchone()
    except psycopg.errors.UniqueViolation as e:
        # Another daemon claimed a round of the same allocation run at the same instant: this
        # one waits for it, like a round the claim skipped. Nothing is claimed (rolled back).
        if e.diag.constraint_name != ONE_ROUND_INDEX:
            raise
        return None
    return None if row is None else Claim(kind, str(row[0]), int(row[1]), daemon=str(params["daemon"]))


def heartbeat(conn: psycopg.Connection[Any], c: Claim, progress: dict[str, Any] | None) -> bool:
    """Renew the lease; False when it is gone (cancelled or reclaimed): stop and write nothing."""
    with conn.transaction():
        row = conn.execute(
            queue_statement("heartbeat", c.kind.table, c.kind.created_column),
            c.params(progress=None if progress is None else json.dumps(progress)),
        ).fetchone()
    return row is not None


def lock(conn: psycopg.Connection[Any], c: Claim) -> bool:
    """First statement of the finishing transaction: True when this daemon still holds the
    run, which stays locked against the reaper and cancel_run() until commit or rollback."""
    row = conn.execute(queue_statement("lock", c.kind.table, c.kind.created_column), c.params()).fetchone()
    return row is not None


def last_error(message: str, limit: int = LAST_ERROR_LIMIT) -> str:
    """A run's ``last_error`` as written: one bounded line without control characters.

    Messages quote what the run's author wrote (config keys, constraint and position names,
    server messages): every error and reason the daemon writes passes here, so none can be
    megabytes long or carry terminal escapes to the DBA who reads it."""
    return bounded(printable(message), limit)


def finish(
    conn: psycopg.Connection[Any],
    c: Claim,
    status: str,
    metadata: dict[str, Any] | None,
    error: str | None,
) -> bool:
    """Set the final status, inside the transaction ``lock`` opened."""
    row = conn.execute(
        queue_statement("finish", c.kind.table, c.kind.created_column),
        c.params(
            status=status,
            metadata=None if metadata is None else json.dumps(metadata),
            error=None if error is None else last_error(error),
        ),
    ).fetchone()
    return row is not None


def release(conn: psycopg.Connection[Any], c: Claim, reason: str, *, refund: bool) -> str | None:
    """Hand a claimed run back: PENDING (or FAILED when out of attempts). Returns the new
    status, or None when the lease was already gone."""
    with conn.transaction():
        row = conn.execute(
            queue_statement("release", c.kind.table, c.kind.created_column),
            # Room for the "; gave up after N attempts" the statement may append.
            c.params(reason=last_error(reason, LAST_ERROR_LIMIT - 40), refund=1 if refund else 0),
        ).fetchone()
    return None if row is None else str(row[0])


def reap(conn: psycopg.Connection[Any], kind: RunKind, lease_seconds: float) -> list[tuple[str, str, int]]:
    """Reclaim runs of ``kind`` whose heartbeat is older than the lease:
    [(run id, new status, attempts counted)]."""
    with conn.transaction():
        rows = conn.execute(
            queue_statement("reap", kind.table, kind.created_column), {"lease": lease_seconds}
        ).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def queue_depth(conn: psycopg.Connection[Any], kind: RunKind) -> tuple[int, float]:
    """How many runs of ``kind`` are pending, and the oldest one's age in seconds (0: none)."""
    row = conn.execute(queue_statement("depth", kind.table, kind.created_column)).fetchone()
    return (int(row[0]), float(row[1])) if row else (0, 0.0)


def prune_daemons(conn: psycopg.Connection[Any]) -> None:
    """Forget daemons silent for a week."""
    with conn.transaction():
        conn.execute(sql_text("queue/prune_daemons"))


def announce(
    conn: psycopg.Connection[Any], daemon: str, *, slots: int, in_flight: int, state: str, started_at: datetime
) -> int:
    """Upsert this daemon's row in receptord_daemons (read by the live-daemon views); return
    how many runs of all kinds are pending."""
    with conn.transaction():
        conn.execute(
            sql_text("queue/daemon_beat"),
            {
                "daemon": daemon,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "version": __version__,
                "slots": slots,
                "in_flight": in_flight,
                "state": state,
                "started_at": started_at,
            },
        )
        row = conn.execute(sql_text("queue/pending")).fetchone()
    return int(row[0]) if row else 0
