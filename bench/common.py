"""Shared benchmark plumbing: an embedded server, daemon processes, percentiles, results."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from daemon import migrate
from daemon.db import ROOT
from daemon.embedded import EmbeddedPostgres

RESULTS = ROOT / "bench" / "results"


def fresh_database() -> str:
    """A migrated database on an embedded server that is deleted at exit."""
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="receptord-bench-")) / "pgdata", on_exit="delete")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(server.url())
    params["dbname"] = name
    url = make_conninfo("", **params)
    migrate.upgrade(url)
    return url


class Daemon:
    """`receptord run` as a child process (quiet: logs to a file under bench/results)."""

    def __init__(self, url: str, *flags: str, name: str) -> None:
        self.log = RESULTS / f"daemon-{name}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon.cli", "run", "--database-url", url, "--daemon-name", name,
             "--log-format", "json", "--log-level", "warning", *flags],
            cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self._out.close()


def wait_for_daemons(conn: psycopg.Connection[Any], names: Sequence[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM receptord_daemons WHERE name = ANY(%s) AND state = 'running'", (list(names),)
        ).fetchone()
        if row and row[0] == len(names):
            return
        time.sleep(0.1)
    raise TimeoutError(f"daemons {names} did not start")


def percentiles(values: Sequence[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p95": qs[94],
        "p99": qs[98],
        "max": max(values),
    }


def save(name: str, results: dict[str, Any], summary: str) -> None:
    """Write ``results`` (with the machine's details) to bench/results/<name>.json, and print
    ``summary`` (the README's table) and where they went."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    results = {
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        **results,
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(summary)
    print(f"\nwritten to {path}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
