"""Explain why no allocation exists, naming the workers, lines and supervisors at fault.

Cheap counting checks come first. Then two Hall-condition checks with a max flow, whose minimum
cut is a certificate an administrator can read: a group of workers whose eligible lines have
fewer seats than the group, or a group of must-fill lines that only fewer workers can fill.
Without supervisor caps the two checks are complete: a bipartite graph with a matching placing
every worker and one covering every must-fill line has one doing both (Mendelsohn-Dulmage).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow

from daemon.allocator.problem import Problem, SupervisorCaps
from daemon.allocator.validate import listing


def _names(problem: Problem, lines: npt.NDArray[np.int64] | list[int]) -> str:
    return listing(problem.line_label(int(ln)) for ln in lines)


def precheck(problem: Problem) -> list[str]:
    """Counting arguments that prove infeasibility without a solve (empty when none applies)."""
    open_ = problem.eligible & (problem.capacity > 0)[None, :]
    return counting(
        capacity=problem.capacity,
        must_fill=problem.must_fill,
        supervisors=problem.supervisors,
        placeable=open_.any(axis=1),
        reachable=open_.any(axis=0),
        worker_name=lambda w: problem.worker_ids[w],
        line_name=problem.line_label,
    )


def counting(
    *,
    capacity: npt.NDArray[np.int64],
    must_fill: npt.NDArray[np.bool_],
    supervisors: Sequence[SupervisorCaps],
    placeable: npt.ArrayLike,
    reachable: npt.ArrayLike,
    worker_name: Callable[[int], str],
    line_name: Callable[[int], str],
) -> list[str]:
    """``precheck`` on what it needs of a run, so the sparse path (no worker x line matrix) says
    the same: ``placeable`` per worker, it has an eligible line with seats; ``reachable`` per
    line, some worker is eligible for it."""
    placeable, reachable = np.asarray(placeable, dtype=bool), np.asarray(reachable, dtype=bool)
    n_workers = len(placeable)
    out: list[str] = []
    stranded = np.flatnonzero(~placeable)
    if stranded.size:
        out.append(
            f"{stranded.size} worker(s) have no eligible job line with seats left: "
            + listing(worker_name(int(w)) for w in stranded)
        )
    seats = int(capacity.sum())
    if seats < n_workers:
        out.append(f"total capacity is {seats} seat(s) for {n_workers} workers")
    n_must = int(must_fill.sum())
    if n_must > n_workers:
        out.append(f"{n_must} must-have job lines but only {n_workers} workers")
    closed = np.flatnonzero(must_fill & (capacity == 0))
    if closed.size:
        out.append("must-have job lines with no seats: " + listing(line_name(int(ln)) for ln in closed))
    unfillable = np.flatnonzero(must_fill & ~reachable & (capacity > 0))
    if unfillable.size:
        out.append("must-have job lines no worker is eligible for: " + listing(line_name(int(ln)) for ln in unfillable))
    out.extend(_capped_seats(capacity, supervisors, n_workers))
    for sup in supervisors:
        must = int(must_fill[sup.lines].sum())
        who = f"preferencer {sup.name!r} ({sup.id})"
        if sup.max_new_workers is not None and sup.max_new_workers < must:
            out.append(
                f"{who} has {must} must-have lines but max_workers leaves {sup.max_new_workers} worker(s) for them"
            )
        if sup.max_new_lines is not None and sup.max_new_lines < must:
            out.append(f"{who} has {must} must-have lines but max_job_lines allows {sup.max_new_lines} more line(s)")
    return out


def _capped_seats(capacity: npt.NDArray[np.int64], supervisors: Sequence[SupervisorCaps], n_workers: int) -> list[str]:
    """Too few seats once the supervisors' caps are applied.

    Per capped supervisor, the most workers its lines can take: seats on lines used in
    earlier rounds plus its ``max_job_lines`` largest fresh lines, at most ``max_workers``.
    Summed with the seats of uncapped lines this bounds the workers placeable (lines under
    several capped supervisors are counted more than once, which keeps it a valid bound).
    """
    capped = np.zeros(len(capacity), dtype=bool)
    bound = 0
    for sup in supervisors:
        capped[sup.lines] = True
        seats = capacity[sup.lines]
        most = int(seats[~sup.fresh].sum())
        fresh = np.sort(seats[sup.fresh])[::-1]
        most += int(fresh[: sup.max_new_lines].sum() if sup.max_new_lines is not None else fresh.sum())
        if sup.max_new_workers is not None:
            most = min(most, sup.max_new_workers)
        bound += most
    bound += int(capacity[~capped].sum())
    if bound >= n_workers:
        return []
    caps = listing(f"{s.name!r} ({s.id})" for s in supervisors)
    return [
        f"the max_job_lines/max_workers caps of preferencers {caps} leave at most "
        f"{bound} seat(s) for {n_workers} workers"
    ]


def _hall_workers(problem: Problem) -> str | None:
    """A group of workers whose eligible lines have fewer seats than the group, if any."""
    n_w, n_l = problem.n_workers, problem.n_lines
    source, sink = n_w + n_l, n_w + n_l + 1
    flow = max_flow.SimpleMaxFlow()
    w_idx, l_idx = np.nonzero(problem.eligible & (problem.capacity > 0)[None, :])
    flow.add_arcs_with_capacity(np.full(n_w, source), np.arange(n_w), np.ones(n_w, np.int64))
    # Uncuttable middle arcs: the cut then consists of worker and seat arcs only.
    flow.add_arcs_with_capacity(w_idx, n_w + l_idx, np.full(len(w_idx), n_w, np.int64))
    flow.add_arcs_with_capacity(n_w + np.arange(n_l), np.full(n_l, sink), problem.capacity)
    if flow.solve(source, sink) != flow.OPTIMAL or flow.optimal_flow() >= n_w:
        return None
    side = np.array(flow.get_source_side_min_cut(), dtype=np.int64)
    workers = np.sort(side[side < n_w])
    lines = np.sort(side[(side >= n_w) & (side < n_w + n_l)] - n_w)
    seats = int(problem.capacity[lines].sum())
    return (
        f"at most {flow.optimal_flow()} of {n_w} workers can be placed: these "
        f"{workers.size} worker(s) are eligible only for job lines with {seats} seat(s) "
        f"between them — workers: {listing(problem.worker_ids[w] for w in workers)}; "
        f"job lines: {_names(problem, lines) or 'none'}"
    )


def _hall_must_fill(problem: Problem) -> str | None:
    """A group of must-fill lines that fewer distinct workers are eligible for, if any."""
    must = np.flatnonzero(problem.must_fill & (problem.capacity > 0))
    n_w, n_m = problem.n_workers, len(must)
    source, sink = n_w + n_m, n_w + n_m + 1
    flow = max_flow.SimpleMaxFlow()
    m_idx, w_idx = np.nonzero(problem.eligible[:, must].T)
    flow.add_arcs_with_capacity(np.full(n_m, source), n_w + np.arange(n_m), np.ones(n_m, np.int64))
    flow.add_arcs_with_capacity(n_w + m_idx, w_idx, np.full(len(m_idx), n_m + 1, np.int64))
    flow.add_arcs_with_capacity(np.arange(n_w), np.full(n_w, sink), np.ones(n_w, np.int64))
    if flow.solve(source, sink) != flow.OPTIMAL or flow.optimal_flow() >= n_m:
        return None
    side = np.array(flow.get_source_side_min_cut(), dtype=np.int64)
    lines = must[np.sort(side[(side >= n_w) & (side < n_w + n_m)] - n_w)]
    workers = np.sort(side[side < n_w])
    return (
        f"{lines.size} must-have job lines can only be filled by {workers.size} distinct "
        f"worker(s) — job lines: {_names(problem, lines)}; workers: "
        f"{listing(problem.worker_ids[w] for w in workers) or 'none'}"
    )


def explain(problem: Problem) -> list[str]:
    """Reasons no allocation exists; never empty (falls back to naming the side constraints)."""
    reasons = precheck(problem)
    if reasons:
        return reasons
    for check in (_hall_workers, _hall_must_fill):
        reason = check(problem)
        if reason is not None:
            reasons.append(reason)
    if reasons:
        return reasons
    if problem.supervisors:
        caps = listing(f"{s.name!r} ({s.id})" for s in problem.supervisors)
        reasons.append(
            "every worker could be placed and every must-have line filled, but not within "
            f"the max_job_lines/max_workers caps of preferencers {caps}"
        )
    if problem.config.stability == "weak":
        reasons.append(
            "no weakly stable allocation places every worker within the capacities, "
            "must-have lines and caps (a stable matching may leave some workers out); "
            "consider stability 'none'"
        )
    return reasons or ["no allocation satisfies all constraints"]
