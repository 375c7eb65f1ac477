"""The allocator's entry point: ``solve(AllocatorInput, SolveContext) -> SolveOutcome``.

Strategy (NOTES, measured): a pure transportation problem is solved exactly by min-cost flow
in seconds, where CP-SAT with two workers does not even prove 200 x 200. CP-SAT is used only
when side constraints need it (line caps, overlapping worker caps, stability), seeded with the
flow solution.
"""

from __future__ import annotations

import time

from daemon.allocator import report
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput
from daemon.allocator.diagnose import explain, precheck
from daemon.allocator.flow import solve_flow
from daemon.allocator.model import solve_cp_sat
from daemon.allocator.problem import Problem
from daemon.solving import SolveContext, SolveOutcome


def _infeasible(
    problem: Problem, started: float, method: str, reasons: list[str] | None = None
) -> SolveOutcome:
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


def solve(inp: AllocatorInput, ctx: SolveContext) -> SolveOutcome:
    """Solve one allocator run. Raises BadInput for data errors; INFEASIBLE when impossible."""
    started = time.perf_counter()
    problem = build_problem(inp)
    built = time.perf_counter()
    ctx.report(phase="built", build_seconds=built - started)
    reasons = precheck(problem)
    if reasons:
        return _infeasible(problem, started, "precheck", reasons)
    hint = solve_flow(problem)
    if not problem.needs_cp_sat:
        if hint is None:
            return _infeasible(problem, started, "min_cost_flow")
        meta = report.metadata(
            problem,
            hint.line_of,
            status="OPTIMAL",
            method="min_cost_flow",
            best_bound=report.objective(problem, hint.line_of),
            solve_seconds=time.perf_counter() - started,
            extra={"build_seconds": built - started},
        )
        return SolveOutcome("COMPLETED", meta, None, report.allocations(problem, hint.line_of))

    if ctx.stop_requested():
        return SolveOutcome("FAILED", {"status": "STOPPED"}, "stopped before the solve began")
    ctx.report(phase="cp_sat", hint=hint is not None)
    result = solve_cp_sat(problem, hint, ctx)
    if result.status == "INFEASIBLE":
        return _infeasible(problem, started, "cp_sat")
    if result.status == "MODEL_INVALID":
        raise RuntimeError("internal error: the CP-SAT model is invalid")
    if result.line_of is None:
        why = (
            "stopped before any solution was found"
            if ctx.stop_requested()
            else f"no solution found within max_seconds={problem.config.max_seconds:g}"
        )
        return SolveOutcome(
            "FAILED",
            {
                "status": result.status,
                "method": "cp_sat",
                "solve_seconds": time.perf_counter() - started,
            },
            why + " (raise max_seconds, or relax stability or the preferencer caps)",
        )
    # A valid lower bound on the true objective: the integer bound less the most by which
    # rounding and jitter can overstate any allocation's cost (Problem.excess_bound).
    bound = result.bound_int / problem.unit - problem.excess_bound
    meta = report.metadata(
        problem,
        result.line_of,
        status=result.status,
        method="cp_sat",
        best_bound=bound,
        solve_seconds=time.perf_counter() - started,
        extra={
            "build_seconds": built - started,
            "solutions": result.solutions,
            "cp_sat_seconds": result.wall_seconds,
            "hinted": hint is not None,
        },
    )
    return SolveOutcome("COMPLETED", meta, None, report.allocations(problem, result.line_of))
