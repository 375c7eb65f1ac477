"""AllocatorInput → Problem: validate, put in canonical order, compute every cost array."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from daemon.allocator import costs
from daemon.allocator.config import RankNotation, parse_config
from daemon.allocator.data import AllocatorInput
from daemon.allocator.eligibility import eligibility_matrix
from daemon.allocator.problem import FloatMatrix, Problem, SupervisorCaps
from daemon.allocator.validate import check_no_ties, check_ranks, check_sets
from daemon.solving import BadInput

# The dummy line's id (allow_unassigned): never a job line's id, which are uuids.
UNASSIGNED = "<unassigned>"


def canonical(ids: tuple[str, ...]) -> tuple[tuple[str, ...], npt.NDArray[np.int64]]:
    """Sorted ids and, per input position, the position in sorted order."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    new_of_old = np.empty(len(ids), dtype=np.int64)
    new_of_old[order] = np.arange(len(ids))
    return tuple(ids[i] for i in order), new_of_old


def supervisor_caps(
    inp: AllocatorInput,
    line_index: dict[str, int],
    capacity: npt.NDArray[np.int64],
    taken: npt.NDArray[np.int64],
) -> tuple[tuple[SupervisorCaps, ...], npt.NDArray[np.bool_]]:
    """Caps net of earlier exclusive rounds; caps that cannot bind are dropped.

    In an exclusive round, seats taken earlier on a supervisor's lines count against its
    ``max_workers``, and lines that already have workers count against ``max_job_lines``
    (placing more workers on them uses no new line) — on every line of the allocation run:
    those of this run (``taken``) and the others (``preferencer_taken_workers`` /
    ``preferencer_used_lines``). A cap earlier rounds used up leaves 0, which binds as soon as
    the supervisor has a line with a seat here.
    """
    lines_of: dict[str, set[int]] = {}
    for line_id, pref_id in inp.line_preferencers:
        if line_id in line_index:
            lines_of.setdefault(pref_id, set()).add(line_index[line_id])
    out: list[SupervisorCaps] = []
    # Per line: a cap dropped here would bind with one seat more on it (explanations: the
    # value of that seat is then only bounded by the residual graph, which lacks the cap).
    tight = np.zeros(len(capacity), dtype=bool)
    for sup in sorted(inp.preferencers, key=lambda pref: pref.id):
        lines = np.array(sorted(lines_of.get(sup.id, ())), dtype=np.int64)
        fresh = taken[lines] == 0
        max_lines: int | None = None
        used_outside = max(0, inp.preferencer_used_lines.get(sup.id, 0))
        taken_outside = max(0, inp.preferencer_taken_workers.get(sup.id, 0))
        if sup.max_job_lines is not None:
            left = max(0, sup.max_job_lines - int((~fresh).sum()) - used_outside)
            usable = int((fresh & (capacity[lines] > 0)).sum())
            if left < usable:
                max_lines = left
            elif left == usable:
                tight[lines[fresh & (capacity[lines] == 0)]] = True
        max_workers: int | None = None
        if sup.max_workers is not None:
            left = max(0, sup.max_workers - int(taken[lines].sum()) - taken_outside)
            if left < int(capacity[lines].sum()):
                max_workers = left
            elif left == int(capacity[lines].sum()):
                tight[lines] = True
        if max_lines is not None or max_workers is not None:
            out.append(SupervisorCaps(sup.id, sup.name, lines, fresh, max_lines, max_workers))
    return tuple(out), tight


def _preferencer_view(
    inp: AllocatorInput,
    notation: RankNotation,
    new_w: npt.NDArray[np.int64],
    worker_index: dict[str, int],
    line_index: dict[str, int],
) -> FloatMatrix:
    """D_preferencer from the supervisors' rankings, their lines and the weightings."""
    pref_ids = tuple(p.id for p in inp.preferencers)
    who, what, rank = check_ranks(inp.preferencer_prefs, pref_ids, inp.worker_ids, "preferencer preferences", notation)
    pref_index = {pid: i for i, pid in enumerate(pref_ids)}
    pairs = sorted({(line_index[lid], pref_index[p]) for lid, p in inp.line_preferencers if lid in line_index})
    pair_arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    global_w, pair_weights = split_weightings(inp, worker_index, line_index)
    return costs.preferencer_costs(
        costs.normalise(who, new_w[what], rank, (len(pref_ids), len(worker_index))).rank,
        n_lines=len(line_index),
        line_preferencers=(pair_arr[:, 0], pair_arr[:, 1]),
        global_weights=global_w,
        pair_weights=pair_weights,
    )


def split_weightings(
    inp: AllocatorInput, worker_index: dict[str, int], line_index: dict[str, int]
) -> tuple[npt.NDArray[np.float64], tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """Per worker the sum of its global weightings; the pair weightings as (worker, line,
    weight) columns, repeats not summed. Weightings of workers or lines outside the run
    cannot affect it."""
    global_w = np.zeros(len(worker_index), dtype=np.float64)
    specific: list[tuple[int, int, float]] = []
    for wt in inp.weightings:
        w = worker_index.get(wt.worker)
        if w is None:
            continue
        if wt.job_line is None:
            global_w[w] += wt.weight
        elif wt.job_line in line_index:
            specific.append((w, line_index[wt.job_line], wt.weight))
    rows = np.array(specific, dtype=np.float64).reshape(-1, 3)
    return global_w, (rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2])


