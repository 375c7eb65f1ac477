"""The planner's entry point: ``solve(PlannerInput, SolveContext) -> SolveOutcome``.

1. ``build_problem`` checks the run (BadInput names the rows at fault; the daemon fails it).
2. ``line_bound``: counts that cap the lines (INFEASIBLE with the reasons, or fewer lines).
3. Phase "demand": most lines, then required seats filled (no symmetry breaking: fastest).
4. No lines (INFEASIBLE): ``explain`` names a minimal set of conflicting rules, the data at
   fault and measured fixes, in a budget of its own.
5. Phase "soft": lines in lexicographic order (each pathway's apart), soft pathways, reading
   goals, diversity and affinity, demand kept first. A short run (fewer lines than asked) is
   diagnosed after it, as in 4, in the time left: the lines first, so they repeat.
6. ``repair`` fills any required seat a line can take instead of an excludable post (a run
   cut short may leave one); ``spread``: a deterministic local search moves the lines apart
   (the fewest terms two lines differ in, over all pairs), each move checked against the
   rules and no reserved line falling further short of its pathway.
7. Leave is placed, the lines are built, and the independent checker verifies every one:
   a non-compliant line is never returned.
8. Every outcome's metadata says which specialties the loader inferred from position names
   and which names matched no keyword (``infer``).

``max_seconds`` bounds the whole solve on the clock. The CP-SAT phases that decide the lines
are also given deterministic work (``WORK_PER_SECOND`` and ``SOFT_WORK_PER_SECOND`` times
``max_seconds``, see ``search``), so
the same input and ``rng_seed`` give the same lines whatever the machine's load; everything
after them is deterministic. ``result_metadata.repeatable`` says false, naming the phase, when
the clock or a stop cut one short instead. The diagnosis of a short run is not part of it: its
sentences may differ, its lines are not used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from daemon.checks.planner import check_lines
from daemon.planner import infer, pathways, quality, report
from daemon.planner.data import PlannerInput
from daemon.planner.diagnose import LineBound, line_bound
from daemon.planner.explain import Diagnosis, explain, joined, said
from daemon.planner.explain import budget_for as explain_budget
from daemon.planner.goals import set_demand_objective, set_soft_objective, unfilled_required
from daemon.planner.leave import plan_leave
from daemon.planner.model import build_model
from daemon.planner.problem import Problem, build_problem
from daemon.planner.repair import repair
from daemon.planner.result import build_lines
from daemon.planner.rules.six_month_terms import SIX_MONTH_WEEKS
from daemon.planner.search import PhaseResult, gap, hint_lines, run_phase
from daemon.planner.spread import estimated_seconds as spread_seconds
from daemon.planner.spread import spread
from daemon.solving import SolveContext, SolveOutcome, check_size

DEMAND_SHARE = 0.8  # of the work, at most, for the demand phase (a floor reached early gives the rest back)
FULL_SHARE = 0.9  # of that, with partial filling, for the try with every line built
# Deterministic work per second of max_seconds. Measured on this 2-core machine, idle, each
# phase on one thread, presolve included: about 0.31 units a second in the demand phase and
# 0.37 in the soft one (VIC 140 lines), and building the models takes time besides. 0.25 leaves
# room for a machine running as many single-thread solves as it has cores before the clock,
# not the work, ends a phase (the run then says its lines may not repeat); less would starve
# short runs (at max_seconds=10, 140 VIC lines need 0.74 units for a first solution, the NSW
# list 0.98).
WORK_PER_SECOND = 0.25
# The soft phase always spends all its work (the demand phase mostly stops at its floor), so
# its own rate is lower: two such solves at once on 2 cores still end on work, not the clock.
SOFT_WORK_PER_SECOND = 0.12
MIN_SOFT_WORK = 0.05  # less is not worth building the soft model for
HINT_SECONDS = 5.0
FINISH_SECONDS = 0.5


def _remaining(deadline: float) -> float:
    return deadline - time.perf_counter()


def _explain(
    problem: Problem, found: tuple[tuple[int, ...], ...], ctx: SolveContext, deadline: float, share: float = 1.0
) -> Diagnosis:
    left = _remaining(deadline) * share
    return explain(problem, found, ctx, explain_budget(problem.inp.max_seconds, left))


def _infeasible(problem: Problem, reasons: list[str], started: float, diagnosis: Diagnosis) -> SolveOutcome:
    # The counting reasons are short and exact; the conflict, data and fix follow them.
    sentences = said([*reasons, *diagnosis.sentences])
    return SolveOutcome(
        status="INFEASIBLE",
        metadata={
            "status": "INFEASIBLE",
            "rules": list(problem.rule_names),
            "lines_requested": problem.inp.n_job_lines,
            "lines_built": 0,
            "diagnosis": sentences,
            "conflict": diagnosis.detail,
            "solve_seconds": time.perf_counter() - started,
        },
        error=joined("no compliant job lines: ", sentences),
    )


@dataclass(frozen=True)
class Demand:
    result: PhaseResult  # the phase whose lines are used
    full_infeasible: bool  # CP-SAT proved that bound.max_lines lines cannot all be built
    phases: dict[str, Any]


def _demand(problem: Problem, bound: LineBound, ctx: SolveContext, deadline: float, work: float) -> Demand:
    """Most lines, then required seats, in at most ``work`` deterministic units.

    Every line built is tried first: measured on the NSW CSV, 122 fixed lines reach the
    optimum in 4 s where 122 optional ones take 17 s. Only if that fails (proved impossible,
    or no solution in its share of the work) do lines become optional, with partial filling.
    """
    partial = problem.inp.allow_partial_filling
    budget = _remaining(deadline) * DEMAND_SHARE
    demand_end = time.perf_counter() + budget
    full = build_model(problem, bound.max_lines, optional_lines=False)
    ideal = set_demand_objective(full, bound.max_lines)
    ctx.report(phase="demand", lines=bound.max_lines)
    share = FULL_SHARE if partial else 1
    first = run_phase(full, ctx, "demand", budget * share, work=work * share, floor=ideal, local_search_first=True)
    phases: dict[str, Any] = {"demand": first.as_metadata()}
    infeasible = first.status == "INFEASIBLE"
    if first.found or not partial or ctx.stop_requested():
        return Demand(first, infeasible, phases)
    optional = build_model(problem, bound.max_lines, optional_lines=True)
    floor = set_demand_objective(optional, bound.max_lines)
    second = run_phase(
        optional,
        ctx,
        "demand_partial",
        demand_end - time.perf_counter(),
        work=work - first.work,
        floor=floor,
        local_search_first=True,
    )
    phases["demand_partial"] = second.as_metadata()
    return Demand(second, infeasible, phases)


def _in_force(problem: Problem) -> str:
    """What a run that must build every line holds it to: its rules, and its exact pathways."""
    return " with ".join(part for part in (", ".join(problem.rule_names), pathways.kept(problem)) if part)


def _why_fewer(problem: Problem, bound: LineBound, demand: Demand, built: int) -> list[str]:
    reasons = list(bound.reasons)
    if built < bound.max_lines:
        # With partial filling a reserved line need not meet its pathway (a pool line then):
        # only the rules can cost lines, while the try with every line built held both.
        rules = ", ".join(problem.rule_names)
        if demand.result.status == "OPTIMAL":
            reasons.append(f"CP-SAT proved that at most {built} lines satisfy {rules} here")
        elif demand.full_infeasible:
            reasons.append(
                f"CP-SAT proved that {bound.max_lines} lines cannot all satisfy {_in_force(problem)} here, "
                f"and found {built} within the time limit"
            )
        else:
            reasons.append(f"CP-SAT found {built} lines that satisfy {rules} in the time limit")
    return reasons + pathways.short(problem, demand.result.reserved)


def _most_lines(problem: Problem, ctx: SolveContext, deadline: float) -> str:
    """After an infeasible full run: how many lines could be built, for the diagnosis."""
    plan = build_model(problem, problem.inp.n_job_lines, optional_lines=True)
    set_demand_objective(plan, problem.inp.n_job_lines)
    found = run_phase(plan, ctx, "diagnosis", _remaining(deadline))
    if not found.lines:
        return f"no compliant line at all could be built ({found.status})"
    at_most = "at most" if found.status == "OPTIMAL" else "at least"
    return f"{at_most} {len(found.lines)} of the {problem.inp.n_job_lines} lines can be built"


def solve(inp: PlannerInput, ctx: SolveContext) -> SolveOutcome:
    outcome = _solve(inp, ctx)
    # Whatever the outcome, the specialties the loader inferred are said (never silently).
    return replace(outcome, metadata={**outcome.metadata, **infer.metadata(inp.inference)})


def _solve(inp: PlannerInput, ctx: SolveContext) -> SolveOutcome:
    started = time.perf_counter()
    # CP-SAT held about 17 KB per (line, position, term) triple at peak with 2 search workers
    # (VIC_PGY1, 140 lines, 35 positions, measured here), more per triple with more lines, and
    # each search worker keeps its own copy of much of it: 15 KB per triple per worker.
    triples = inp.n_job_lines * len(inp.positions) * len(inp.term_structure)
    workers = max(2, inp.num_workers or ctx.threads)
    what = (
        f"{inp.n_job_lines:,} lines x {len(inp.positions):,} positions x {len(inp.term_structure)} terms "
        f"with {workers} search workers"
    )
    check_size(ctx, triples * workers * 15_000, what)
    # Leave, checking and reporting after the search take well under a second; the local
    # search (``spread``) is bounded by counts, so its time is kept back from CP-SAT's.
    after = FINISH_SECONDS + spread_seconds(inp.n_job_lines)
    deadline = started + inp.max_seconds - min(after, inp.max_seconds / 4)
    problem = build_problem(inp)
    bound = line_bound(problem)
    if bound.max_lines == 0 or (bound.max_lines < inp.n_job_lines and not inp.allow_partial_filling):
        return _infeasible(problem, list(bound.reasons), started, _explain(problem, (), ctx, deadline))

    work = (deadline - started) * WORK_PER_SECOND
    demand = _demand(problem, bound, ctx, deadline, work * DEMAND_SHARE)
    found = demand.result
    if found.lines is None and demand.full_infeasible and not inp.allow_partial_filling:
        reasons = [f"CP-SAT proved that no {inp.n_job_lines} lines satisfy {_in_force(problem)} here"]
        proved = _explain(problem, (), ctx, deadline, share=0.5)
        if _remaining(deadline) > 1:
            reasons.append(_most_lines(problem, ctx, deadline))
        return _infeasible(problem, reasons, started, proved)
    if found.lines is None:
        why = (
            "the solve was stopped (cancelled or shutting down) before any solution was found"
            if ctx.stop_requested()
            else f"no compliant set of job lines was found within max_seconds="
            f"{inp.max_seconds} s; allow more time, or relax the constraints or the lines asked"
        )
        return SolveOutcome(status="FAILED", metadata={"status": found.status, "phases": demand.phases}, error=why)
    if not found.lines:
        reasons = [*bound.reasons, "no compliant line can be built"]
        return _infeasible(problem, reasons, started, _explain(problem, (), ctx, deadline))

    final, phases = found, dict(demand.phases)
    cut = [name for name, phase in phases.items() if phase["cut_by_clock"]]
    soft_pathways = any(p.mode == "soft" for p in inp.pathways)
    has_soft_goals = len(found.lines) > 1 or bool(inp.specialty_affinity) or soft_pathways
    # Whether the soft phase runs is decided by work (or a stop, said below), so that repeats.
    # What the demand phase spent comes off, but half is always the soft phase's own.
    soft_budget = (deadline - started) * SOFT_WORK_PER_SECOND
    soft_work = max(soft_budget - sum(phase["work"] for phase in phases.values()), soft_budget / 2)
    if has_soft_goals and ctx.stop_requested():
        cut.append("soft (skipped: stopped)")
    elif has_soft_goals and soft_work <= MIN_SOFT_WORK:
        phases["soft"] = {"skipped": f"max_seconds gives it {soft_work:.3f} units of work, under {MIN_SOFT_WORK}"}
    elif has_soft_goals:
        soft = build_model(problem, len(found.lines), optional_lines=False, reserved=found.reserved)
        floor = set_soft_objective(soft, unfilled_required(problem, found.lines))
        left = _remaining(deadline)
        hinted = hint_lines(soft, pathways.ordered(found.lines, found.reserved), min(HINT_SECONDS, left / 4))
        if hinted == "FEASIBLE":
            cut.append("soft hint")
        if hinted in ("OPTIMAL", "FEASIBLE"):
            polished = run_phase(soft, ctx, "soft", _remaining(deadline), work=soft_work, floor=floor, from_hint=True)
            phases["soft"] = polished.as_metadata()
            cut += ["soft"] if polished.cut else []
            if polished.lines is not None:
                final = polished
        else:  # UNKNOWN: the clock ended the hint's solve; INFEASIBLE would repeat
            phases["soft"] = {"skipped": f"the lines could not hint the soft model ({hinted})"}
            cut += ["soft hint"] if hinted == "UNKNOWN" else []
    # A short run is diagnosed last, in the time left: its sentences may depend on the
    # clock, the lines must not.
    diagnosis = _explain(problem, found.lines, ctx, deadline) if len(found.lines) < inp.n_job_lines else None
    outcome = _complete(problem, bound, demand, final, phases=phases, started=started, diagnosis=diagnosis)
    return replace(outcome, metadata={**outcome.metadata, **_repeatable(cut)})


def _repeatable(cut: list[str]) -> dict[str, Any]:
    if not cut:
        return {"repeatable": True}
    return {
        "repeatable": False,
        "not_repeatable_because": f"the clock or a stop, not the deterministic work, ended {', '.join(cut)}: "
        "the same input may give other lines (a loaded machine, or max_seconds too short)",
    }


def _complete(
    problem: Problem,
    bound: LineBound,
    demand: Demand,
    final: PhaseResult,
    *,
    phases: dict[str, Any],
    started: float,
    diagnosis: Diagnosis | None,
) -> SolveOutcome:
    in_order = pathways.ordered(final.lines or (), final.reserved)
    pathway_of = pathways.line_pathways(problem, len(in_order), final.reserved)
    repaired, seats_repaired = repair(problem, in_order, pathway_of)
    apart = spread(problem, repaired, pathway_of)
    held = list(pathways.ordered(apart.lines, final.reserved))
    leave = plan_leave(problem.terms, problem.leave_patterns, held)
    labels = [None if p is None else p.name for p in pathways.line_pathways(problem, len(held), final.reserved)]
    lines = build_lines(problem, held, leave, labels)
    violations = check_lines(problem.inp, lines)
    if violations:  # a modelling bug: better no lines than non-compliant ones
        return SolveOutcome(
            status="FAILED",
            metadata={"status": "CHECK_FAILED", "violations": violations[:50]},
            error="internal error: generated lines failed the compliance check: " + "; ".join(violations[:5]),
        )
    n = problem.inp.n_job_lines
    meta: dict[str, Any] = {
        "status": final.status,
        "objective": final.objective,
        "best_bound": final.best_bound,
        "gap": gap(final.objective, final.best_bound),
        "solve_seconds": round(time.perf_counter() - started, 3),
        "phases": phases,
        "rules": list(problem.rule_names),
        "lines_requested": n,
        "lines_built": len(lines),
        **report.demand(problem, held),
        # Required seats CP-SAT left empty and the repair pass filled (0 when it finished).
        "required_seats_repaired": seats_repaired,
        # The hard goal and the soft goals, each with its own proof or bound: the top-level
        # objective, bound and gap are the last CP-SAT phase's, soft goals and all.
        "demand": report.demand_proof(
            problem,
            held,
            lines_proven=len(held) == bound.max_lines or demand.result.status == "OPTIMAL",
            seats_proven=demand.result.status == "OPTIMAL",
        ),
        "soft_goals": {
            **report.soft_score(problem, held),
            "reading": report.reading(problem, held),
            "diversity": {**report.diversity(held), "local_search": apart.as_metadata()},
            "affinity": report.affinity(problem, held),
            "leave": report.leave_goal(problem, held, leave),
        },
        # How the lines read, measured on the lines as written (not on the model's terms).
        "quality": quality.figures(problem.inp, lines),
    }
    if problem.inp.pathways:
        meta["pathways"] = pathways.report(problem, held, [ln.name for ln in lines], final.reserved)
    if any(r.six_month_terms for r in problem.rules) and not problem.six_month_starts:
        # Allowed but impossible on this term structure: said, so no one waits for them.
        least, most = SIX_MONTH_WEEKS
        weeks = "/".join(map(str, problem.inp.term_structure))
        meta["six_month_terms"] = (
            f"none possible: 6-month terms are allowed, but no two consecutive terms of {weeks} "
            f"weeks total {least}-{most} weeks"
        )
    error = None
    if len(lines) < n:
        why = said(_why_fewer(problem, bound, demand, len(lines)))
        meta["fewer_lines_because"] = why
        if diagnosis is not None:
            meta["diagnosis"] = said([*why, *diagnosis.sentences])
            meta["conflict"] = diagnosis.detail
            error = joined(f"built {len(lines)} of the {n} lines asked: ", meta["diagnosis"])
    return SolveOutcome(status="COMPLETED", metadata=meta, payload=lines, error=error)
