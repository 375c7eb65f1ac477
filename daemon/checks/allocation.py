"""Independent checker for allocator results (SPEC §4), from the raw AllocatorInput.

It deliberately shares no code with ``daemon.allocator`` beyond the input's data classes: its
own rank normalisation, eligibility rules and cost formula, written plainly (dicts and loops)
so that a bug in the model's vectorised code is not repeated here. The solver runs it on every
allocation before it is written (``allocator.solve.solve``), so the one pass over every
preference row is counting, not sorting (``_held_ranks``); the all-pairs work (blocking pairs,
the default unassigned penalty, explanations) builds the plain per-ranker tables on demand.

Conventions it checks against (the allocator documents the same decisions):
- ranks are normalised per ranker: sort by the given rank, ties share the mean of the
  positions they occupy; an unranked item gets the budget
  (sum 1..N - sum of the ranker's normalised ranks) / (number of unranked items);
- D_worker = rank ** preference_power (the budget counts as a rank);
- D_preferencer = mean over the line's supervisors of their normalised rank of the worker
  ((W+1)/2 without supervisors) + the worker's global weightings + the pair's weightings;
- seats = max_n_workers - taken_capacity (not below 0); a must-have line already given a
  worker in an earlier round needs none now; supervisor caps count earlier rounds too, on
  the supervisor's lines outside this run as well (``preferencer_taken_workers`` /
  ``preferencer_used_lines``);
- line preferences are compared after rounding to 9 decimals;
- ``allow_unassigned``: a worker with no row is unassigned, allowed only then, and adds
  ``unassigned_penalty`` to the objective (default: 1 + the largest cost of any eligible
  (worker, line) pair, seats or not; 1 when none is eligible); for stability an unassigned
  worker would rather have any eligible line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from daemon.allocator.data import AllocatorInput, Eligibility, JobLine, RankTable

_DECIMALS = 9
_SCALE = 10.0**_DECIMALS
_TOLERANCE = 1e-6


class AllocationRow(Protocol):
    @property
    def worker(self) -> str: ...
    @property
    def job_line(self) -> str: ...
    @property
    def worker_rank(self) -> float | None: ...
    @property
    def dissatisfaction(self) -> float: ...


@dataclass(frozen=True)
class CheckResult:
    violations: tuple[str, ...]
    objective: float  # recomputed from the raw input

    @property
    def ok(self) -> bool:
        return not self.violations


class _Ranks:
    """One side's fractional ranks (SPEC): a ranker's items sorted by the given rank, tied
    items sharing the mean of the positions they occupy; an item it did not rank gets the
    budget, (sum 1..N - sum of its ranks) / (N - k), which is (N + k + 1) / 2 for k ranked
    items (the ranked ones fill positions 1..k, whatever their ties). Sorted arrays, looked up
    one pair at a time: the preference tables reach millions of rows."""

    def __init__(self, table: RankTable, n_rankers: int, n_items: int) -> None:
        self.n_items = n_items
        order = np.lexsort((table.rank, table.who))
        who, rank = table.who[order].astype(np.int64), table.rank[order]
        n = len(order)
        position = np.arange(n)
        new_ranker = np.ones(n, dtype=bool)
        new_ranker[1:] = who[1:] != who[:-1]
        new_tie = new_ranker.copy()
        new_tie[1:] |= rank[1:] != rank[:-1]
        first_of_ranker = np.maximum.accumulate(np.where(new_ranker, position, 0))
        first_of_tie = np.maximum.accumulate(np.where(new_tie, position, 0))
        tie = np.cumsum(new_tie) - 1
        tied = np.bincount(tie, minlength=1)[tie]
        # Positions first_of_tie+1 .. first_of_tie+tied within the ranker's list, and their mean.
        value = (first_of_tie - first_of_ranker) + (tied + 1) / 2
        keys = who * n_items + table.what[order].astype(np.int64)
        by_key = np.argsort(keys, kind="stable")
        self._keys, self._values = keys[by_key], value[by_key]
        self._budget = (n_items + np.bincount(who, minlength=n_rankers) + 1) / 2

    def given(self, ranker: int, item: int) -> float | None:
        """The ranker's fractional rank of the item, None if it did not rank it."""
        key = ranker * self.n_items + item
        at = int(np.searchsorted(self._keys, key))
        return float(self._values[at]) if at < len(self._keys) and self._keys[at] == key else None

    def rank(self, ranker: int, item: int) -> float:
        given = self.given(ranker, item)
        return float(self._budget[ranker]) if given is None else given


