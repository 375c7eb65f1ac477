"""Running one CP-SAT phase: parameters, progress to the heartbeat, early stops.

Repeatable: a phase given ``work`` (CP-SAT's deterministic time, about a second of one core's
search each) stops on that count, not on the clock, and searches deterministically, so one
input and ``rng_seed`` give the same lines on an idle machine or a loaded one. CP-SAT's default
parallel portfolio is not deterministic, and its deterministic mode (``interleave_search``)
runs no local search, which finds these models' first solutions: measured on 140 VIC lines, the
interleaved search found none in 20 s where one single-thread feasibility-jump worker
(``use_ls_only``, deterministic) reaches the demand optimum in 0.7 units. So a demand phase
runs a short interleaved search (small models are proved at once), then that worker, then
the interleaved search again if the worker stopped short of the floor (``run_phase``).
The wall clock (``seconds``, from ``max_seconds``) still bounds every phase; a phase it cuts
short says so (``cut``), and the run's metadata then says the lines may not repeat.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace

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
    work: float = 0.0  # CP-SAT's deterministic time spent
    cut: bool = False  # stopped by the clock or a stop request, not by its work budget or a proof

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
            "work": round(self.work, 3),
            "cut_by_clock": self.cut,
        }


def gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution; stops at ``floor`` (a proven lower bound on the
    objective): a deterministic point of the search, unlike a stop on the clock."""

    def __init__(self, plan: PlanModel, ctx: SolveContext, phase: str, floor: float | None) -> None:
        super().__init__()
        self._plan, self._ctx, self._phase = plan, ctx, phase
        self._floor = floor
        self.solutions = 0
        self.at_floor = False

    def on_solution_callback(self) -> None:
        self.solutions += 1
        objective = self.objective_value
        self._ctx.report(
            phase=self._phase,
            best_objective=objective,
            best_bound=self.best_objective_bound,
            lines=int(self.value(self._plan.n_built)),
            solutions=self.solutions,
        )
        if self._floor is not None and objective <= self._floor:
            self.at_floor = True
            self.stop_search()


def new_solver(
    inp: PlannerInput,
    ctx: SolveContext,
    seconds: float,
    work: float | None = None,
    *,
    local_search: bool = False,
    from_hint: bool = False,
) -> cp_model.CpSolver:
    """A CP-SAT solver with the parameters every planner solve uses: deterministic when given
    ``work`` (see the module's docstring); ``local_search``: the feasibility-jump worker alone;
    ``from_hint``: large-neighbourhood search alone, from the model's complete hint (measured
    on the soft phase, 4 units: VIC 140 lines 16610 -> 16490, the NSW list improved too, where
    the interleaved full search never left the hint)."""
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
    if work is not None:
        # One thread: with two, CP-SAT 9.15 aborts the process on some small hinted models
        # ("Check failed: solution->size() == postsolve_mapping.size()", tests/planner/
        # test_diagnosis.py), and one did as well per unit of work on the soft phase (VIC 140
        # lines, 4 units: 16450 against 16490 with two; NSW list better too).
        params.max_deterministic_time = work
        params.interleave_search = True
        params.num_workers = 1
    if local_search:
        params.use_ls_only = True
    if from_hint:
        params.use_lns_only = True
    return solver


# Of a phase's work with ``local_search_first``: the interleaved search first (small models
# are proved at once), then the feasibility-jump worker, then the interleaved search again.
PROOF_SHARE = 0.1
MIN_WORK = 0.01  # CP-SAT refuses a deterministic limit of 0 or less (MODEL_INVALID)
LOCAL_SEARCH_SHARE = 0.85


