"""Weak stability (SPEC §4.6): which formulation solves which instance, and why.

1. No ties on either side, no supervisor caps, every worker placed (no allow_unassigned): the
   exact polynomial method (``stable_rotations``): the rotations between the worker- and
   line-optimal Gale-Shapley matchings of the one-seat-copies instance, and a minimum cut for
   the cheapest closed set of them (Irving, Leather & Gusfield 1987). It proves the optimum
   whatever the pair costs, in polynomial time: at 1,500 x 375 x 4 (bench G1) in 0.2-0.8 s
   (a shared machine), where HiGHS needed 50-300 s for the same optimum from the
   stable-marriage LP it replaced; the whole run takes 2.5-4.5 s, most of it the
   independent check. If a guard fails (a worker left out, a must-fill line no stable
   allocation fills, the answer failing the blocking-pair test), step 2 runs.
2. Everything else (ties, caps, allow_unassigned): the MIP with the classic stability rows in
   prefix-sum form (``stable_mip``), on the pairs ``stable_prune`` keeps (pairs some weakly
   stable allocation may use: a quarter of them or fewer on the bench's cases), solved by
   HiGHS from the Gale-Shapley solution until max_seconds: OPTIMAL where its bound closes,
   else FEASIBLE with HiGHS's bound as best_bound.
3. CP-SAT (``model``) only if HiGHS fails outright (an error status, no answer at all).

Measured (bench/stability.py, same session, a shared 2-core machine at load 4-7, so slower than
idle): 200 x 200 with ties proven in 4.3 s (60.8 s and unproven before pruning and presolve off);
300 x 75 x 4 with supervisors ranking 40 workers at the optimum with a 0.29 % gap after 60 s
(65 % before; idle it was proven in 33 s); 600 x 150 x 4 at a 45.7 % gap (49.5 %), where HiGHS
never improves on the Gale-Shapley start; 1,500 x 375 x 4 unchanged at 75 %.

Tried for ties and not kept: the one-seat-copies MIP (copies of tied lines incomparable to a
worker): a far tighter root bound at 300 x 75 x 4 (4,005.4 against 3,757.0; optimum 4,014.9)
but no solution better than 8,364 in 60 s, and at 600 x 150 x 4 (186 k columns) its LP alone
unsolved after 100 s; HiGHS presolve on the pruned rows (probing alone can use the whole time);
mip_heuristic_effort 0.3 at 600 x 150 x 4 (no new incumbent).
"""

from __future__ import annotations

import time
from dataclasses import replace

from daemon.allocator import stable_mip, stable_rotations
from daemon.allocator.feasibility import is_feasible
from daemon.allocator.flow import FlowSolution
from daemon.allocator.hints import stable_hint
from daemon.allocator.model import CpSatResult, solve_cp_sat
from daemon.allocator.problem import Problem
from daemon.allocator.stability import Levels
from daemon.allocator.stable_prune import prune, restrict
from daemon.solving import SolveContext


def solve_stable(problem: Problem, hint: FlowSolution, ctx: SolveContext, deadline: float) -> CpSatResult:
    """The best weakly stable allocation found by ``deadline`` (perf_counter), with its bound."""
    result = _solve(problem, hint, ctx, deadline)
    # HiGHS proves optima to within its tolerances (``Problem.rounding_bound``), coarser than
    # the tie-break jitter: a stable starting solution cheaper by jitter alone is as optimal.
    cheaper = result.objective_int is not None and hint.cost_int < result.objective_int
    if result.status == "OPTIMAL" and cheaper and is_feasible(problem, hint.line_of):
        return replace(
            result, line_of=hint.line_of, objective_int=hint.cost_int, bound_int=min(result.bound_int, hint.cost_int)
        )
    return result


def _solve(problem: Problem, hint: FlowSolution, ctx: SolveContext, deadline: float) -> CpSatResult:
    lv = Levels.of(problem)
    if stable_rotations.applies(problem, lv):
        # ``hint`` may be the flow relaxation when deferred acceptance left someone out.
        worker_optimal = stable_hint(problem)
        exact = None if worker_optimal is None else stable_rotations.solve_rotations(problem, lv, worker_optimal)
        if exact is not None:
            return exact
    if ctx.stop_requested():
        return CpSatResult("UNKNOWN", None, None, float("-inf"), 0, 0.0, method=stable_mip.METHOD)
    # Only pairs some weakly stable allocation can use (stable_prune): a quarter of them or
    # fewer on the bench's cases, which leaves HiGHS's presolve little to do.
    kept = restrict(lv, prune(problem, lv), problem.n_workers, problem.n_lines)
    result = stable_mip.solve_mip(problem, kept, hint, ctx, deadline)
    if result.status == "ERROR" and time.perf_counter() < deadline and not ctx.stop_requested():
        return solve_cp_sat(problem, hint, ctx, deadline)
    return result
