"""The allocator's entry point: ``solve(AllocatorInput, SolveContext) -> SolveOutcome``.

Strategy (NOTES, measured): a pure transportation problem is solved exactly by min-cost flow
in seconds, where CP-SAT with two workers does not even prove 200 x 200. CP-SAT is used only
when side constraints need it (line caps, overlapping worker caps); stability goes to HiGHS:

0. a run of more than ``sparse.dense_max_pairs()`` worker x line pairs (10 M; NRMP-sized
   runs are 288 M) that is a pure transportation problem without allow_unassigned is solved
   exactly by ``sparse`` (a min-cost flow routing every pair no side ranked through a hub
   node: no dense array, no explanations); past that size anything else takes the dense
   path below, which refuses it up front (``check_size``) when its matrices cannot fit;
1. validate and build the dense Problem;
2. a pure assignment (seats and eligibility only) small enough for a dense workers x seats
   matrix is solved exactly by scipy's linear_sum_assignment (``assignment``), several times
   faster than the flow; otherwise counting arguments may prove infeasibility at once;
3. min-cost flow on the relaxation (capacities, must-fill, single-level worker caps): its
   optimum is the answer when nothing else applies, and otherwise a lower bound;
4. a feasible starting solution (``hints``), then CP-SAT from it until max_seconds; except
   weak stability, which goes to HiGHS (``stable``: an LP proves strict-preference instances,
   a MIP with the classic stability rows the rest), where CP-SAT's bound barely moved (issue
   14: 24.8 % gap at 200 x 200 after 55 s), with CP-SAT only if HiGHS errs;
5. whichever of the solver's best and the starting solution is cheaper is the answer, FEASIBLE
   unless the solver proved it OPTIMAL. When building the CP-SAT model alone would use up the
   time, the starting solution is the answer without CP-SAT.

A stop request (cancellation, lost lease, shutdown) is honoured between stages, and inside
CP-SAT through ``ctx.bind_solver``: the solve ends FAILED, and the daemon discards it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.allocator import assignment, explanations, report, sparse, stable_mip, stable_rotations
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput
from daemon.allocator.diagnose import explain, precheck
from daemon.allocator.feasibility import is_feasible
from daemon.allocator.flow import FlowSolution, solve_flow
from daemon.allocator.hints import line_cap_hint, stable_hint
from daemon.allocator.model import CpSatResult, estimated_build_seconds, solve_cp_sat
from daemon.allocator.problem import AllocatorResult, Problem
from daemon.allocator.sensitivity import OutOfTime, Residual
from daemon.allocator.stable import solve_stable
from daemon.checks.allocation import check_allocation
from daemon.solving import SolveContext, SolveOutcome, check_size

# CP-SAT is skipped (given a feasible starting solution) when building its model is expected
# to take more than this share of the time left: there would be no time to search.
_BUILD_SHARE = 0.5


def _infeasible(problem: Problem, started: float, method: str, reasons: list[str] | None = None) -> SolveOutcome:
    reasons = reasons or explain(problem)
    return SolveOutcome(
        status="INFEASIBLE",
        metadata={
            "status": "INFEASIBLE",
            "method": method,
            "solve_seconds": time.perf_counter() - started,
            "diagnosis": reasons,
        },
        error="no allocation is possible: " + "; ".join(reasons),
    )


def _stopped(started: float, stage: str) -> SolveOutcome:
    return SolveOutcome(
        "FAILED",
        {"status": "STOPPED", "stage": stage, "solve_seconds": time.perf_counter() - started},
        f"stopped {stage}",
    )


def _result(
    problem: Problem,
    inp: AllocatorInput,
    line_of: npt.NDArray[np.int64],
    basis: Callable[[Callable[[], None]], explanations.Basis],
    *,
    ctx: SolveContext,
    deadline: float,
) -> tuple[AllocatorResult, dict[str, Any]]:
    """The rows to write, explained unless config says not to; and what the metadata says of it.

    Explaining is worth less than the run: it stops at the solve's deadline (``max_seconds``
    from the start) or a stop request, and the run completes without explanations, saying so."""
    placed = report.allocations(problem, line_of)
    if not problem.config.explain:
        return AllocatorResult(placed), {}
    skipped = explanations.too_large(problem)
    if skipped is not None:
        return AllocatorResult(placed), {"explanations": {"skipped": skipped}}
    started = time.perf_counter()

    def check() -> None:
        if ctx.stop_requested() or time.perf_counter() > deadline:
            raise OutOfTime

    try:
        on = basis(check)
        rows, seats = explanations.explain(problem, inp, line_of, on)
    except OutOfTime:
        why = f"not computed: explaining did not finish within max_seconds={problem.config.max_seconds:g}"
        return AllocatorResult(placed), {"explanations": {"skipped": why}}
    summary = {"rows": len(rows), "exact": on.exact}
    return AllocatorResult(placed, rows, seats), {
        "explanations": summary,
        "explain_seconds": time.perf_counter() - started,
    }


def _optimal(
    problem: Problem,
    inp: AllocatorInput,
    solution: FlowSolution,
    method: str,
    *,
    ctx: SolveContext,
    started: float,
    build_seconds: float,
) -> SolveOutcome:
    result, extra = _result(
        problem,
        inp,
        solution.line_of,
        lambda check: explanations.Basis(Residual(problem, solution.line_of, check), exact=True),
        ctx=ctx,
        deadline=started + problem.config.max_seconds,
    )
    meta = report.metadata(
        problem,
        solution.line_of,
        status="OPTIMAL",
        method=method,
        best_bound=report.objective(problem, solution.line_of),
        solve_seconds=time.perf_counter() - started,
        extra={"build_seconds": build_seconds, **extra},
    )
    return SolveOutcome("COMPLETED", meta, None, result)


def _hint(problem: Problem, relaxed: FlowSolution) -> FlowSolution:
    """The best available starting point for CP-SAT (see ``hints``)."""
    if problem.config.stability == "weak":
        return stable_hint(problem) or relaxed
    if any(s.max_new_lines is not None for s in problem.supervisors):
        return line_cap_hint(problem, relaxed) or relaxed
    return relaxed


def solve(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
    """Solve one allocator run. Raises BadInput for data errors; INFEASIBLE when impossible.

    Every allocation passes the independent checker (``daemon.checks.allocation``) before it
    is returned: one it rejects is a modelling bug, and no allocation is better than a wrong
    one, so the run ends FAILED naming the violations and nothing is written."""
    out = _solve(inp, ctx)
    if out.status != "COMPLETED":
        return out
    started = time.perf_counter()
    check = check_allocation(inp, out.payload.allocations, objective=False)
    if not check.ok:
        return SolveOutcome(
            status="FAILED",
            metadata={"status": "CHECK_FAILED", "violations": list(check.violations[:50])},
            error="internal error: the allocation failed the independent check: " + "; ".join(check.violations[:5]),
        )
    return replace(out, metadata={**out.metadata, "check_seconds": round(time.perf_counter() - started, 4)})


def _solve(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
    started = time.perf_counter()
    # Dense worker x line matrices: about 60 bytes a pair on the assignment path and 150 on the
    # min-cost flow path, measured (peak RSS) at 2,000 x 2,000 here; 200 leaves room.
    workers, lines = len(inp.worker_ids), len(inp.line_ids)
    declined = ""
    if workers * lines > sparse.dense_max_pairs():
        hub = sparse.build_sparse(inp, ctx)
        if isinstance(hub, sparse.SparseProblem):
            return sparse.solve_sparse(hub, ctx, started=started)
        declined = f" (not solvable on the sparse path: {hub.reason})"
    check_size(ctx, workers * lines * 200, f"{workers:,} workers x {lines:,} job lines{declined}")
    problem = build_problem(inp)
    build_seconds = time.perf_counter() - started
    ctx.report(phase="built", build_seconds=build_seconds)
    if ctx.stop_requested():
        return _stopped(started, "after building the problem")
    plan = assignment.plan_assignment(problem)
    if plan is not None:
        # It proves infeasibility itself; counting arguments then only name the cause.
        exact = assignment.solve_assignment(problem, plan)
        if exact is None:
            reasons = precheck(problem)
            return _infeasible(problem, started, "precheck" if reasons else assignment.METHOD, reasons)
        return _optimal(problem, inp, exact, assignment.METHOD, ctx=ctx, started=started, build_seconds=build_seconds)
    reasons = precheck(problem)
    if reasons:
        return _infeasible(problem, started, "precheck", reasons)
    relaxed = solve_flow(problem)
    if relaxed is None:
        # The flow relaxes only line caps, stability and overlapping worker caps: without a
        # flow there is no allocation at all.
        return _infeasible(problem, started, "min_cost_flow")
    if not problem.needs_cp_sat:
        return _optimal(problem, inp, relaxed, "min_cost_flow", ctx=ctx, started=started, build_seconds=build_seconds)
    if ctx.stop_requested():
        return _stopped(started, "after the min-cost flow")
    return _search(problem, inp, relaxed, ctx, started=started, build_seconds=build_seconds)


def _search(
    problem: Problem,
    inp: AllocatorInput,
    relaxed: FlowSolution,
    ctx: SolveContext,
    *,
    started: float,
    build_seconds: float,
) -> SolveOutcome:
    hint = _hint(problem, relaxed)
    if ctx.stop_requested():
        return _stopped(started, "before the search began")
    hint_ok = is_feasible(problem, hint.line_of)
    # max_seconds bounds the whole solve, input checks and model building included.
    deadline = started + problem.config.max_seconds
    ctx.report(phase="search", hint_feasible=hint_ok)
    if problem.config.stability == "weak":
        # Rotations and a minimum cut, or the HiGHS MIP built vectorised in a fraction of
        # CP-SAT's time (see ``stable``).
        result = solve_stable(problem, hint, ctx, deadline)
    elif hint_ok and estimated_build_seconds(problem) > _BUILD_SHARE * (deadline - time.perf_counter()):
        # Building the model alone would eat the time limit: answer with the starting solution.
        result = CpSatResult("SKIPPED", None, None, float("-inf"), 0, 0.0)
    else:
        result = solve_cp_sat(problem, hint, ctx, deadline)
    if result.status == "INFEASIBLE":
        return _infeasible(problem, started, result.method)
    if result.status == "MODEL_INVALID":
        raise RuntimeError("internal error: the CP-SAT model is invalid")
    line_of, status, source = result.line_of, result.status, result.method
    # CP-SAT may end without a solution, or a worse one, when presolve of a big stability
    # model eats the time: a feasible starting solution is still an answer.
    if hint_ok and (result.objective_int is None or hint.cost_int < result.objective_int):
        line_of, status, source = hint.line_of, "FEASIBLE", "hint"
    if line_of is None:
        why = (
            "stopped before any solution was found"
            if ctx.stop_requested()
            else f"no solution found within max_seconds={problem.config.max_seconds:g}"
        )
        return SolveOutcome(
            "FAILED",
            {"status": result.status, "method": result.method, "solve_seconds": time.perf_counter() - started},
            why + " (raise max_seconds, or relax stability or the preferencer caps)",
        )
    # Both CP-SAT's bound and the relaxed flow optimum bound the integer objective from below;
    # less the most by which rounding and jitter can overstate any allocation's true cost
    # (Problem.excess_bound), that is a valid lower bound on the true objective.
    # With allow_unassigned the integer objective also holds count_weight per unassigned
    # worker: less that for this solution's count, it bounds any allocation leaving as many
    # workers unassigned (CP-SAT's OPTIMAL proves that count is the fewest).
    count_part = problem.count_weight * report.unassigned_count(problem, line_of)
    best_int = max(result.bound_int, relaxed.cost_int) - count_part
    bound = best_int / problem.unit - problem.excess_bound
    # Explained from the flow relaxation: its figures bound the true ones (explanations).
    written_int = int(problem.cost_int[np.arange(problem.n_workers), line_of].sum())
    explained, extra = _result(
        problem,
        inp,
        line_of,
        lambda check: explanations.Basis(
            Residual(problem, relaxed.line_of, check), exact=False, slack_int=written_int - relaxed.cost_int
        ),
        ctx=ctx,
        deadline=started + problem.config.max_seconds,
    )
    # Whose figures these are: CP-SAT's, HiGHS's (the MIP) or the rotation method's.
    engine = {stable_mip.METHOD: "highs", stable_rotations.METHOD: "rotations"}.get(result.method, "cp_sat")
    meta = report.metadata(
        problem,
        line_of,
        status=status,
        method=result.method,
        best_bound=bound,
        solve_seconds=time.perf_counter() - started,
        extra={
            "build_seconds": build_seconds,
            "solutions": result.solutions,
            f"{engine}_status": result.status,
            f"{engine}_seconds": result.wall_seconds,
            f"{engine}_workers": result.workers,
            "solution_source": source,
            **extra,
        },
    )
    return SolveOutcome("COMPLETED", meta, None, explained)