def run_phase(
    plan: PlanModel,
    ctx: SolveContext,
    phase: str,
    seconds: float,
    *,
    work: float | None = None,
    floor: float | None = None,
    local_search_first: bool = False,
    from_hint: bool = False,
) -> PhaseResult:
    """One phase in at most ``seconds`` of wall clock and, if given, ``work`` deterministic
    units. ``local_search_first``: unless a short interleaved search is conclusive, the
    feasibility-jump worker searches next; unless its solution meets ``floor``, the interleaved
    search resumes (it proves bounds and infeasibility) and the best solution is kept. No step
    is hinted with an earlier one's solution: CP-SAT 9.15 aborts the process ("Check failed:
    solution->size() == postsolve_mapping.size()") on some hinted solves of small models
    (tests/planner/test_diagnosis.py). ``from_hint``: improve the model's complete hint (see
    ``new_solver``)."""
    if seconds <= 0 or ctx.stop_requested():  # no time left after building, or stopped
        return PhaseResult(phase, "UNKNOWN", None, None, None, 0.0, 0, cut=True)
    if not local_search_first or work is None:
        return _search(plan, ctx, phase, seconds, work=work, floor=floor, from_hint=from_hint)
    started = time.perf_counter()
    steps: list[PhaseResult] = []
    for share, local_search in ((PROOF_SHARE, False), (LOCAL_SEARCH_SHARE, True), (None, False)):
        left = seconds - (time.perf_counter() - started)
        budget = work - sum(step.work for step in steps) if share is None else work * share
        if budget <= MIN_WORK:  # a tiny budget's share, or an earlier step overran: skip it
            continue
        step = _search(plan, ctx, phase, left, work=budget, floor=floor, local_search=local_search)
        steps.append(step)
        if step.status in ("OPTIMAL", "INFEASIBLE") or step.cut:
            break
    if not steps:
        return PhaseResult(phase, "UNKNOWN", None, None, None, 0.0, 0)
    found = [step for step in steps if step.found]
    best = min(found, key=lambda step: step.objective or 0) if found else steps[-1]
    return replace(
        best,
        status=steps[-1].status if steps[-1].status in ("OPTIMAL", "INFEASIBLE") else best.status,
        seconds=time.perf_counter() - started,
        solutions=sum(step.solutions for step in steps),
        work=sum(step.work for step in steps),
        cut=steps[-1].cut,
    )


def _search(
    plan: PlanModel,
    ctx: SolveContext,
    phase: str,
    seconds: float,
    *,
    work: float | None,
    floor: float | None,
    local_search: bool = False,
    from_hint: bool = False,
) -> PhaseResult:
    if seconds <= 0 or ctx.stop_requested():
        return PhaseResult(phase, "UNKNOWN", None, None, None, 0.0, 0, cut=True)
    solver = new_solver(plan.problem.inp, ctx, seconds, work, local_search=local_search, from_hint=from_hint)
    progress = _Progress(plan, ctx, phase, floor)
    ctx.bind_solver(solver)
    done = threading.Event()

    def watch() -> None:
        # Polls, rather than relying on bind_solver alone: a stop_search() that lands
        # before CP-SAT has started its search is forgotten by it.
        while not done.wait(WATCH_POLL_SECONDS):
            if ctx.stop_requested():
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
    spent = solver.response_proto.deterministic_time
    conclusive = name in ("OPTIMAL", "INFEASIBLE") or progress.at_floor
    return PhaseResult(
        phase=phase,
        status=name,
        lines=None if lines is None else tuple(lines),
        objective=objective,
        best_bound=bound,
        seconds=time.perf_counter() - started,
        solutions=progress.solutions,
        reserved=reserved,
        work=spent,
        # CP-SAT may stop a little short of its deterministic limit: 1 % is well above that.
        cut=not conclusive and (work is None or spent < 0.99 * work),
    )


def _hint_solution(plan: PlanModel, solver: cp_model.CpSolver) -> None:
    """Hint ``plan`` with ``solver``'s whole solution, replacing any hint it had."""
    plan.model.clear_hints()  # type: ignore[no-untyped-call]  # ortools leaves it unannotated
    for index, value in enumerate(solver.response_proto.solution):
        plan.model.add_hint(plan.model.get_int_var_from_proto_index(index), value)


def hint_lines(plan: PlanModel, lines: tuple[tuple[int, ...], ...], seconds: float) -> str:
    """Give ``plan`` a complete hint: ``lines`` in order, every helper variable solved for.
    A model of optional lines may have more lines than ``lines``: the rest are left empty.
    Returns CP-SAT's status: OPTIMAL (hinted, the same hint every time), FEASIBLE (hinted, but
    the clock cut the single worker short), anything else (no hint).

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
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        _hint_solution(plan, solver)
    return solver.status_name(status)