def _eligible(worker: str, tags: frozenset[str], rules: Iterable[Eligibility]) -> bool:
    inc_w: set[str] = set()
    exc_w: set[str] = set()
    inc_t: set[str] = set()
    exc_t: set[str] = set()
    for r in rules:
        inc_w |= r.included_workers
        exc_w |= r.excluded_workers
        inc_t |= r.included_tags
        exc_t |= r.excluded_tags
    if worker in inc_w:
        return True
    if worker in exc_w or tags & exc_t:
        return False
    if tags & inc_t:
        return True
    return not (inc_w or inc_t)


class _Costs:
    """Per-pair quantities computed on demand from the raw input."""

    def __init__(self, inp: AllocatorInput) -> None:
        cfg = inp.config or {}
        self.alpha = float(cfg.get("preferencer_weight", 0.3))
        self.power = float(cfg.get("preference_power", 1.0))
        self.n_workers = len(inp.worker_ids)
        self.n_lines = len(inp.line_ids)
        self._inp = inp
        self.worker_at = {wid: i for i, wid in enumerate(inp.worker_ids)}
        self.line_at = {lid: j for j, lid in enumerate(inp.line_ids)}
        self.sup_at = {p.id: k for k, p in enumerate(inp.preferencers)}
        # A worker ranking k lines: the unranked ones share positions k+1..N, mean (N+k+1)/2.
        count = np.bincount(inp.worker_prefs.who, minlength=self.n_workers)
        self.worker_budget = dict(zip(inp.worker_ids, ((self.n_lines + count + 1) / 2).tolist(), strict=True))
        self.sup_ranks = _Ranks(inp.preferencer_prefs, len(inp.preferencers), self.n_workers)
        self.sups_of: dict[str, set[str]] = defaultdict(set)
        for line, sup in inp.line_preferencers:
            self.sups_of[line].add(sup)
        self.global_w: dict[str, float] = defaultdict(float)
        self.pair_w: dict[tuple[str, str], float] = defaultdict(float)
        for wt in inp.weightings:
            if wt.job_line is None:
                self.global_w[wt.worker] += wt.weight
            else:
                self.pair_w[wt.worker, wt.job_line] += wt.weight

    @cached_property
    def worker_ranks(self) -> _Ranks:
        return _Ranks(self._inp.worker_prefs, self.n_workers, self.n_lines)

    def rank(self, worker: str, line: str) -> float:
        return self.worker_ranks.rank(self.worker_at[worker], self.line_at[line])

    def sup_rank(self, sup: str, worker: str) -> float:
        return self.sup_ranks.rank(self.sup_at[sup], self.worker_at[worker])

    def ranked(self, worker: str, line: str) -> bool:
        return self.worker_ranks.given(self.worker_at[worker], self.line_at[line]) is not None

    def line_view(self, line: str, worker: str) -> float:
        sups = self.sups_of.get(line, set())
        # Without supervisors a line ranks every worker equally, at the middle position.
        base = sum(self.sup_rank(s, worker) for s in sups) / len(sups) if sups else (self.n_workers + 1) / 2
        return base + self.global_w[worker] + self.pair_w[worker, line]

    def cost(self, worker: str, line: str, rank: float | None = None) -> float:
        """The pair's cost; ``rank``: the worker's rank of the line, when already known."""
        d_worker = float((self.rank(worker, line) if rank is None else rank) ** self.power)
        return (1 - self.alpha) * d_worker + self.alpha * self.line_view(line, worker)


@dataclass(frozen=True)
class _Run:
    """The raw input re-indexed for checking."""

    inp: AllocatorInput
    costs: _Costs
    workers: frozenset[str]
    lines: dict[str, JobLine]
    rules: dict[str, list[Eligibility]]
    seats: dict[str, int]

    @staticmethod
    def of(inp: AllocatorInput) -> _Run:
        rules: dict[str, list[Eligibility]] = defaultdict(list)
        for rule in inp.eligibility:
            rules[rule.job_line].append(rule)
        lines = {line.id: line for line in inp.lines}
        seats = {lid: max(0, line.max_n_workers - inp.taken_capacity.get(lid, 0)) for lid, line in lines.items()}
        return _Run(inp, _Costs(inp), frozenset(inp.worker_ids), lines, rules, seats)

    def eligible(self, worker: str, line: str) -> bool:
        tags = self.inp.worker_tags.get(worker, frozenset())
        return _eligible(worker, tags, self.rules.get(line, ()))


