"""Run kinds: what the daemon loop needs to know about each queue table and its solver.

The loop knows runs, not solvers. A kind is its queue table plus three functions: ``load``
(database → plain problem, in the daemon), ``solve`` (plain problem → plain outcome, in a
solver process) and ``write`` (outcome → rows, inside the run's finishing transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from daemon.solving import SolveContext, SolveOutcome

Loader = Callable[[psycopg.Connection[Any], str], Any]
Solver = Callable[[Any, SolveContext], SolveOutcome]
Writer = Callable[[psycopg.Connection[Any], str, SolveOutcome], None]


@dataclass(frozen=True)
class RunKind:
    name: str  # 'allocator' | 'planner', as in run_events.run_kind
    table: str
    created_column: str  # the queue order's age column (the two tables spell it differently)
    load: Loader
    solve: Solver  # must be a module-level function: it is pickled to the solver process
    write: Writer
    # The run's own time limit (max_seconds) from its loaded problem: the daemon stops, then
    # kills, a solve that outlives it by more than a grace, so no run hangs forever.
    seconds_allowed: Callable[[Any], float]
    # The kind's claim statements in sql/queue/ (templates on {table}/{created}): the allocator
    # adds its rounds' condition (an exclusive run waits while another of its allocation run
    # is solved); the planner uses the shared ones.
    claim_sql: str = "claim"
    claim_id_sql: str = "claim_id"


def registry() -> dict[str, RunKind]:
    # Imported here so that importing the loop does not import every solver's dependencies.
    from daemon.allocator import config as allocator_config
    from daemon.allocator import load as allocator_load
    from daemon.allocator import solve as allocator_solve
    from daemon.allocator import write as allocator_write
    from daemon.planner import load as planner_load
    from daemon.planner import solve as planner_solve
    from daemon.planner import write as planner_write

    kinds = [
        RunKind(
            "allocator",
            "allocator_py_runs",
            "created_at",
            allocator_load.load,
            allocator_solve.solve,
            allocator_write.write,
            lambda problem: allocator_config.time_limit(problem.config),
            claim_sql="claim_allocator",
            claim_id_sql="claim_id_allocator",
        ),
        RunKind(
            "planner",
            "allocation_planner_runs",
            "createdat",
            planner_load.load,
            planner_solve.solve,
            planner_write.write,
            lambda problem: float(problem.max_seconds),
        ),
    ]
    return {k.name: k for k in kinds}
