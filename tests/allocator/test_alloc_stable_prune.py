"""stable_prune: the pairs it drops are in no weakly stable allocation (issue 14).

Mutations these catch (each made by hand, a test seen failing, then restored):
- a line proposing with c others still in the way (``others > cap`` for ``>=``) —
  ``test_prune_keeps_every_pair_of_every_weakly_stable_allocation``;
- a proposing line not counting the workers it ties with w (the tie group left out of
  ``others``) — the same test;
- a worker rejecting the lines it ties with its best offer (``<=`` for ``<`` in ``keep``) —
  the same test.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.stability import CASES, generate
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput
from daemon.allocator.feasibility import _no_blocking_pair
from daemon.allocator.stability import Levels
from daemon.allocator.stable_prune import prune, restrict
from daemon.checks.allocation import counted_if_unassigned
from tests.allocator.alloc_factory import solve_checked
from tests.allocator.alloc_strategies import SETTINGS
from tests.allocator.test_alloc_properties import _brute_force_unassigned
from tests.allocator.test_alloc_stable_paths import _assert_brute_force_optimum, stable_instances


@st.composite
def instances(draw: st.DrawFn) -> AllocatorInput:
    inp = draw(stable_instances(ties=draw(st.booleans())))
    if draw(st.booleans()):
        inp = replace(inp, config={**inp.config, "allow_unassigned": True})
    return inp


def _weakly_stable(inp: AllocatorInput) -> tuple[Levels, list[np.ndarray]]:
    """Every allocation of the open pairs within seats and without a blocking pair (no caps:
    they only remove allocations)."""
    problem = build_problem(replace(inp, config={**inp.config, "stability": "weak"}))
    lv = Levels.of(problem)
    options = [lv.line[lv.w == w].tolist() for w in range(problem.n_workers)]
    found = []
    for choice in itertools.product(*options):
        line_of = np.asarray(choice, dtype=np.int64)
        load = np.bincount(line_of, minlength=problem.n_lines)
        if (load <= problem.capacity).all() and _no_blocking_pair(problem, line_of, load):
            found.append(line_of)
    return lv, found


@SETTINGS
@given(instances())
def test_prune_keeps_every_pair_of_every_weakly_stable_allocation(inp: AllocatorInput) -> None:
    problem = build_problem(inp)
    lv, stable = _weakly_stable(inp)
    keep = prune(problem, lv)
    for line_of in stable:
        used = line_of[lv.w] == lv.line
        assert keep[used].all(), (line_of.tolist(), lv.w[used & ~keep].tolist(), lv.line[used & ~keep].tolist())


@SETTINGS
@given(instances())
def test_the_mip_on_the_pruned_pairs_equals_brute_force(inp: AllocatorInput) -> None:
    if not inp.config.get("allow_unassigned"):
        _assert_brute_force_optimum(inp, None)
        return
    out = solve_checked(inp)
    expected = _brute_force_unassigned(inp)
    if expected is None:
        assert out.status == "INFEASIBLE", out.metadata
        return
    assert out.status == "COMPLETED" and out.metadata["status"] == "OPTIMAL", out.metadata
    count, objective = expected
    left_out = set(inp.worker_ids) - {a.worker for a in out.payload.allocations}
    assert len(left_out & counted_if_unassigned(inp)) == count
    bound = out.metadata["rounding_error_bound"]
    assert objective - 1e-9 <= out.metadata["objective"] <= objective + bound + 1e-9


def test_restrict_keeps_the_orders_and_the_ties() -> None:
    problem = build_problem(generate(replace(CASES[1], workers=30, lines=30)))
    lv = Levels.of(problem)
    keep = prune(problem, lv)
    kept = restrict(lv, keep, problem.n_workers, problem.n_lines)
    assert 0 < keep.sum() < len(keep)
    for old, new, group in ((lv.worker_level, kept.worker_level, kept.w), (lv.line_level, kept.line_level, kept.line)):
        o = old[keep]
        same = group[:, None] == group[None, :]
        assert np.array_equal((o[:, None] < o[None, :]) & same, (new[:, None] < new[None, :]) & same)
        assert np.array_equal((o[:, None] == o[None, :]) & same, (new[:, None] == new[None, :]) & same)


def test_prune_on_the_bench_cases() -> None:
    # Fixed seeds: the reductions the module's docstring quotes.
    counts = {}
    for case in CASES[1:4]:
        problem = build_problem(generate(case))
        lv = Levels.of(problem)
        counts[case.name] = (int(prune(problem, lv).sum()), len(lv.w))
    assert counts == {"G2": (11186, 40000), "G3": (7490, 22500), "G4": (21882, 90000)}
