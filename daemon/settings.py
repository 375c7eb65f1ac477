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

LOG_FORMATS = ("auto", "json", "console")

# Allocator runs with more worker x line pairs than this take the sparse exact path when they
# can (daemon/allocator/sparse.py). The solver process reads it from the environment it
# inherits; the daemon checks it at start with the settings below.
DENSE_MAX_PAIRS_ENV = "RECEPTORD_DENSE_MAX_PAIRS"
DENSE_MAX_PAIRS = 10_000_000
LOG_LEVELS = ("debug", "info", "warning", "error")
# Settings renamed since a release: the old variable still works when the new one is unset,
# so an upgrade does not silently change an installed unit's behaviour.
_OLD_NAMES = {"solver_processes": "RECEPTORD_POOL_SIZE"}


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    solver_processes: int = 2  # solver processes: runs solved at once by this daemon
    solver_threads: int = 2  # CP-SAT num_workers when a run's config does not say
    lease_seconds: float = 30.0  # a run without heartbeat for this long is reclaimed
    heartbeat_seconds: float = 1.0  # also the fallback cancellation latency
    poll_seconds: float = 5.0  # catch-up poll when no NOTIFY arrives
    drain_seconds: float = 60.0  # SIGTERM grace for in-flight solves (< TimeoutStopSec)
    solve_grace_seconds: float = 30.0  # a solve past max_seconds + this is stopped, then killed
    # Address space of each solver process (RLIMIT_AS): "6G", "512M", bytes, or "unlimited".
    # solver_processes x this, plus about 2 GiB for the daemon, is the unit's MemoryMax=.
    slot_memory: str = "6G"
    listen: bool = True  # False: poll only (e.g. behind PgBouncer in transaction mode)
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    daemon_name: str = ""  # host:pid unless set
    metrics_address: str = ""  # host:port for /metrics, /healthz, /readyz; empty: none

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def problems(self) -> list[str]:
        """What is wrong with these settings, one line each naming the setting (empty: fine)."""
        found = []
        for name in ("solver_processes", "solver_threads"):
            if getattr(self, name) < 1:
                found.append(f"{_env(name)} must be at least 1, got {getattr(self, name)}")
        for name in ("lease_seconds", "heartbeat_seconds", "poll_seconds"):
            if not getattr(self, name) > 0:
                found.append(f"{_env(name)} must be positive, got {getattr(self, name)}")
        for name in ("drain_seconds", "solve_grace_seconds"):
            if not getattr(self, name) >= 0:
                found.append(f"{_env(name)} must not be negative, got {getattr(self, name)}")
        if self.heartbeat_seconds > 0 and self.lease_seconds > 0 and self.lease_seconds < 3 * self.heartbeat_seconds:
            found.append(
                f"{_env('lease_seconds')}={self.lease_seconds:g} must be at least 3 x "
                f"{_env('heartbeat_seconds')}={self.heartbeat_seconds:g}, or the daemon loses its own runs "
                "to the reaper after one late heartbeat"
            )
        try:
            memory_bytes(self.slot_memory)
        except ValueError as e:
            found.append(f"{_env('slot_memory')}: {e}")
        if self.metrics_address:
            try:
                parse_address(self.metrics_address)
            except ValueError as e:
                found.append(f"{_env('metrics_address')}: {e}")
        try:
            dense_max_pairs()
        except ValueError as e:
            found.append(str(e))
        if self.log_format not in LOG_FORMATS:
            found.append(f"{_env('log_format')} must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}")
        if self.log_level.lower() not in LOG_LEVELS:
            found.append(f"{_env('log_level')} must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        return found

    @property
    def name(self) -> str:
        return self.daemon_name or f"{socket.gethostname()}:{os.getpid()}"

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {"database_url": env.get("DATABASE_URL", "")}
        for f in fields(Settings):
            raw = env.get(f"RECEPTORD_{f.name.upper()}", env.get(_OLD_NAMES.get(f.name, "")))
            if raw is None or f.name == "database_url":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        return Settings(**values)


def dense_max_pairs(env: Mapping[str, str] | None = None) -> int:
    """``RECEPTORD_DENSE_MAX_PAIRS`` (default 10 M pairs); ValueError naming the problem."""
    raw = (os.environ if env is None else env).get(DENSE_MAX_PAIRS_ENV)
    if raw is None:
        return DENSE_MAX_PAIRS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{DENSE_MAX_PAIRS_ENV} must be a whole number of pairs, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{DENSE_MAX_PAIRS_ENV} must not be negative, got {value}")
    return value


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) -> (host, port); ValueError naming the problem."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port, e.g. 127.0.0.1:9464")
    return host.strip("[]") or "0.0.0.0", int(port)  # an explicit ":9464" means every interface


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_bytes(text: str) -> int | None:
    """``"6G"`` -> bytes; ``"unlimited"`` (or 0) -> None. Raises ValueError naming the problem."""
    spec = text.strip().upper().removesuffix("B").removesuffix("I")  # 6G, 6GB, 6GiB
    if spec in ("UNLIMITED", "INFINITY", "0"):
        return None
    number, unit = (spec[:-1], spec[-1]) if spec[-1:] in _UNITS else (spec, "")
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a size like 6G, 512M or unlimited") from None
    if not value >= 256 * 2**20:
        raise ValueError(f"{text!r} is too small for a solver process (at least 256M)")
    host = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if value > host:
        raise ValueError(f"{text!r} is more than this host's {host / 2**30:.1f} GiB of memory")
    return int(value)


def _env(name: str) -> str:
    """A setting's name as the operator sets it (the flag is the same with dashes)."""
    return f"RECEPTORD_{name.upper()}"


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
