"""The repair pass (issue 12): no required seat is left empty when a line could fill it by
giving up an excludable post in the same term.

CP-SAT fills required seats first, but a run cut short (a short ``max_seconds`` on a loaded
machine) may stop with seats empty that one line's move would fill. Here, line by line in
order, each line holding an excludable post in a term with a required seat free there takes
that seat if the independent checker (``checks.planner.check_held``) accepts the changed line.
Seat counts only move from excludable to required posts, so demand only improves; the reading
goals give way, as they do to required seats in CP-SAT's objective. Deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from daemon.checks.planner import check_held, requirements
from daemon.planner.data import Pathway
from daemon.planner.problem import Problem
from daemon.planner.spread import keeps_pathway


def repair(
    problem: Problem, lines: Sequence[Sequence[int]], pathway_of: Sequence[Pathway | None] = ()
) -> tuple[list[tuple[int, ...]], int]:
    """``lines`` with every such move made, and the required seats it filled; ``pathway_of``:
    each line's pathway (None or missing: the general pool), which a move must keep met."""
    req, _ = requirements(problem.inp)
    positions, seats = problem.positions, problem.seats
    out = [list(held) for held in lines]
    taken = Counter((t, i) for held in out for t, i in enumerate(held))
    filled = 0
    for ln, held in enumerate(out):
        pathway = pathway_of[ln] if ln < len(pathway_of) else None
        for t, i in enumerate(held):
            if not positions[i].excludable:
                continue
            for j, p in enumerate(positions):
                if p.excludable or taken[t, j] >= seats[j][t]:
                    continue
                changed = [*held[:t], j, *held[t + 1 :]]
                after = [positions[k] for k in changed]
                if not check_held(req, problem.inp, after) and keeps_pathway(
                    pathway, [positions[k] for k in held], after
                ):
                    held[t] = j
                    taken[t, i] -= 1
                    taken[t, j] += 1
                    filled += 1
                    break
    return [tuple(held) for held in out], filled