def build_problem(inp: AllocatorInput) -> Problem:
    """Validate ``inp`` (raising BadInput naming the rows at fault) and build the Problem."""
    cfg = parse_config(inp.config)
    check_sets(inp)
    worker_ids, new_w = canonical(inp.worker_ids)
    line_ids, new_l = canonical(inp.line_ids)
    lines = [inp.lines[i] for i in np.argsort(new_l)]
    n_w, n_l = len(worker_ids), len(line_ids)
    line_index = {lid: i for i, lid in enumerate(line_ids)}
    worker_index = {wid: i for i, wid in enumerate(worker_ids)}

    taken = np.array([inp.taken_capacity.get(lid, 0) for lid in line_ids], dtype=np.int64)
    max_n = np.array([ln.max_n_workers for ln in lines], dtype=np.int64)
    capacity = np.maximum(max_n - taken, 0)
    # A must-have line filled in an earlier round has its worker already.
    must_fill = np.array([ln.must_have_workers for ln in lines], dtype=bool) & (taken == 0)

    who, what, rank = check_ranks(
        inp.worker_prefs, inp.worker_ids, inp.line_ids, "worker preferences", cfg.rank_notation
    )
    who, what = new_w[who], new_l[what]
    norm = costs.normalise(who, what, rank, (n_w, n_l))
    if not cfg.allow_worker_preference_ties:
        check_no_ties(
            norm.tied[who, what],
            who=who,
            item=what,
            rank=rank,
            worker_ids=worker_ids,
            line_ids=line_ids,
        )

    d_pref = _preferencer_view(inp, cfg.rank_notation, new_w, worker_index, line_index)

    eligible = eligibility_matrix(worker_ids, line_ids, inp.worker_tags, inp.eligibility)
    cost = costs.combine(norm.rank, d_pref, cfg.preferencer_weight, cfg.preference_power)
    supervisors, tight_caps = supervisor_caps(inp, line_index, capacity, taken)
    rank, ranked, line_names = norm.rank, norm.ranked, tuple(ln.name for ln in lines)
    all_line_ids = line_ids
    penalty = 0.0
    if cfg.allow_unassigned:
        penalty = default_penalty(cost, eligible) if cfg.unassigned_penalty is None else cfg.unassigned_penalty
        # The dummy line: a seat for everyone, eligible for all, ranked worse than any line by
        # every worker (so stability treats "unassigned" as the worst place), liked equally.
        capacity = np.append(capacity, n_w)
        must_fill = np.append(must_fill, False)
        tight_caps = np.append(tight_caps, False)
        eligible = np.hstack([eligible, np.ones((n_w, 1), dtype=bool)])
        rank = np.hstack([rank, np.full((n_w, 1), n_l + 1.0)])
        ranked = np.hstack([ranked, np.zeros((n_w, 1), dtype=bool)])
        d_pref = np.hstack([d_pref, np.zeros((n_w, 1))])
        cost = np.hstack([cost, np.full((n_w, 1), penalty)])
        all_line_ids = (*line_ids, UNASSIGNED)
        line_names = (*line_names, "unassigned")
    n_nodes = n_w + len(all_line_ids) + len(supervisors) + 2
    jitter = costs.tie_break_jitter(worker_ids, all_line_ids, cfg.rng_seed)
    scale = costs.scale_for(cost, eligible, n_nodes)
    cost_int, count_weight = None, 0
    counted = np.zeros(n_w, dtype=np.int64)
    if cfg.allow_unassigned:
        counted = within_penalty(cost[:, :-1], eligible[:, :-1], penalty)
    while scale is not None:
        cost_int = costs.to_integer(cost, scale, jitter)
        if not cfg.allow_unassigned:
            break
        count_weight = costs.count_weight(cost_int, eligible)
        if (int(np.abs(cost_int[eligible]).max()) + count_weight) * n_nodes <= costs.MAX_SAFE:
            # SPEC §4.1: leaving out a worker who has a placement within the penalty is what
            # the count minimises first (big-M); a worker whose every placement costs more than
            # the penalty may be left out at the penalty alone.
            cost_int[:, -1] += count_weight * counted
            break
        scale = scale / 10.0 if scale > 1.0 else None
    if scale is None or cost_int is None:
        raise BadInput(
            "costs too large to solve exactly (rank^preference_power, weightings or unassigned_penalty); "
            "lower preference_power, the weights or the penalty"
        )
    return Problem(
        config=cfg,
        worker_ids=worker_ids,
        line_ids=all_line_ids,
        line_names=line_names,
        capacity=capacity,
        must_fill=must_fill,
        eligible=eligible,
        rank=rank,
        ranked=ranked,
        d_preferencer=d_pref,
        cost=cost,
        cost_int=cost_int,
        scale=scale,
        tie_levels=costs.TIE_LEVELS,
        supervisors=supervisors,
        tight_caps=tight_caps,
        unassigned_line=n_l if cfg.allow_unassigned else None,
        penalty=penalty,
        count_weight=count_weight,
        counted=counted,
    )


def within_penalty(cost: FloatMatrix, eligible: npt.NDArray[np.bool_], penalty: float) -> npt.NDArray[np.int64]:
    """1 per worker with an eligible line costing no more than ``penalty`` (or with no eligible
    line at all: nothing to choose), else 0 (every placement costs more: may be left out)."""
    cheapest = np.where(eligible, cost, np.inf).min(axis=1, initial=np.inf)
    counted: npt.NDArray[np.int64] = ((cheapest <= penalty) | ~eligible.any(axis=1)).astype(np.int64)
    return counted


def default_penalty(cost: FloatMatrix, eligible: npt.NDArray[np.bool_]) -> float:
    """The default ``unassigned_penalty``: 1 + the largest cost of any eligible (worker, line)
    pair (seats or not), so worse than any placement; 1 when no pair is eligible."""
    return 1.0 + float(cost[eligible].max()) if eligible.any() else 1.0
