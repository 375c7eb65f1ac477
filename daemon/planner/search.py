"""Running one CP-SAT phase: parameters, progress to the heartbeat, early and stall stops."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from daemon.planner.model import PlanModel, line_positions
from daemon.solving import SolveContext

STALL_POLL_SECONDS = 0.2
_SEED_RANGE = 2**31  # CP-SAT's random_seed is an int32


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    status: str  # CP-SAT's status name
    lines: tuple[tuple[int, ...], ...] | None  # built lines: position index per term
    objective: float | None
    best_bound: float | None
    seconds: float
    solutions: int

    @property
    def found(self) -> bool:
        return self.lines is not None

    def as_metadata(self) -> dict[str, object]:
        return {
            "status": self.status,
            "objective": self.objective,
            "best_bound": self.best_bound,
            "gap": gap(self.objective, self.best_bound),
            "seconds": round(self.seconds, 3),
            "solutions": self.solutions,
        }


def gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution; stops at ``target`` or after ``stall`` quiet seconds."""

    def __init__(self, plan: PlanModel, ctx: SolveContext, phase: str, target: float | None,
                 stall: float | None) -> None:
        super().__init__()
        self._plan, self._ctx, self._phase = plan, ctx, phase
        self._target, self._stall = target, stall
        self.solutions = 0
        self._last = time.monotonic()

    def on_solution_callback(self) -> None:
        self.solutions += 1
        self._last = time.monotonic()
        objective = self.objective_value
        self._ctx.report(
            phase=self._phase,
            best_objective=objective,
            best_bound=self.best_objective_bound,
            lines=int(self.value(self._plan.n_built)),
            solutions=self.solutions,
        )
        if self._target is not None and objective <= self._target:
            self.stop_search()

    def stalled(self) -> bool:
        return self._stall is not None and time.monotonic() - self._last > self._stall


def run_phase(plan: PlanModel, ctx: SolveContext, phase: str, seconds: float, *,
              target: float | None = None, stall: float | None = None) -> PhaseResult:
    inp = plan.problem.inp
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.1, seconds)
    params.num_workers = inp.num_workers
    params.random_seed = inp.rng_seed % _SEED_RANGE
    # Measured: symmetry detection and probing cost seconds in presolve and buy nothing here.
    params.symmetry_level = 1
    params.cp_model_probing_level = 0
    progress = _Progress(plan, ctx, phase, target, stall)
    ctx.bind_solver(solver)
    done = threading.Event()

    def watch_stall() -> None:
        while not done.wait(STALL_POLL_SECONDS):
            if progress.solutions and progress.stalled():
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch_stall, daemon=True)
    watcher.start()
    started = time.perf_counter()
    try:
        status = solver.solve(plan.model, progress)
    finally:
        done.set()
        watcher.join()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return PhaseResult(
        phase=phase,
        status=solver.status_name(status),
        lines=tuple(line_positions(plan, solver)) if found else None,
        objective=solver.objective_value if found else None,
        best_bound=solver.best_objective_bound if found else None,
        seconds=time.perf_counter() - started,
        solutions=progress.solutions,
    )


def hint_lines(plan: PlanModel, lines: tuple[tuple[int, ...], ...], seconds: float) -> bool:
    """Give ``plan`` a complete hint: ``lines`` in order, every helper variable solved for.

    CP-SAT repairs partial hints slowly; fixing the positions and letting a single worker fill
    in the rest (order, diversity and affinity variables) takes a fraction of a second.
    """
    fixed = plan.model.clone()
    for line, held in zip(plan.lines, lines, strict=True):
        for (t, i), v in line.cells.items():
            value = int(held[t] == i)
            fixed.proto.variables[v.index].domain[:] = [value, value]
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    status = solver.solve(fixed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    hint = plan.model.proto.solution_hint
    hint.vars[:] = range(len(plan.model.proto.variables))
    hint.values[:] = solver.response_proto.solution
    return True
