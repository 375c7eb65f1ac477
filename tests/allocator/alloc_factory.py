"""Small AllocatorInputs written as dicts, and a solve that always goes through the checker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from daemon.allocator.data import (
    AllocatorInput,
    Eligibility,
    JobLine,
    Preferencer,
    RankTable,
    Weighting,
)
from daemon.allocator.problem import Allocation
from daemon.allocator.solve import solve
from daemon.checks.allocation import check_allocation, check_explanations
from daemon.solving import SolveContext, SolveOutcome

Ranks = Mapping[str, Mapping[str, float]]


def table(ranks: Ranks, who_ids: Sequence[str], what_ids: Sequence[str]) -> RankTable:
    who_index = {w: i for i, w in enumerate(who_ids)}
    what_index = {x: i for i, x in enumerate(what_ids)}
    rows = [(who_index[w], what_index[x], r) for w, given in ranks.items() for x, r in given.items()]
    return RankTable(
        np.array([r[0] for r in rows], dtype=np.int32),
        np.array([r[1] for r in rows], dtype=np.int32),
        np.array([r[2] for r in rows], dtype=np.float64),
    )


def make_input(
    worker_ranks: Ranks,
    lines: Mapping[str, int] | Sequence[JobLine],
    *,
    workers: Sequence[str] | None = None,
    config: Mapping[str, Any] | None = None,
    must: Sequence[str] = (),
    preferencers: Sequence[Preferencer] = (),
    line_preferencers: Sequence[tuple[str, str]] = (),
    sup_ranks: Ranks | None = None,
    weightings: Sequence[Weighting] = (),
    eligibility: Sequence[Eligibility] = (),
    worker_tags: Mapping[str, frozenset[str]] | None = None,
    taken: Mapping[str, int] | None = None,
    sup_taken_workers: Mapping[str, int] | None = None,
    sup_used_lines: Mapping[str, int] | None = None,
) -> AllocatorInput:
    """``lines`` maps line id to capacity (or gives JobLines); ``must`` lists must-have lines.

    ``sup_taken_workers`` / ``sup_used_lines``: per supervisor, workers earlier rounds placed on
    its lines outside this run, and how many of those lines they used."""
    if isinstance(lines, Mapping):
        job_lines = tuple(JobLine(lid, f"Line {lid}", cap, must_have_workers=lid in must) for lid, cap in lines.items())
    else:
        job_lines = tuple(lines)
    worker_ids = tuple(workers if workers is not None else worker_ranks)
    line_ids = tuple(ln.id for ln in job_lines)
    pref_ids = [p.id for p in preferencers]
    return AllocatorInput(
        run_id="run",
        allocation_run_id="allocation-run",
        config=dict(config or {}),
        worker_ids=worker_ids,
        line_ids=line_ids,
        lines=job_lines,
        worker_tags=dict(worker_tags or {}),
        worker_prefs=table(worker_ranks, worker_ids, line_ids),
        preferencers=tuple(preferencers),
        line_preferencers=tuple(line_preferencers),
        preferencer_prefs=table(sup_ranks or {}, pref_ids, worker_ids),
        weightings=tuple(weightings),
        eligibility=tuple(eligibility),
        taken_capacity=dict(taken or {}),
        preferencer_taken_workers=dict(sup_taken_workers or {}),
        preferencer_used_lines=dict(sup_used_lines or {}),
    )


def solve_checked(inp: AllocatorInput, ctx: SolveContext | None = None) -> SolveOutcome:
    """Solve, and for a solution assert the independent checker finds nothing wrong."""
    out = solve(inp, ctx or SolveContext())
    if out.status == "COMPLETED":
        check = check_allocation(inp, out.payload.allocations)
        assert check.violations == (), check.violations
        if out.metadata.get("explanations", {}).get("rows") is not None:
            wrong = check_explanations(inp, out.payload.allocations, out.payload.explanations)
            assert wrong == (), wrong
        assert abs(check.objective - out.metadata["objective"]) <= 1e-6 * max(1.0, abs(check.objective))
    return out


def holder(inp: AllocatorInput, line: str) -> str:
    """The worker the checked solution puts on ``line`` (a capacity-1 line)."""
    return next(w for w, ln in placed(solve_checked(inp)).items() if ln == line)


def placed(out: SolveOutcome) -> dict[str, str]:
    """worker -> job line of a completed outcome."""
    rows: tuple[Allocation, ...] = out.payload.allocations
    return {a.worker: a.job_line for a in rows}
