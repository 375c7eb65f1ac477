"""CP-SAT's starting solutions and the fallback to them, and the fast feasibility gate."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from daemon.allocator import solve as solve_module
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput, Preferencer
from daemon.allocator.feasibility import is_feasible
from daemon.allocator.flow import solve_flow
from daemon.allocator.hints import line_cap_hint, stable_hint
from daemon.allocator.model import CpSatResult
from daemon.allocator.problem import Allocation
from daemon.allocator.report import allocations
from daemon.checks.allocation import check_allocation
from daemon.solving import SolveContext
from tests.allocator.alloc_factory import make_input, solve_checked
from tests.allocator.alloc_strategies import SETTINGS, tiny_instances


def _random(seed: int, n_w: int, n_l: int, **kw: Any) -> AllocatorInput:
    rng = np.random.default_rng(seed)
    lines = [f"l{j}" for j in range(n_l)]
    ranks = {f"w{i}": {ln: float(r) for ln, r in zip(lines, rng.permutation(n_l) + 1, strict=True)} for i in range(n_w)}
    return make_input(ranks, dict.fromkeys(lines, 1), **kw)


def test_line_cap_hint_is_feasible() -> None:
    sups = [Preferencer(f"s{k}", f"S{k}", max_job_lines=2) for k in range(3)]
    # 12 of 15 lines under supervisors allowing 2 lines each: 6 + 3 seats for 9 workers.
    inp = _random(1, 9, 15, preferencers=sups, line_preferencers=[(f"l{j}", f"s{j % 3}") for j in range(12)])
    problem = build_problem(inp)
    relaxed = solve_flow(problem)
    assert relaxed is not None and not is_feasible(problem, relaxed.line_of)
    hint = line_cap_hint(problem, relaxed)
    assert hint is not None and is_feasible(problem, hint.line_of)
    assert check_allocation(inp, allocations(problem, hint.line_of)).ok


def test_stable_hint_is_weakly_stable() -> None:
    inp = _random(
        2,
        12,
        12,
        config={"stability": "weak"},
        preferencers=[Preferencer("s", "S")],
        line_preferencers=[(f"l{j}", "s") for j in range(12)],
        sup_ranks={"s": {f"w{i}": float(12 - i) for i in range(12)}},
    )
    problem = build_problem(inp)
    hint = stable_hint(problem)
    assert hint is not None and is_feasible(problem, hint.line_of)
    assert check_allocation(inp, allocations(problem, hint.line_of)).ok


def test_feasible_hint_answers_when_cp_sat_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(*_: Any, **__: Any) -> CpSatResult:
        return CpSatResult("UNKNOWN", None, None, 0.0, 0, 0.0)

    # Weak stability goes to HiGHS (daemon.allocator.stable), the rest to CP-SAT: neither answers.
    monkeypatch.setattr(solve_module, "solve_cp_sat", nothing)
    monkeypatch.setattr(solve_module, "solve_stable", nothing)
    inp = _random(3, 6, 6, config={"stability": "weak"})
    out = solve_checked(inp)
    assert out.status == "COMPLETED"
    assert out.metadata["status"] == "FEASIBLE" and out.metadata["solution_source"] == "hint"
    assert out.metadata["best_bound"] <= out.metadata["objective"]


def test_capped_seats_are_counted_before_solving() -> None:
    sups = [Preferencer("s", "Dr S", max_job_lines=1)]
    inp = _random(0, 3, 3, preferencers=sups, line_preferencers=[("l0", "s"), ("l1", "s")])
    out = solve_module.solve(inp, SolveContext())
    assert out.status == "INFEASIBLE"
    assert out.error is not None and "leave at most 2 seat(s) for 3 workers" in out.error


@SETTINGS
@given(tiny_instances())
def test_feasibility_gate_agrees_with_the_checker(inp: AllocatorInput) -> None:
    problem = build_problem(inp)
    index = {lid: i for i, lid in enumerate(problem.line_ids)}
    for choice in itertools.product(problem.line_ids, repeat=problem.n_workers):
        rows = [Allocation(w, ln, None, 0.0) for w, ln in zip(problem.worker_ids, choice, strict=True)]
        found = check_allocation(inp, rows).violations
        real = [v for v in found if ": worker_rank" not in v and ": dissatisfaction" not in v]
        line_of = np.array([index[ln] for ln in choice], dtype=np.int64)
        assert is_feasible(problem, line_of) == (not real), real


def test_cp_sat_skipped_when_its_model_cannot_be_built_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solve_module, "estimated_build_seconds", lambda _: 1e9)
    # Line caps: a CP-SAT model (weak stability goes to HiGHS, whose model builds vectorised).
    sups = [Preferencer(f"s{k}", f"S{k}", max_job_lines=2) for k in range(3)]
    out = solve_checked(
        _random(1, 9, 15, preferencers=sups, line_preferencers=[(f"l{j}", f"s{j % 3}") for j in range(12)])
    )
    assert out.metadata["cp_sat_status"] == "SKIPPED" and out.metadata["solution_source"] == "hint"