def check_allocation(inp: AllocatorInput, rows: Sequence[AllocationRow], *, objective: bool = True) -> CheckResult:
    """Every hard rule of SPEC §4 against ``rows``; violations name workers and lines.

    ``objective=False`` (the production check, which needs only the verdict) leaves the
    default unassigned penalty unpriced: it takes every (worker, line) pair's cost. The
    result's objective then counts the assigned workers only."""
    run = _Run.of(inp)
    bad: list[str] = []
    line_of: dict[str, str] = {}
    valid: list[AllocationRow] = []
    for row in rows:
        if row.worker not in run.workers:
            bad.append(f"worker {row.worker} is not in the run")
        elif row.worker in line_of:
            bad.append(f"worker {row.worker} is allocated more than once")
        if row.job_line not in run.lines:
            bad.append(f"worker {row.worker} is on job line {row.job_line}, not in the run")
        elif row.worker in run.workers:
            line_of.setdefault(row.worker, row.job_line)
            valid.append(row)
    cfg = inp.config or {}
    missing = [w for w in inp.worker_ids if w not in line_of]
    total = 0.0
    if cfg.get("allow_unassigned", False) is True:
        penalty = cfg.get("unassigned_penalty")
        if missing and (penalty is not None or objective):
            total += len(missing) * (float(penalty) if penalty is not None else _default_penalty(run))
    else:
        bad.extend(f"worker {w} is not allocated" for w in missing)
    load: dict[str, int] = defaultdict(int)
    held = _held_ranks(inp, line_of)
    for row in valid:
        w, line = row.worker, row.job_line
        load[line] += 1
        if not run.eligible(w, line):
            bad.append(f"worker {w} is not eligible for job line {line}")
        expected = held.get(w)
        cost = run.costs.cost(w, line, run.costs.worker_budget[w] if expected is None else expected)
        total += cost
        if abs(row.dissatisfaction - cost) > _TOLERANCE * max(1.0, abs(cost)):
            bad.append(f"worker {w}: dissatisfaction {row.dissatisfaction} != {cost}")
        if row.worker_rank != expected:
            bad.append(f"worker {w}: worker_rank {row.worker_rank} != {expected}")

    bad.extend(_seat_violations(run, load))
    bad.extend(_cap_violations(run, load))
    complete = len(line_of) == len(inp.worker_ids) or cfg.get("allow_unassigned", False) is True
    if cfg.get("stability", "none") == "weak" and complete:
        bad.extend(_blocking_pairs(run, line_of, load))
    return CheckResult(tuple(bad), total)


def _held_ranks(inp: AllocatorInput, line_of: Mapping[str, str]) -> dict[str, float]:
    """Per worker that ranked the line it holds, its fractional rank of it, by counting: with
    ``less`` of its lines ranked better and ``tied`` ranked the same (this one included) they
    hold positions less+1 .. less+tied, whose mean is less + (tied + 1) / 2. One pass over the
    rows, no sort (the model sorts; this does not, so the two cannot share a mistake)."""
    prefs = inp.worker_prefs
    line_at = {lid: i for i, lid in enumerate(inp.line_ids)}
    held_line = np.array([line_at.get(line_of.get(w, ""), -1) for w in inp.worker_ids], dtype=np.int64)
    mine = np.full(len(inp.worker_ids), np.nan)
    own_row = prefs.what == held_line[prefs.who]
    mine[prefs.who[own_row]] = prefs.rank[own_row]
    threshold = mine[prefs.who]  # NaN for a worker whose line is unranked: compares false
    less = np.bincount(prefs.who[prefs.rank < threshold], minlength=len(mine))
    tied = np.bincount(prefs.who[prefs.rank == threshold], minlength=len(mine))
    ranked = np.flatnonzero(~np.isnan(mine))
    frac = less[ranked] + (tied[ranked] + 1) / 2
    return {inp.worker_ids[w]: r for w, r in zip(ranked.tolist(), frac.tolist(), strict=True)}


