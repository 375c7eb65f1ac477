"""What a solver sees of the process that runs it: progress reporting and stop requests.

A solver is a plain function ``solve(problem, ctx) -> SolveOutcome`` that runs inside a
solver process. It knows nothing about the database or the queue; it reports progress through
``ctx.report(...)`` and honours stop requests (cancellation, lost lease, shutdown) through
``ctx.bind_solver(...)`` for CP-SAT or by polling ``ctx.stop_requested()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FinalStatus = Literal["COMPLETED", "INFEASIBLE", "FAILED"]

# CP-SAT refuses a model asking for more search workers than this ("the model is invalid").
MAX_NUM_WORKERS = 10_000
# The longest max_seconds a run may ask for (a day; allocation_planner_runs checks the same):
# beyond it a deadline is no deadline, and a run stuck by mistake would hold a slot for ever.
MAX_SECONDS = 86_400.0


class BadInput(Exception):
    """The run's data cannot be solved as given; the message names the rows at fault."""


@dataclass(frozen=True)
class SolveOutcome:
    """Plain result of one solve: crosses the process boundary back to the daemon.

    ``payload`` is the solver-specific plain data the writer stores (allocations, lines);
    ``metadata`` becomes ``result_metadata``; ``error`` becomes ``last_error``.
    """

    status: FinalStatus
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    payload: Any = None


def check_size(ctx: SolveContext, estimate: float, what: str) -> None:
    """Refuse, before building anything, a model estimated to need more memory than the solver
    process may use: a clear BadInput naming the size instead of a MemoryError (or an OOM kill)
    minutes later."""
    if ctx.memory_limit is not None and estimate > ctx.memory_limit:
        raise BadInput(
            f"this run is too large for one solver process: {what} needs about {estimate / 2**30:.1f} GiB, "
            f"more than its memory limit of {ctx.memory_limit / 2**30:.1f} GiB (RECEPTORD_SLOT_MEMORY); "
            "split the run, or raise the limit on a host with the memory"
        )


class Stoppable(Protocol):
    def stop_search(self) -> None: ...


class SolveContext:
    """Progress out, stop requests in. Thread-safe; one per solve."""

    def __init__(
        self,
        report: Callable[[dict[str, Any]], None] | None = None,
        stop_event: threading.Event | None = None,
        threads: int = 2,
        memory_limit: int | None = None,
    ) -> None:
        self.threads = threads  # CP-SAT search workers unless the run's own config says
        self.memory_limit = memory_limit  # bytes this process may use (RLIMIT_AS), None: no limit
        self._report = report
        self._stop = stop_event or threading.Event()
        self._solvers: list[Stoppable] = []
        self._lock = threading.Lock()

    def report(self, **progress: Any) -> None:
        """Publish progress (best objective, bound, solutions...) to the run's heartbeat."""
        if self._report is not None:
            self._report(progress)

    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Ask the solve to end as soon as it can; CP-SAT keeps its best solution."""
        with self._lock:
            self._stop.set()
            solvers = list(self._solvers)
        for solver in solvers:
            solver.stop_search()

    def bind_solver(self, solver: Stoppable) -> None:
        """Route stop requests to ``solver.stop_search()`` for the rest of this solve."""
        with self._lock:
            self._solvers.append(solver)
            already = self._stop.is_set()
        if already:
            solver.stop_search()
