"""Daemon presence rows (receptord_daemons): current for a reused name, pruned when long silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from daemon import runs
from tests.pg import as_daemon


def row(conn: psycopg.Connection[Any], name: str) -> tuple[Any, ...] | None:
    return conn.execute("SELECT pid, started_at, state FROM receptord_daemons WHERE name = %s", (name,)).fetchone()


def test_a_name_reused_by_a_new_process_takes_the_row_over(db_url: str, conn: psycopg.Connection) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(as_daemon(db_url), autocommit=True) as daemon:
        runs.announce(daemon, "fixed-name", slots=2, in_flight=0, state="stopped", started_at=first)
        conn.execute("UPDATE receptord_daemons SET pid = 1 WHERE name = 'fixed-name'")
        later = first + timedelta(days=1)
        runs.announce(daemon, "fixed-name", slots=2, in_flight=0, state="running", started_at=later)
    pid, started_at, state = row(conn, "fixed-name") or (None, None, None)
    assert pid != 1 and started_at == later and state == "running"


def test_daemons_silent_for_a_week_are_pruned_by_the_daemon_role(db_url: str, conn: psycopg.Connection) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(as_daemon(db_url), autocommit=True) as daemon:
        for name in ("gone:1", "recent:2"):
            runs.announce(daemon, name, slots=2, in_flight=0, state="stopped", started_at=now)
        conn.execute("UPDATE receptord_daemons SET heartbeat_at = now() - interval '8 days' WHERE name = 'gone:1'")
        conn.execute("UPDATE receptord_daemons SET heartbeat_at = now() - interval '6 days' WHERE name = 'recent:2'")
        runs.prune_daemons(daemon)
    assert row(conn, "gone:1") is None
    assert row(conn, "recent:2") is not None