def counted_if_unassigned(inp: AllocatorInput) -> frozenset[str]:
    """The workers whose being left out counts against an allocation (SPEC §4.1: they have an
    eligible line costing no more than ``unassigned_penalty``, or no eligible line at all);
    the others may be left out at the penalty alone."""
    run = _Run.of(inp)
    cfg = inp.config or {}
    penalty = cfg.get("unassigned_penalty")
    limit = float(penalty) if penalty is not None else _default_penalty(run)
    counted = set()
    for w in inp.worker_ids:
        options = [run.costs.cost(w, line) for line in inp.line_ids if run.eligible(w, line)]
        if not options or min(options) <= limit:
            counted.add(w)
    return frozenset(counted)


def _default_penalty(run: _Run) -> float:
    costs = [run.costs.cost(w, line) for w in run.inp.worker_ids for line in run.inp.line_ids if run.eligible(w, line)]
    return 1.0 + max(costs) if costs else 1.0


def _seat_violations(run: _Run, load: dict[str, int]) -> list[str]:
    bad = []
    for lid, line in run.lines.items():
        if load[lid] > run.seats[lid]:
            bad.append(f"job line {lid} has {load[lid]} workers for {run.seats[lid]} seats")
        filled_before = run.inp.taken_capacity.get(lid, 0) > 0
        if line.must_have_workers and not filled_before and load[lid] == 0:
            bad.append(f"must-have job line {lid} has no worker")
    return bad


def _cap_violations(run: _Run, load: dict[str, int]) -> list[str]:
    """Supervisor caps, counting seats taken and lines used by earlier exclusive rounds, on the
    supervisor's lines in this run (``taken_capacity``) and outside it (the per-supervisor
    counts): a line earlier rounds used counts once, however many workers it gets now."""
    bad = []
    # Each supervisor's lines, gathered once: asking every line per supervisor is quadratic
    # (41 M lookups for 6,400 supervisors of 6,400 lines).
    lines_of: dict[str, list[str]] = defaultdict(list)
    for lid, sups in run.costs.sups_of.items():
        for sup in sups:
            lines_of[sup].append(lid)
    for pref in run.inp.preferencers:
        own = [lid for lid in lines_of.get(pref.id, ()) if lid in run.lines]
        taken = [run.inp.taken_capacity.get(lid, 0) for lid in own]
        taken_outside = run.inp.preferencer_taken_workers.get(pref.id, 0)
        used_outside = run.inp.preferencer_used_lines.get(pref.id, 0)
        if pref.max_workers is not None:
            allowed = max(0, pref.max_workers - sum(taken) - taken_outside)
            placed = sum(load[lid] for lid in own)
            if placed > allowed:
                bad.append(f"preferencer {pref.id}: {placed} new workers on its lines, max {allowed}")
        if pref.max_job_lines is not None:
            allowed = max(0, pref.max_job_lines - sum(1 for t in taken if t > 0) - used_outside)
            new = sum(1 for lid, t in zip(own, taken, strict=True) if t == 0 and load[lid] > 0)
            if new > allowed:
                bad.append(f"preferencer {pref.id}: {new} new lines used, max {allowed}")
    return bad


def _blocking_pairs(run: _Run, line_of: dict[str, str], load: dict[str, int]) -> list[str]:
    """(worker, line) pairs where both would rather be together (SPEC §4.6)."""
    costs = run.costs
    on_line: dict[str, list[str]] = defaultdict(list)
    for w, line in line_of.items():
        on_line[line].append(w)
    # The least-liked worker on each line: it prefers w to someone iff it prefers w to them.
    worst = {line: max(_view(costs, line, o) for o in others) for line, others in on_line.items()}
    found = []
    for w, line in _preferred(run, line_of):
        if run.seats[line] == 0 or not run.eligible(w, line):
            continue
        if load[line] < run.seats[line] or _view(costs, line, w) < worst[line]:
            found.append(f"blocking pair: worker {w} and job line {line}")
    return found


def _view(costs: _Costs, line: str, worker: str) -> float:
    """The line's view of the worker as stability compares it: rounded to 9 decimals the way
    the model rounds (numpy's ``round``: scale, round half to even, unscale), which can differ
    from Python's ``round(x, 9)`` in the last place; this is numpy's arithmetic on one float,
    without numpy's per-call cost."""
    return _round9(costs.line_view(line, worker))


def _round9(value: float) -> float:
    return round(value * _SCALE) / _SCALE


