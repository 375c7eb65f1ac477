"""Prometheus metrics and health checks, served on an opt-in address.

``RECEPTORD_METRICS_ADDRESS=127.0.0.1:9464`` (or ``--metrics-address``) starts a small HTTP
server in the daemon: ``/metrics`` (Prometheus text format), ``/healthz`` (the process is alive
and its loop is ticking) and ``/readyz`` (it can serve runs: database reachable, schema at
head, LISTEN on, solver processes up), each 200 or 503 with the reason in the body. Unset:
nothing listens. The counters count from the daemon's start; the queue gauges are read from
the database by the loop every few seconds (they are the whole queue's, not this daemon's).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from daemon import log
from daemon.settings import parse_address

FINAL_STATUSES = ("COMPLETED", "INFEASIBLE", "FAILED")  # what a daemon finishes a run with
# Seconds: a tiny flow solve to an hour-long CP-SAT run.
PHASE_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

log_ = log.get("receptord.metrics")


class Metrics:
    """What the daemon counts: one registry per daemon, so tests may run several."""

    def __init__(self, kinds: tuple[str, ...] = ()) -> None:
        r = self.registry = CollectorRegistry()
        self.queue_pending = Gauge("receptord_queue_pending_runs", "Runs waiting in the queue", ["kind"], registry=r)
        self.queue_oldest = Gauge(
            "receptord_queue_oldest_pending_seconds", "Age of the oldest pending run (0: none)", ["kind"], registry=r
        )
        self.finished = Counter(
            "receptord_runs_finished", "Runs this daemon finished, by final status", ["kind", "status"], registry=r
        )
        self.phase_seconds = Histogram(
            "receptord_run_phase_seconds",
            "Time a finished run spent loading, solving and writing",
            ["kind", "phase"],
            buckets=PHASE_BUCKETS,
            registry=r,
        )
        self.slots = Gauge("receptord_solver_slots", "Solver processes: total, busy, alive", ["state"], registry=r)
        self.reclaims = Counter(
            "receptord_lease_reclaims", "Runs this daemon reclaimed after their lease expired", ["kind"], registry=r
        )
        self.retries = Counter(
            "receptord_run_retries", "Runs handed back to the queue with an attempt counted", ["kind"], registry=r
        )
        self.poisoned = Counter(
            "receptord_runs_poisoned",
            "Runs FAILED for using up max_attempts (solver crashes or lost leases)",
            ["kind"],
            registry=r,
        )
        self.listening = Gauge("receptord_listen_connected", "1 while the LISTEN connection is up", registry=r)
        self.database_errors = Counter(
            "receptord_database_errors", "Database errors met, by exception class", ["error"], registry=r
        )
        self.last_tick = Gauge(
            "receptord_loop_last_tick_timestamp_seconds", "When the daemon loop last ticked (Unix time)", registry=r
        )
        # Every series of a known kind exists from the start at 0: increase() misses a
        # counter's first step when its series only appears with it.
        for kind in kinds:
            for status in FINAL_STATUSES:
                self.finished.labels(kind, status)
            for counter in (self.reclaims, self.retries, self.poisoned):
                counter.labels(kind)
            self.queue_pending.labels(kind)
            self.queue_oldest.labels(kind)

    def handed_back(self, kind: str, status: str | None, *, refund: bool) -> None:
        """A release or a reap moved a run to ``status`` (None: the fence refused, no change)."""
        if status == "FAILED":
            self.poisoned.labels(kind).inc()
        elif status == "PENDING" and not refund:
            self.retries.labels(kind).inc()

    def database_error(self, error: BaseException) -> None:
        self.database_errors.labels(type(error).__name__).inc()


Check = Callable[[], list[str]]  # what is wrong, one line each; empty: fine


class MetricsAddressError(Exception):
    """The metrics address cannot be served (in use, unknown host, not ours): one line."""


class HealthServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on ``address`` (host:port), in a thread."""

    def __init__(self, address: str, metrics: Metrics, *, alive: Check, ready: Check) -> None:
        host, port = parse_address(address)
        handler = _handler(metrics, {"/healthz": alive, "/readyz": ready})
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
            self._server = server_class((host, port), handler)
        except OSError as e:  # in use, unknown host, an address not on this machine
            raise MetricsAddressError(f"RECEPTORD_METRICS_ADDRESS={address}: {e.strerror or e}") from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log_.info("serving metrics and health", port=self.port, paths=["/metrics", "/healthz", "/readyz"])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(metrics: Metrics, checks: dict[str, Check]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path in checks:
                try:
                    problems = checks[path]()
                except Exception as e:  # a check that broke is a failed check, said so
                    problems = [f"the check itself failed: {type(e).__name__}: {e}"]
                body = "\n".join(problems) if problems else "ok"
                self._send(503 if problems else 200, (body + "\n").encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found: try /metrics, /healthz or /readyz\n", "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
            pass

    return Handler
