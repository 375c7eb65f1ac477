"""Exact min-cost flow for NRMP-sized transportation runs, without any workers x lines array.

Which path solves which run (``solve.solve`` dispatches):

- workers x lines <= ``dense_max_pairs()`` (10 M pairs by default; 1,500 x 1,500 is 2.25 M):
  the dense ``Problem`` (``build``) and its solvers, with explanations;
- above that, a pure transportation run (no stability, no binding ``max_job_lines``, no line
  under two capped supervisors; SPEC §4 "Speed") without ``allow_unassigned``, whose explicit
  arcs fit ``MAX_ARCS``: this module, exact, no explanations;
- anything else above it: the dense path, which ``check_size`` refuses with a clear BadInput
  when its matrices cannot fit (the reason this module declined is part of the message).

At 45,000 workers x 6,400 lines the dense matrices would hold 288 M pairs. But most pairs
are "unranked": the worker did not rank the line, none of the line's supervisors ranked the
worker, and no weighting names the pair. Their cost is separable:

    cost(w, l) = [(1-a)·budget(w)^p + a·global(w)] + [a·S(l)]
                  worker part a(w)                    line part b(l)

with S(l) the mean over the line's supervisors of each one's unranked budget ((W+1)/2 for a
line without supervisors). So every unranked pair routes through a hub node: one hub per
distinct eligibility row (the set of lines a worker may take), worker → its row's hub at a(w),
hub → line at b(l) (capacity: the line's seats). Only pairs some side ranked, or a weighting
names, get an explicit worker → line arc at their true cost. Lines → (their capped supervisor
→) sink carry the seats, must-fill lower bounds and supervisor ``max_workers`` exactly as in
``flow``.

Why the optimum is exact. Write H(w, l) for the hub route's cost and c(w, l) for the true cost
(in integer units, see below). (1) For every eligible pair, H(w, l) >= c(w, l): an unranked
pair costs exactly H; for an explicit pair each term of c is at most H's, because a given
rank is strictly better than the ranker's budget (normalised ranks are at most k, the budget
(N+k+1)/2 > k; x^p is increasing) and a pair weighting is <= 0 — a worker with a POSITIVE
pair weighting therefore gets no hub arc at all, only explicit arcs to every line it may
take. (2) A hub reaches exactly the lines every worker routed through it may take: all its
workers share one eligibility row. Hence any flow decomposes into an allocation (match each
hub's incoming workers to its outgoing seats in any order: the cost is a(w) + b(l) whatever
the matching) whose true cost is at most the flow's; and every allocation is a flow of exactly
its true cost (explicit pairs on their arcs, unranked pairs through their worker's hub). The
least flow and the least allocation therefore have the same cost, and the allocation decoded
from an optimal flow is optimal.

Eligibility. A worker no rule names by id has the eligibility of its tags among those the
rules mention (SPEC §4.4 steps 3-6): one row per such tag set, from one representative. A
worker a rule includes or excludes by id gets its own row. Rows come from
``eligibility.eligibility_matrix`` (the same code as the dense path), and identical rows are
merged: a rule excluding 10,000 named workers from one line, or 45,000 distinct tag sets
with two eligibility patterns, make two hubs. Workers with a positive pair weighting are the
only "explicit workers" (arcs to every line they may take, no hub). Runs whose explicit
workers, hubs and ranked pairs would need more than ``MAX_ARCS`` arcs are declined.

Integer costs. Worker part and line part are scaled (x 1,000,000 unless huge costs force it
down) and rounded separately, so the comparison (1) holds after rounding too (rounding is
monotone), and get a seeded tie-break jitter that is separable as well: per worker and per
line, each in [0, TIE_LEVELS/2), so below one scaled unit together. Separable jitter cannot
tell apart two allocations that swap hub workers between lines (their jitter sums are equal):
such ties are resolved by the flow's arc order, which follows the canonical (id-sorted) order,
so the same input still gives the same output. Per pair the integer cost is within
[-1, +2) scaled units of the true cost, so the reported optimum is at most 3·W/scale above the
true one (``rounding_error_bound``).
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from daemon import settings
from daemon.allocator import costs
from daemon.allocator.build import canonical, split_weightings, supervisor_caps
from daemon.allocator.config import AllocatorConfig, parse_config
from daemon.allocator.data import AllocatorInput
from daemon.allocator.diagnose import counting
from daemon.allocator.eligibility import eligibility_matrix, merged_rules
from daemon.allocator.flow import solve_to_sink
from daemon.allocator.problem import Allocation, AllocatorResult, SupervisorCaps, line_label, needs_cp_sat
from daemon.allocator.report import rank_key
from daemon.allocator.validate import check_no_ties, check_ranks, check_sets
from daemon.solving import BadInput, SolveContext, SolveOutcome, check_size

METHOD = "min_cost_flow_hub"
# Explicit arcs (ranked or weighted pairs, explicit workers' lines, hub → line arcs) this path
# builds at most. Peak RSS of whole runs (45,000 workers x 6,400 lines, 4 ranks each, n workers
# excluded by name from one line): 6.64 M arcs 1.12 GB, 19.4 M arcs 2.86 GB, 38.6 M arcs
# 5.47 GB; about 136 bytes an arc (OR-Tools' graph, its solver's arrays and ours) over a
# 0.2 GB base. So 40 M arcs need about 5.7 GB.
MAX_ARCS = 40_000_000
# The estimate ``check_size`` compares with the solver's memory limit (address space, which runs
# above RSS: thread stacks, allocator arenas, mapped libraries): measured figures plus headroom.
BYTES_PER_ARC = 160
BASE_BYTES = 512 * 2**20
# OR-Tools' cost scaling multiplies costs by about twice the node count; keep that in int64
# with room to spare.
_MAX_COST_PRODUCT = 2**61

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def dense_max_pairs() -> int:
    """The size (workers x lines) past which a run may take this path: ``RECEPTORD_DENSE_MAX_PAIRS``
    in the solver's environment (``settings.dense_max_pairs``; tests force the path on small
    runs with it). A daemon refuses to start with a bad value; a foreground run fails."""
    try:
        return settings.dense_max_pairs()
    except ValueError as e:
        raise BadInput(str(e)) from None


@dataclass(frozen=True)
class Declined:
    """Why this path does not apply (the dense path then handles the run, or refuses it)."""

    reason: str


@dataclass(frozen=True)
class SparseProblem:
    """The hub network's data: workers and lines in canonical (id-sorted) order."""

    config: AllocatorConfig
    worker_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    line_names: tuple[str, ...]
    capacity: IntArray  # seats left per line after earlier exclusive rounds
    must_fill: npt.NDArray[np.bool_]
    supervisors: tuple[SupervisorCaps, ...]  # binding caps only, none on lines (needs_cp_sat)
    elig_rows: npt.NDArray[np.bool_]  # [row, line]: distinct eligibility rows, hub h's is row h
    row_of: IntArray  # per worker, its row of ``elig_rows``
    hub_of: IntArray  # per worker, its row's hub; -1 for explicit workers
    budget: FloatArray  # per worker, the unranked budget (its rank on a hub pair)
    hub_cost: FloatArray  # per worker, true cost of an unranked pair less the line part below
    hub_line_view: FloatArray  # per line, S(l): its view of a worker it did not rank
    global_weight: FloatArray  # per worker
    pair_key: IntArray  # explicit pairs, worker * n_lines + line, sorted, eligible only
    pair_rank: FloatArray  # the worker's normalised rank; NaN where it did not rank the line
    pair_cost: FloatArray  # true cost
    pair_int: IntArray  # integer cost of the explicit arc
    hub_worker_int: IntArray  # integer cost of worker → hub
    hub_line_int: IntArray  # integer cost of hub → line
    scale: float

    @property
    def n_workers(self) -> int:
        return len(self.worker_ids)

    @property
    def n_lines(self) -> int:
        return len(self.line_ids)

    @property
    def rounding_bound(self) -> float:
        """How far the flow's optimum may be above the true one: per pair the integer cost is
        within [-1, +2) scaled units of the true cost (two roundings, jitter below a unit)."""
        return 3.0 * self.n_workers / self.scale