def _preferred(run: _Run, line_of: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every (worker, line) where the worker would rather have the line than its own, in
    worker then line order. Within one worker's list fractional ranks keep the order of the
    given ranks (tied lines share a rank), and every ranked line beats the unranked ones,
    whose budget exceeds the k positions the ranked ones fill: so the better lines are the
    rows ranked below the own line's given rank (all ranked rows when the own line is
    unranked); an unassigned worker (allow_unassigned) would rather have any line."""
    inp, prefs = run.inp, run.inp.worker_prefs
    own = np.array([run.costs.line_at.get(line_of.get(w, ""), -1) for w in inp.worker_ids], dtype=np.int64)
    threshold = np.full(len(own), np.inf)
    own_row = prefs.what == own[prefs.who]
    threshold[prefs.who[own_row]] = prefs.rank[own_row]
    better = prefs.rank < threshold[prefs.who]
    pairs = set(zip(prefs.who[better].tolist(), prefs.what[better].tolist(), strict=True))
    for w in np.flatnonzero(own < 0).tolist():
        pairs.update((w, ln) for ln in range(len(inp.line_ids)))
    return [(inp.worker_ids[w], inp.line_ids[ln]) for w, ln in sorted(pairs)]


class ExplanationRow(Protocol):
    @property
    def worker(self) -> str: ...
    @property
    def job_line(self) -> str: ...
    @property
    def worker_rank(self) -> float: ...
    @property
    def reason(self) -> str: ...
    @property
    def delta(self) -> float | None: ...
    @property
    def detail(self) -> Mapping[str, Any]: ...


def check_explanations(
    inp: AllocatorInput, rows: Sequence[AllocationRow], explanations: Sequence[ExplanationRow]
) -> tuple[str, ...]:
    """What can be verified of explanations without re-solving: each worker's explained lines
    are exactly the best ``explain_limit`` lines they ranked strictly better than their own
    (any of them where ranks tie at the cut), at their rank; and the first reasons that need
    no solve are the right ones (ineligible, then no seat). Deltas are checked against
    forced re-solves by the tests."""
    run = _Run.of(inp)
    limit = int((inp.config or {}).get("explain_limit", 10))
    line_of = {r.worker: r.job_line for r in rows}
    by_worker: dict[str, list[ExplanationRow]] = defaultdict(list)
    for e in explanations:
        by_worker[e.worker].append(e)
    bad: list[str] = []
    for w in inp.worker_ids:
        own = line_of.get(w)
        mine = run.costs.rank(w, own) if own is not None and run.costs.ranked(w, own) else float("inf")
        better = sorted(
            (run.costs.rank(w, line), line)
            for line in inp.line_ids
            if run.costs.ranked(w, line) and run.costs.rank(w, line) < mine
        )
        given = by_worker.get(w, [])
        if len(given) != min(limit, len(better)):
            bad.append(f"worker {w}: {len(given)} explanations for {len(better)} better-ranked lines, limit {limit}")
            continue
        cut = better[len(given) - 1][0] if given else None
        allowed = {line for rank, line in better if cut is not None and rank <= cut}
        for e in given:
            bad.extend(f"worker {w}, job line {e.job_line}: {v}" for v in _explanation_violations(run, e, allowed))
    return tuple(bad)


def _explanation_violations(run: _Run, e: ExplanationRow, allowed: set[str]) -> list[str]:
    w, line = e.worker, e.job_line
    if line not in allowed:
        return ["not among the best lines the worker ranked above their own"]
    bad = []
    if abs(e.worker_rank - run.costs.rank(w, line)) > _TOLERANCE:
        bad.append(f"worker_rank {e.worker_rank} != {run.costs.rank(w, line)}")
    expected = "not_eligible" if not run.eligible(w, line) else "no_seat" if run.seats[line] == 0 else None
    if expected is not None and e.reason != expected:
        bad.append(f"reason {e.reason}, expected {expected}")
    if expected is None and e.reason not in {"supervisor_cap", "trade_off", "no_allocation"}:
        bad.append(f"reason {e.reason}, but the worker is eligible and the line has seats")
    # Below 0 only when more workers are left out, which the objective counts first.
    falls = e.delta is not None and e.delta < 0 and not e.detail.get("more_left_out", 0) > 0
    if (e.reason == "trade_off") != (e.delta is not None) or falls:
        bad.append(f"delta {e.delta} for reason {e.reason}")
    return bad
