"""Running one CP-SAT phase: parameters, progress to the heartbeat, early and stall stops."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from daemon.planner.data import PlannerInput
from daemon.planner.model import PlanModel, line_positions
from daemon.solving import SolveContext

WATCH_POLL_SECONDS = 0.2
_SEED_RANGE = 2**31  # CP-SAT's random_seed is an int32


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    status: str  # CP-SAT's status name
    lines: tuple[tuple[int, ...], ...] | None  # built lines: position index per term
    objective: int | None
    best_bound: float | None
    seconds: float
    solutions: int
    reserved: tuple[int, ...] = ()  # built lines per pathway: the first lines, pathway by pathway

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
    """Reports each improving solution; stops at ``floor`` (a proven lower bound on the
    objective) or after ``stall`` seconds without improvement."""

    def __init__(
        self, plan: PlanModel, ctx: SolveContext, phase: str, floor: float | None, stall: float | None
    ) -> None:
        super().__init__()
        self._plan, self._ctx, self._phase = plan, ctx, phase
        self._floor, self._stall = floor, stall
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
        if self._floor is not None and objective <= self._floor:
            self.stop_search()

    def stalled(self) -> bool:
        return self._stall is not None and time.monotonic() - self._last > self._stall


def new_solver(inp: PlannerInput, ctx: SolveContext, seconds: float) -> cp_model.CpSolver:
    """A CP-SAT solver with the parameters every planner solve uses."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = seconds
    params.num_workers = inp.num_workers or max(1, ctx.threads)
    params.random_seed = inp.rng_seed % _SEED_RANGE
    # Measured (140 lines, 2 workers): symmetry detection, probing and repeated presolve
    # rounds cost seconds before the search starts and buy nothing on these models.
    params.symmetry_level = 1
    params.cp_model_probing_level = 0
    params.max_presolve_iterations = 1
    return solver


def run_phase(
    plan: PlanModel,
    ctx: SolveContext,
    phase: str,
    seconds: float,
    *,
    floor: float | None = None,
    stall: float | None = None,
) -> PhaseResult:
    if seconds <= 0 or ctx.stop_requested():  # no time left after building, or stopped
        return PhaseResult(phase, "UNKNOWN", None, None, None, 0.0, 0)
    solver = new_solver(plan.problem.inp, ctx, seconds)
    progress = _Progress(plan, ctx, phase, floor, stall)
    ctx.bind_solver(solver)
    done = threading.Event()

    def watch() -> None:
        # Polls, rather than relying on bind_solver alone: a stop_search() that lands
        # before CP-SAT has started its search is forgotten by it.
        while not done.wait(WATCH_POLL_SECONDS):
            if ctx.stop_requested() or (progress.solutions and progress.stalled()):
                solver.stop_search()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    try:
        status = solver.solve(plan.model, progress)
    finally:
        done.set()
        watcher.join()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    lines, reserved = line_positions(plan, solver) if found else (None, ())
    # Every objective here is an integer; CP-SAT reports floats.
    objective = round(solver.objective_value) if found else None
    # CP-SAT's own bound is often trivial here (no LP worker gets far on 2 cores).
    bound = max(solver.best_objective_bound, floor if floor is not None else -math.inf) if found else None
    name = solver.status_name(status)
    if objective is not None and floor is not None and objective <= floor:
        name = "OPTIMAL"  # a value no solution can beat: the search stopped there
    return PhaseResult(
        phase=phase,
        status=name,
        lines=None if lines is None else tuple(lines),
        objective=objective,
        best_bound=bound,
        seconds=time.perf_counter() - started,
        solutions=progress.solutions,
        reserved=reserved,
    )


def hint_lines(plan: PlanModel, lines: tuple[tuple[int, ...], ...], seconds: float) -> bool:
    """Give ``plan`` a complete hint: ``lines`` in order, every helper variable solved for.
    A model of optional lines may have more lines than ``lines``: the rest are left empty.

    CP-SAT repairs partial hints slowly; fixing the positions and letting a single worker fill
    in the rest (order, diversity and affinity variables) takes a fraction of a second.
    """
    optional = all(line.built_var is not None for line in plan.lines)
    if len(lines) > len(plan.lines) or (len(lines) < len(plan.lines) and not optional):
        raise ValueError(f"{len(lines)} lines cannot hint a model of {len(plan.lines)}")
    fixed = plan.model.clone()
    for k, line in enumerate(plan.lines):
        held = lines[k] if k < len(lines) else None
        for (t, i), v in line.cells.items():
            value = int(held is not None and held[t] == i)
            domain = fixed.proto.variables[v.index].domain
            domain[0] = domain[1] = value
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    status = solver.solve(fixed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    for index, value in enumerate(solver.response_proto.solution):
        plan.model.add_hint(plan.model.get_int_var_from_proto_index(index), value)
    return True