def fractional(who: IntArray, rank: FloatArray, n_rankers: int) -> tuple[FloatArray, npt.NDArray[np.bool_], IntArray]:
    """Per row: the fractional rank (ties share the mean of their positions, SPEC §4) and
    whether it is tied; per ranker: how many items it ranked. One sort of the rows, no
    rankers x items array (``costs.normalise`` builds one)."""
    order = np.lexsort((rank, who))
    s_who, s_rank = who[order], rank[order]
    counts = np.bincount(who, minlength=n_rankers).astype(np.int64)
    first_of_ranker = np.cumsum(counts) - counts
    position = np.arange(len(order)) - first_of_ranker[s_who]  # 0-based within the ranker
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (s_who[1:] != s_who[:-1]) | (s_rank[1:] != s_rank[:-1])
    group = np.cumsum(new_group) - 1
    size = np.bincount(group)
    start = position[new_group]
    mean = start + 1.0 + (size - 1) / 2.0
    out = np.empty(len(order))
    tied = np.empty(len(order), dtype=bool)
    out[order] = mean[group]
    tied[order] = (size > 1)[group]
    return out, tied, counts


def _find(
    sorted_keys: IntArray, values: FloatArray, keys: IntArray, default: FloatArray | float
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Per entry of ``keys``: the value at its place in ``sorted_keys`` (``default`` where it
    is absent), and whether it was there."""
    at = np.searchsorted(sorted_keys, keys)
    found = np.zeros(len(keys), dtype=bool)
    inside = at < len(sorted_keys)
    found[inside] = sorted_keys[at[inside]] == keys[inside]
    out = np.array(np.broadcast_to(default, keys.shape), dtype=np.float64)
    out[found] = values[at[found]]
    return out, found


def _expand(start: IntArray, count: IntArray, flat: IntArray, groups: IntArray) -> tuple[IntArray, IntArray]:
    """For each entry of ``groups`` (indices into a grouped list: ``start``/``count`` into
    ``flat``), every member: (position in ``groups``, member), grouped by position."""
    n = count[groups]
    at = np.repeat(np.arange(len(groups)), n)
    within = np.arange(len(at)) - np.repeat(np.cumsum(n) - n, n)
    return at, flat[start[groups[at]] + within]


def _grouped(group: IntArray, member: IntArray, n_groups: int) -> tuple[IntArray, IntArray, IntArray]:
    """(start, count, members) of ``member`` grouped by ``group``, stable."""
    order = np.argsort(group, kind="stable")
    count = np.bincount(group, minlength=n_groups).astype(np.int64)
    return np.cumsum(count) - count, count, member[order]


@dataclass(frozen=True)
class _Supervision:
    """The supervisors' side: each one's normalised ranks of workers, and lines' supervisors."""

    rank_key: IntArray  # supervisor * n_workers + worker, sorted
    rank: FloatArray  # aligned with rank_key
    budget: FloatArray  # per supervisor
    sups_of_line: tuple[IntArray, IntArray, IntArray]  # grouped (start, count, supervisors)
    lines_of_sup: tuple[IntArray, IntArray, IntArray]  # grouped (start, count, lines)

    def view(self, workers: IntArray, lines: IntArray, n_workers: int) -> FloatArray:
        """Base D_preferencer of (worker, line) pairs: the mean over the line's supervisors of
        their rank of the worker (their budget if unranked); (W+1)/2 without supervisors."""
        pair, sup = _expand(*self.sups_of_line, lines)
        value, _ = _find(self.rank_key, self.rank, sup * n_workers + workers[pair], self.budget[sup])
        return self._mean(value, pair, lines, n_workers)

    def unranked_view(self, n_lines: int, n_workers: int) -> FloatArray:
        """S(l) per line: its view of a worker none of its supervisors ranked."""
        lines = np.arange(n_lines)
        pair, sup = _expand(*self.sups_of_line, lines)
        return self._mean(self.budget[sup], pair, lines, n_workers)

    def _mean(self, value: FloatArray, pair: IntArray, lines: IntArray, n_workers: int) -> FloatArray:
        n = self.sups_of_line[1][lines]
        total = np.bincount(pair, weights=value, minlength=len(lines))
        out = np.full(len(lines), (n_workers + 1) / 2.0)
        has = n > 0
        out[has] = total[has] / n[has]
        return out

    def ranked_pair_count(self, n_workers: int) -> int:
        """How many entries ``ranked_pairs`` has (before merging duplicates), without them:
        per supervisor, the workers it ranked times its lines."""
        n_sups = len(self.budget)
        ranked = np.bincount(self.rank_key // n_workers, minlength=n_sups)
        return int((ranked * self.lines_of_sup[1]).sum())

    def ranked_pairs(self, n_workers: int, n_lines: int) -> IntArray:
        """worker * n_lines + line for every worker a supervisor ranked and each of its lines."""
        ranked_by = self.rank_key // n_workers
        at, line = _expand(*self.lines_of_sup, ranked_by)
        return (self.rank_key % n_workers)[at] * n_lines + line


def _supervision(
    inp: AllocatorInput, cfg: AllocatorConfig, new_w: IntArray, line_index: dict[str, int]
) -> _Supervision:
    n_w, n_l = len(inp.worker_ids), len(line_index)
    pref_ids = tuple(p.id for p in inp.preferencers)
    who, what, rank = check_ranks(
        inp.preferencer_prefs, pref_ids, inp.worker_ids, "preferencer preferences", cfg.rank_notation
    )
    position, _, counts = fractional(who, rank, len(pref_ids))
    key = who * n_w + new_w[what]
    order = np.argsort(key)
    pref_index = {pid: i for i, pid in enumerate(pref_ids)}
    links = sorted({(line_index[lid], pref_index[p]) for lid, p in inp.line_preferencers if lid in line_index})
    link = np.array(links, dtype=np.int64).reshape(-1, 2)
    return _Supervision(
        rank_key=key[order],
        rank=position[order],
        budget=costs.unranked_budget(counts, n_w),
        sups_of_line=_grouped(link[:, 0], link[:, 1], n_l),
        lines_of_sup=_grouped(link[:, 1], link[:, 0], len(pref_ids)),
    )


def _weights(
    inp: AllocatorInput, worker_index: dict[str, int], line_index: dict[str, int]
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per worker its global weightings' sum; the (worker, line) pair weightings summed, as
    sorted keys and values."""
    global_w, (w_idx, l_idx, weight) = split_weightings(inp, worker_index, line_index)
    unique, inverse = np.unique(w_idx * len(line_index) + l_idx, return_inverse=True)
    summed = np.bincount(inverse, weights=weight, minlength=len(unique))
    return global_w, unique.astype(np.int64), summed.astype(np.float64)


def _classes(
    inp: AllocatorInput, worker_ids: tuple[str, ...], line_ids: tuple[str, ...], explicit: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], IntArray, IntArray]:
    """Distinct eligibility rows, each worker's row and its hub (-1 for ``explicit`` workers).

    Rows are computed for one representative per tag class and for each worker an eligibility
    rule names, then identical rows merged: one hub per distinct row some hub worker has (those
    rows first, so hub h's row is row h)."""
    merged = merged_rules(inp.eligibility, {lid: i for i, lid in enumerate(line_ids)})
    named_ids = set().union(*(r.included_workers | r.excluded_workers for r in merged.values()))
    mentioned = frozenset().union(*(r.included_tags | r.excluded_tags for r in merged.values()))
    class_of: dict[frozenset[str], int] = {}
    representatives: list[str] = []
    named: list[str] = []
    row_of = np.empty(len(worker_ids), dtype=np.int64)
    named_rows: list[int] = []
    for w, wid in enumerate(worker_ids):
        if wid in named_ids:
            named_rows.append(w)
            named.append(wid)
            continue
        key = inp.worker_tags.get(wid, frozenset()) & mentioned
        c = class_of.setdefault(key, len(class_of))
        if c == len(representatives):
            representatives.append(wid)
        row_of[w] = c
    row_of[named_rows] = len(representatives) + np.arange(len(named_rows))
    rows = eligibility_matrix((*representatives, *named), line_ids, inp.worker_tags, inp.eligibility)
    # Merge identical rows (compared packed, 8 lines a byte); np.unique's order is deterministic.
    _, first, distinct = np.unique(np.packbits(rows, axis=1), axis=0, return_index=True, return_inverse=True)
    row_of = distinct.reshape(-1)[row_of]
    used = np.zeros(len(first), dtype=bool)
    used[row_of[~explicit]] = True
    order = np.concatenate([np.flatnonzero(used), np.flatnonzero(~used)])
    renumber = np.empty(len(order), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    row_of = renumber[row_of]
    return rows[first[order]], row_of, np.where(explicit, -1, row_of)


def build_sparse(inp: AllocatorInput, ctx: SolveContext | None = None) -> SparseProblem | Declined:
    """Validate ``inp`` (BadInput names the rows at fault) and build the hub network's data;
    Declined when the reduction does not apply or would not be small. With ``ctx``, a network
    estimated (``BYTES_PER_ARC``) to exceed its memory limit is refused (BadInput) as soon as
    its arc count is known, before anything of that size is built."""
    cfg = parse_config(inp.config)
    check_sets(inp)
    if cfg.stability != "none":
        return Declined("weak stability is not a flow")
    if cfg.allow_unassigned:
        return Declined("allow_unassigned is not supported by the sparse hub flow")
    worker_ids, new_w = canonical(inp.worker_ids)
    line_ids, new_l = canonical(inp.line_ids)
    lines = [inp.lines[i] for i in np.argsort(new_l)]
    n_w, n_l = len(worker_ids), len(line_ids)
    line_index = {lid: i for i, lid in enumerate(line_ids)}
    worker_index = {wid: i for i, wid in enumerate(worker_ids)}
    taken = np.array([inp.taken_capacity.get(lid, 0) for lid in line_ids], dtype=np.int64)
    capacity = np.maximum(np.array([ln.max_n_workers for ln in lines], dtype=np.int64) - taken, 0)
    must_fill = np.array([ln.must_have_workers for ln in lines], dtype=bool) & (taken == 0)
    supervisors, _ = supervisor_caps(inp, line_index, capacity, taken)
    if needs_cp_sat(cfg.stability, supervisors, n_l):
        return Declined("supervisor max_job_lines caps, or lines under two capped supervisors, are not a flow")

    who, what, rank = check_ranks(
        inp.worker_prefs, inp.worker_ids, inp.line_ids, "worker preferences", cfg.rank_notation
    )
    who, what = new_w[who], new_l[what]
    position, tied, counts = fractional(who, rank, n_w)
    if not cfg.allow_worker_preference_ties:
        check_no_ties(tied, who=who, item=what, rank=rank, worker_ids=worker_ids, line_ids=line_ids)
    budget = costs.unranked_budget(counts, n_l)
    sup = _supervision(inp, cfg, new_w, line_index)
    global_w, weight_key, weight = _weights(inp, worker_index, line_index)

    # A positive pair weighting makes that pair dearer than its hub route: no hub for them.
    explicit = np.zeros(n_w, dtype=bool)
    explicit[weight_key[weight > 0] // n_l] = True
    elig_rows, row_of, hub_of = _classes(inp, worker_ids, line_ids, explicit)
    n_hubs = int(hub_of.max(initial=-1)) + 1
    n_explicit = int(explicit.sum())
    # A supervisor's ranked workers on each of its lines: counted first, expanded only once the
    # run is known to fit (one supervisor ranking 45,000 workers on 6,400 lines is 288 M pairs).
    arcs = n_explicit * n_l + n_hubs * n_l + len(who) + sup.ranked_pair_count(n_w) + len(weight_key)
    if arcs > MAX_ARCS:
        return Declined(
            f"{n_explicit:,} workers with positive pair weightings, {n_hubs:,} distinct eligibility rows "
            f"and the ranked pairs need about {arcs:,} arcs, more than {MAX_ARCS:,}"
        )
    if ctx is not None:
        arcs += n_w + n_l  # worker → hub and line → sink arcs
        check_size(
            ctx,
            BASE_BYTES + arcs * BYTES_PER_ARC,
            f"{n_w:,} workers x {n_l:,} job lines on the sparse hub path (about {arcs:,} arcs)",
        )

    supervised = sup.ranked_pairs(n_w, n_l)
    # Explicit pairs: ranked by the worker, by a supervisor of the line, weighted; and every
    # line of an explicit worker. Ineligible pairs get no arc.
    every = np.flatnonzero(explicit)
    key = np.unique(
        np.concatenate(
            [
                who * n_l + what,
                supervised,
                weight_key,
                (np.repeat(every, n_l) * n_l + np.tile(np.arange(n_l), len(every))).astype(np.int64),
            ]
        )
    )
    pw, pl = key // n_l, key % n_l
    keep = elig_rows[row_of[pw], pl]
    key, pw, pl = key[keep], pw[keep], pl[keep]

    alpha, power = cfg.preferencer_weight, cfg.preference_power
    worker_key = who * n_l + what
    order = np.argsort(worker_key)
    pair_rank, ranked = _find(worker_key[order], position[order], key, np.nan)
    d_worker = np.power(np.where(ranked, pair_rank, budget[pw]), power)
    pair_weight, _ = _find(weight_key, weight, key, 0.0)
    view = sup.view(pw, pl, n_w)
    # As the dense model adds them (costs.preferencer_costs, costs.combine): base, then weights.
    pair_cost = (1 - alpha) * d_worker + alpha * (view + global_w[pw] + pair_weight)
    pair_worker_part = (1 - alpha) * d_worker + alpha * (global_w[pw] + pair_weight)
    pair_line_part = alpha * view

    line_view = sup.unranked_view(n_l, n_w)
    hub_cost = (1 - alpha) * np.power(budget, power)
    hub_worker_part = hub_cost + alpha * global_w
    hub_line_part = alpha * line_view

    biggest = max(
        float(np.abs(hub_worker_part).max(initial=0.0)) + float(np.abs(hub_line_part).max(initial=0.0)),
        float(np.abs(pair_worker_part).max(initial=0.0)) + float(np.abs(pair_line_part).max(initial=0.0)),
    )
    n_nodes = n_w + n_l + n_hubs + len(supervisors) + 1
    scale = costs.SCALE
    while (biggest * scale + 2.0) * costs.TIE_LEVELS * (n_nodes + 1) > _MAX_COST_PRODUCT:
        if scale <= 1.0:
            raise BadInput(
                "costs too large to solve exactly (rank^preference_power or weightings); "
                "lower preference_power or the weights"
            )
        scale /= 10.0
    tie = costs.TIE_LEVELS
    # Separable tie-break: half a unit's sub-units per worker, half per line.
    jitter_w = costs.tie_break_jitter(worker_ids, ("",), cfg.rng_seed)[:, 0] >> 1
    jitter_l = costs.tie_break_jitter(("",), line_ids, cfg.rng_seed)[0] >> 1
    a_hub = np.rint(hub_worker_part * scale).astype(np.int64)
    b_hub = np.rint(hub_line_part * scale).astype(np.int64)
    a_pair = np.rint(pair_worker_part * scale).astype(np.int64)
    b_pair = np.rint(pair_line_part * scale).astype(np.int64)
    hub_pair = hub_of[pw] >= 0
    # The reduction's premise (module docstring, (1)), checked after rounding: a hub route is
    # never cheaper than an explicit arc of the same pair.
    if (a_pair[hub_pair] > a_hub[pw[hub_pair]]).any() or (b_pair[hub_pair] > b_hub[pl[hub_pair]]).any():
        raise RuntimeError("internal error: a hub route undercuts an explicit pair's cost")
    return SparseProblem(
        config=cfg,
        worker_ids=worker_ids,
        line_ids=line_ids,
        line_names=tuple(ln.name for ln in lines),
        capacity=capacity,
        must_fill=must_fill,
        supervisors=supervisors,
        elig_rows=elig_rows,
        row_of=row_of,
        hub_of=hub_of,
        budget=budget,
        hub_cost=hub_cost,
        hub_line_view=line_view,
        global_weight=global_w,
        pair_key=key,
        pair_rank=pair_rank,
        pair_cost=pair_cost,
        pair_int=(a_pair + b_pair) * tie + jitter_w[pw] + jitter_l[pl],
        hub_worker_int=a_hub * tie + jitter_w,
        hub_line_int=b_hub * tie + jitter_l,
        scale=scale,
    )


def solve_flow(sp: SparseProblem) -> tuple[IntArray, npt.NDArray[np.bool_]] | None:
    """Per worker its line, and whether it got it through its hub; None if no allocation exists.

    Nodes: workers, lines, hubs, capped supervisors, sink; ``flow.solve_to_sink`` adds the
    line → supervisor → sink part (must-fill lines and caps) as for the dense network."""
    n_w, n_l = sp.n_workers, sp.n_lines
    n_hubs = int(sp.hub_of.max(initial=-1)) + 1
    hub0 = n_w + n_l
    mcf = min_cost_flow.SimpleMinCostFlow()
    pw, pl = sp.pair_key // n_l, sp.pair_key % n_l
    pair_arcs = mcf.add_arcs_with_capacity_and_unit_cost(pw, n_w + pl, np.ones(len(pw), np.int64), sp.pair_int)
    hub_workers = np.flatnonzero(sp.hub_of >= 0)
    in_arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        hub_workers,
        hub0 + sp.hub_of[hub_workers],
        np.ones(len(hub_workers), np.int64),
        sp.hub_worker_int[hub_workers],
    )
    # Hub → every line its workers may take (rows 0..n_hubs-1 of elig_rows are the hubs').
    hub_idx, hub_line = np.nonzero(sp.elig_rows[:n_hubs] & (sp.capacity > 0)[None, :])
    out_arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        hub0 + hub_idx, n_w + hub_line, sp.capacity[hub_line], sp.hub_line_int[hub_line]
    )
    if not solve_to_sink(mcf, n_w, sp.capacity, sp.must_fill, sp.supervisors, n_extra=n_hubs):
        return None
    line_of = np.full(n_w, -1, dtype=np.int64)
    direct = mcf.flows(pair_arcs) > 0
    line_of[pw[direct]] = pl[direct]
    # Each hub's incoming workers take its outgoing seats in canonical order: any matching
    # costs the same (the costs are separable; module docstring).
    via_hub = np.zeros(n_w, dtype=bool)
    entered = hub_workers[mcf.flows(in_arcs) > 0]
    via_hub[entered] = True
    hub_workers_in, hub_seats = _match_hubs(sp.hub_of[entered], entered, hub_line, mcf.flows(out_arcs))
    line_of[hub_workers_in] = hub_seats
    return line_of, via_hub


def _match_hubs(hub_in: IntArray, entered: IntArray, hub_line: IntArray, seats: IntArray) -> tuple[IntArray, IntArray]:
    """Match the workers entering each hub to the seats leaving it: (workers, their lines).

    ``entered`` (ascending) entered hubs ``hub_in``; the hub → line arcs are sorted by hub, then
    line (``hub_line``, with ``seats`` flowing on each). Within a hub, workers in canonical order
    take its seats in line order. By flow conservation each hub's seats equal its workers, so
    grouping the workers by hub (a stable sort) lines them up with the arcs' seats repeated in
    arc order: one sort, no pass per hub."""
    workers = entered[np.argsort(hub_in, kind="stable")]
    lines = np.repeat(hub_line, seats)
    if len(workers) != len(lines):
        raise RuntimeError("internal error: hub inflow and outflow differ")
    return workers, lines


def _diagnosis(sp: SparseProblem) -> list[str]:
    """The dense path's counting reasons no allocation exists, or the flow's own word."""
    placeable = (sp.elig_rows & (sp.capacity > 0)[None, :]).any(axis=1)
    reasons = counting(
        capacity=sp.capacity,
        must_fill=sp.must_fill,
        supervisors=sp.supervisors,
        placeable=np.asarray(placeable)[sp.row_of],
        reachable=sp.elig_rows[np.unique(sp.row_of)].any(axis=0),
        worker_name=lambda w: sp.worker_ids[w],
        line_name=lambda ln: line_label(sp.line_names[ln], sp.line_ids[ln]),
    )
    return reasons or [
        "seats, eligibility, must-have job lines and supervisor max_workers caps cannot all be met "
        "(the min-cost flow has no feasible flow)"
    ]


def _rows(
    sp: SparseProblem, line_of: IntArray
) -> tuple[tuple[Allocation, ...], FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Result rows in worker id order, and per worker its true cost, rank and whether ranked.

    A pair gets its explicit arc's figures whenever it has one, even if the flow routed it
    through the hub (possible only at equal integer cost)."""
    n_w, n_l = sp.n_workers, sp.n_lines
    workers = np.arange(n_w)
    alpha = sp.config.preferencer_weight
    hub_true = sp.hub_cost + alpha * (sp.hub_line_view[line_of] + sp.global_weight)
    cost, _ = _find(sp.pair_key, sp.pair_cost, workers * n_l + line_of, hub_true)
    rank_given, _ = _find(sp.pair_key, sp.pair_rank, workers * n_l + line_of, np.nan)
    ranked = ~np.isnan(rank_given)
    rank = np.where(ranked, rank_given, sp.budget)
    rows = tuple(
        Allocation(
            worker=sp.worker_ids[w],
            job_line=sp.line_ids[ln],
            worker_rank=r if is_ranked else None,
            dissatisfaction=c,
        )
        for w, ln, r, is_ranked, c in zip(
            workers.tolist(), line_of.tolist(), rank.tolist(), ranked.tolist(), cost.tolist(), strict=True
        )
    )
    return rows, cost, rank, ranked


def peak_rss_bytes() -> int:
    """This process's peak resident set so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def solve_sparse(sp: SparseProblem, ctx: SolveContext, *, started: float) -> SolveOutcome:
    """Solve the hub network exactly; the same rows and metadata keys as the dense path's."""
    build_seconds = time.perf_counter() - started
    ctx.report(phase="built", build_seconds=build_seconds, method=METHOD)
    if ctx.stop_requested():
        return SolveOutcome("FAILED", {"status": "STOPPED", "stage": "after building the problem"}, "stopped")
    solved = None if (sp.must_fill & (sp.capacity == 0)).any() else solve_flow(sp)
    if solved is None:
        reasons = _diagnosis(sp)
        failed = {"status": "INFEASIBLE", "method": METHOD, "solve_seconds": time.perf_counter() - started}
        return SolveOutcome(
            "INFEASIBLE", {**failed, "diagnosis": reasons}, "no allocation is possible: " + "; ".join(reasons)
        )
    line_of, via_hub = solved
    rows, cost, rank, ranked = _rows(sp, line_of)
    objective = float(cost.sum())
    histogram = Counter(rank_key(float(r)) for r in np.sort(rank[ranked]))
    if (~ranked).any():
        histogram["unranked"] = int((~ranked).sum())
    meta: dict[str, Any] = {
        "status": "OPTIMAL",
        "method": METHOD,
        "objective": objective,
        "best_bound": objective,
        "gap": 0.0,
        "solve_seconds": time.perf_counter() - started,
        "rounding_error_bound": sp.rounding_bound,
        "cost_scale": sp.scale,
        "n_workers": sp.n_workers,
        "n_job_lines": sp.n_lines,
        "rank_histogram": dict(histogram),
        "mean_rank": float(rank.mean()),
        "worst_rank": float(rank.max()),
        "unranked": int((~ranked).sum()),
        "build_seconds": build_seconds,
        "arcs": {"explicit": len(sp.pair_key), "hubs": int(sp.hub_of.max(initial=-1)) + 1},
        "via_hub": int(via_hub.sum()),
        "peak_rss_bytes": peak_rss_bytes(),
    }
    if sp.config.explain:
        meta["explanations"] = {
            "skipped": f"not computed: {sp.n_workers:,} workers x {sp.n_lines:,} job lines are solved on the "
            "sparse hub path, which has no dense residual graph to explain from"
        }
    return SolveOutcome("COMPLETED", meta, None, AllocatorResult(rows))
