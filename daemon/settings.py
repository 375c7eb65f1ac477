"""Configuration: environment (DATABASE_URL, RECEPTORD_*), overridden by command-line flags.

Defaults suit a 2-core machine: two solver processes, so a long CP-SAT solve does not hold
up quick flow solves, each CP-SAT solve with two search workers (CP-SAT needs at least two to
run its LP-based subsolvers; see NOTES). Raise both on bigger hosts.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    pool_size: int = 2  # solver processes: runs solved at once by this daemon
    solver_threads: int = 2  # CP-SAT num_workers when a run's config does not say
    lease_seconds: float = 30.0  # a run without heartbeat for this long is reclaimed
    heartbeat_seconds: float = 1.0  # also the fallback cancellation latency
    poll_seconds: float = 5.0  # catch-up poll when no NOTIFY arrives
    drain_seconds: float = 60.0  # SIGTERM grace for in-flight solves (< TimeoutStopSec)
    listen: bool = True  # False: poll only (e.g. behind PgBouncer in transaction mode)
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    daemon_name: str = ""  # host:pid unless set

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def name(self) -> str:
        return self.daemon_name or f"{socket.gethostname()}:{os.getpid()}"

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {"database_url": env.get("DATABASE_URL", "")}
        for f in fields(Settings):
            raw = env.get(f"RECEPTORD_{f.name.upper()}")
            if raw is None or f.name == "database_url":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        return Settings(**values)


def _parse(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (bool, "bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
    except ValueError:
        raise SystemExit(f"RECEPTORD_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw
