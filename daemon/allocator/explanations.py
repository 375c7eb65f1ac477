"""Why each worker did not get the lines they ranked higher, and what each seat is worth.

For every worker and every line they ranked strictly better than the one they got (best
first, up to ``explain_limit``), the first reason that applies:

1. ``not_eligible``: the eligibility step that excludes them (SPEC §4.4), naming the list or tag;
2. ``no_seat``: the line has no seat in this run (none at all, or earlier rounds took them);
3. ``supervisor_cap``: a supervisor of the line has no room left under a cap;
4. ``trade_off``: the rise ``delta`` of the run's objective in the best allocation that puts
   the worker there, and the chain of moves of that allocation; or ``no_allocation`` when no
   allocation of the run can (a must-have line would be left empty, or a cap broken).

With stability (SPEC §4.6) each trade-off and no-allocation row also says whether the pair
blocks (a pair closed by reasons 1-3 cannot). Per line, the value of
a seat: the fall of the objective with one more, the rise with one fewer.

Exact runs (linear_sum_assignment, min-cost flow) take their figures from the optimum's
residual graph (``sensitivity``), equal to a forced re-solve up to the objective's rounding
bound. CP-SAT runs have no residual graph: their figures come from the min-cost flow
relaxation and are proven bounds, marked ``exact: false`` (delta and one fewer seat: at least;
one more seat: at most).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.allocator.data import AllocatorInput, Eligibility
from daemon.allocator.eligibility import merged_rules
from daemon.allocator.problem import Explanation, Problem, SeatValue
from daemon.allocator.sensitivity import Residual, WhatIf

# Explanations need a lines x lines graph and a workers x lines step matrix (int64): past
# these sizes a run completes without them, and its metadata says so.
MAX_LINE_PAIRS = 9_000_000
MAX_CELLS = 30_000_000


@dataclass(frozen=True)
class Basis:
    """What the figures are measured from: an optimum (``slack_int`` 0, exact), or the flow
    relaxation's optimum, ``slack_int`` integer units below the allocation that was written."""

    residual: Residual
    exact: bool
    slack_int: int = 0


def too_large(problem: Problem) -> str | None:
    if problem.n_lines**2 > MAX_LINE_PAIRS or problem.n_workers * problem.n_lines > MAX_CELLS:
        return (
            f"not computed: {problem.n_workers:,} workers x {problem.n_lines:,} job lines is beyond "
            f"{MAX_CELLS:,} pairs or {MAX_LINE_PAIRS:,} line pairs"
        )
    return None


def explain(
    problem: Problem, inp: AllocatorInput, line_of: npt.NDArray[np.int64], basis: Basis
) -> tuple[tuple[Explanation, ...], tuple[SeatValue, ...]]:
    return _Explainer(problem, inp, line_of, basis).rows(), seat_values(problem, basis)


class _Explainer:
    def __init__(self, problem: Problem, inp: AllocatorInput, line_of: npt.NDArray[np.int64], basis: Basis) -> None:
        self.p, self.inp, self.line_of, self.basis = problem, inp, line_of, basis
        self.rules = merged_rules(inp.eligibility, {lid: i for i, lid in enumerate(problem.line_ids)})
        self.caps = {p.id: p for p in inp.preferencers}
        self.sups_of: dict[int, list[int]] = {}
        for s, sup in enumerate(problem.supervisors):
            for ln in sup.lines.tolist():
                self.sups_of.setdefault(ln, []).append(s)
        self.count = np.bincount(line_of, minlength=problem.n_lines)

    def wanted(self) -> list[tuple[int, int]]:
        """(worker, line) for each line ranked strictly better than the worker's, best first."""
        p, limit = self.p, self.p.config.explain_limit
        pairs = []
        for w, got in enumerate(self.line_of.tolist()):
            real = p.ranked[w, : p.n_real_lines]
            better = np.flatnonzero(real & (p.rank[w, : p.n_real_lines] < p.rank[w, got]) if p.ranked[w, got] else real)
            better = better[np.argsort(p.rank[w, better], kind="stable")][:limit]
            pairs += [(w, int(ln)) for ln in better]
        return pairs

    def rows(self) -> tuple[Explanation, ...]:
        pairs = self.wanted()
        blocked = [self._blocked(w, ln) for w, ln in pairs]
        open_ = [pair for pair, b in zip(pairs, blocked, strict=True) if b is None]
        forced = iter(self.basis.residual.force(open_))
        rows = []
        for (w, ln), b in zip(pairs, blocked, strict=True):
            if b is not None:
                reason, delta, detail = b[0], None, b[1]
            else:
                reason, delta, detail = self._trade_off(w, ln, next(forced))
            if self.p.config.stability == "weak" and b is None:  # only an open pair can block
                detail["stability"] = self._stability(w, ln)
            rows.append(
                Explanation(self.p.worker_ids[w], self.p.line_ids[ln], float(self.p.rank[w, ln]), reason, delta, detail)
            )
        return tuple(rows)

    def _blocked(self, w: int, ln: int) -> tuple[str, dict[str, Any]] | None:
        """Reasons 1-3: the pair is closed before any trade-off."""
        p, line_id = self.p, self.p.line_ids[ln]
        if not p.eligible[w, ln]:
            return "not_eligible", ineligibility(p.worker_ids[w], self.rules[ln], self.inp.worker_tags)
        if p.capacity[ln] == 0:
            line = next(x for x in self.inp.lines if x.id == line_id)
            return "no_seat", {
                "max_n_workers": line.max_n_workers,
                "taken_by_earlier_rounds": self.inp.taken_capacity.get(line_id, 0),
            }
        for s in self.sups_of.get(ln, []):
            sup = p.supervisors[s]
            fresh = bool(sup.fresh[sup.lines.tolist().index(ln)])
            if sup.max_new_workers == 0:
                return "supervisor_cap", self._cap(sup.id, "max_workers")
            if sup.max_new_lines == 0 and fresh and self.count[ln] == 0:
                return "supervisor_cap", self._cap(sup.id, "max_job_lines")
        return None

    def _cap(self, supervisor: str, cap: str) -> dict[str, Any]:
        pref = self.caps[supervisor]
        taken = self.inp.preferencer_taken_workers if cap == "max_workers" else self.inp.preferencer_used_lines
        return {
            "supervisor": supervisor,
            "supervisor_name": pref.name,
            "cap": cap,
            "limit": getattr(pref, cap),
            "used_by_earlier_rounds": taken.get(supervisor, 0),
        }

    def _trade_off(self, w: int, ln: int, what: WhatIf | None) -> tuple[str, float | None, dict[str, Any]]:
        p, basis = self.p, self.basis
        if what is None:
            return "no_allocation", None, {"exact": True}  # even the relaxation has none
        got = int(self.line_of[w])
        detail: dict[str, Any] = {
            "exact": basis.exact,
            "own_change": float(p.cost[w, ln] - p.cost[w, got]),
            "got": p.line_ids[got] if got != p.unassigned_line else None,
            "got_rank": float(p.rank[w, got]) if p.ranked[w, got] else None,
        }
        if basis.exact:
            detail |= _chain(p, what)
            # Fewest left out comes first: with more of them left out, the cost may even fall.
            return "trade_off", what.delta if what.more_left_out > 0 else max(0.0, what.delta), detail
        if p.count_weight:
            # The integer objective counts unassigned workers first (big-M): its bound says
            # nothing of the cost alone once the count may change.
            return "trade_off", 0.0, detail | {"bound": "unknown: allow_unassigned with CP-SAT"}
        return "trade_off", _at_least(p, what.delta_int - basis.slack_int), detail

    def _stability(self, w: int, ln: int) -> str:
        """Whether (w, ln) blocks: the line has a spare seat or its supervisors strictly
        prefer w to one of its workers (it never should in a weakly stable allocation)."""
        p = self.p
        on = np.flatnonzero(self.line_of == ln)
        spare = len(on) < p.capacity[ln]
        if spare or (p.d_preferencer[on, ln] > p.d_preferencer[w, ln]).any():
            return "blocking"
        return "not_blocking: the line is full and its supervisors like each of its workers at least as well"


def ineligibility(worker: str, rule: Eligibility, tags: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """Which step of SPEC §4.4 excludes ``worker`` from ``rule``'s line (they are ineligible)."""
    if worker in rule.excluded_workers:
        return {"step": 2, "rule": "excluded_workers"}
    hit = sorted(rule.excluded_tags & tags.get(worker, frozenset()))
    if hit:
        return {"step": 3, "rule": "excluded_tags", "tags": hit}
    return {
        "step": 5,
        "rule": "included_tags" if rule.included_tags else "included_workers",
        "tags": sorted(rule.included_tags),
        "included_workers": len(rule.included_workers),
    }


def _chain(p: Problem, what: WhatIf) -> dict[str, Any]:
    def place(line: int) -> str | None:
        return None if line == p.unassigned_line else p.line_ids[line]

    def rank(w: int, line: int) -> float | None:
        return float(p.rank[w, line]) if p.ranked[w, line] else None

    shown = what.moves[1:].tolist()
    moves = [
        {
            "worker_mapping": p.worker_ids[w],
            "from": place(a),
            "to": place(b),
            "from_rank": rank(w, a),
            "to_rank": rank(w, b),
        }
        for w, a, b in shown
    ]
    return {
        "chain": moves,
        "chain_length": what.n_moves - 1,
        "more_unassigned": what.more_unassigned,
        "more_left_out": what.more_left_out,
    }


def _at_least(p: Problem, delta_int: int, *, monotone: bool = True) -> float:
    """A true-cost lower bound from an integer one: less what rounding can hide; never below 0
    when the change can only make the optimum worse (not so for seats under stability)."""
    bound = delta_int / p.unit - p.rounding_bound
    return max(0.0, bound) if monotone else bound


def seat_values(problem: Problem, basis: Basis) -> tuple[SeatValue, ...]:
    """Per line of the run; none for a CP-SAT run with allow_unassigned, whose bounds would
    be on the unassigned count first (big-M), not on the cost (see ``_trade_off``)."""
    if not basis.exact and problem.count_weight:
        return ()
    out = []
    mores, fewers = basis.residual.one_more_seat(), basis.residual.one_fewer_seat()
    for ln, (more, fewer) in enumerate(zip(mores, fewers, strict=True)):
        places, leaves_out = -more.more_left_out, 0 if fewer is None else fewer.more_left_out
        if basis.exact:  # unclipped where the count of workers left out moves first
            gain = -more.delta if places else max(0.0, -more.delta)
            loss = None if fewer is None else fewer.delta if leaves_out else max(0.0, fewer.delta)
        else:
            gain = max(0.0, (basis.slack_int - more.delta_int) / problem.unit + problem.rounding_bound)
            # With stability one seat fewer can even lower the optimum (the seat no longer
            # makes a pair block), so that bound may be negative.
            monotone = problem.config.stability == "none"
            loss = None if fewer is None else _at_least(problem, fewer.delta_int - basis.slack_int, monotone=monotone)
        # A supervisor cap left out of the graph (it does not bind) would bind with the extra
        # seat: the graph's gain is then an upper bound (and the exact loss a lower bound).
        exact = basis.exact and not problem.tight_caps[ln]
        out.append(SeatValue(problem.line_ids[ln], gain, loss, bool(exact), places, leaves_out))
    return tuple(out)
