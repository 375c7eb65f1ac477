"""allow_unassigned / unassigned_penalty (SPEC §4.1, issue 10), and rank statistics that count
every placement.

Semantics (SPEC §4.1, README "The allocator"): a worker with an eligible line costing no more
than ``unassigned_penalty`` (with the default penalty: every worker who has an eligible line)
is left out only when unavoidable — the number of those left out is minimised first, exactly
(a big-M weight, ``costs.count_weight``); a worker whose every placement costs more than the
penalty may be left out at the penalty; then the cost is minimised, each unassigned worker
counting the penalty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from daemon.allocator import report
from daemon.allocator.build import UNASSIGNED, build_problem
from daemon.allocator.costs import MAX_SAFE
from daemon.allocator.data import Eligibility, Preferencer
from daemon.allocator.problem import Allocation
from daemon.allocator.xlsx_result import write_result
from daemon.checks.allocation import check_allocation
from tests.allocator.alloc_factory import make_input, placed, solve_checked

ALLOW = {"allow_unassigned": True}


def _why(out_meta: dict[str, object]) -> dict[str, str]:
    rows = out_meta["unassigned"]
    assert isinstance(rows, list)
    return {u["worker_mapping"]: u["why"] for u in rows}


def test_a_worker_with_no_eligible_line_is_infeasible_without_the_flag_and_unassigned_with_it() -> None:
    ranks = {"a": {"x": 1}, "b": {"x": 2}}
    rules = [Eligibility("x", excluded_workers=frozenset({"a"}))]
    assert solve_checked(make_input(ranks, {"x": 2}, eligibility=rules)).status == "INFEASIBLE"
    out = solve_checked(make_input(ranks, {"x": 2}, eligibility=rules, config=ALLOW))
    assert out.status == "COMPLETED", out.error
    assert placed(out) == {"b": "x"}
    assert out.metadata["n_unassigned"] == 1
    assert _why(out.metadata) == {"a": report.NO_LINE}
    # Default penalty: 1 + the largest eligible cost (b on x: 0.7·1 + 0.3·1.5 = 1.15).
    assert out.metadata["unassigned_penalty"] == pytest.approx(2.15)
    assert out.metadata["objective"] == pytest.approx(1.15 + 2.15)
    assert all(a.job_line != UNASSIGNED for a in out.payload.allocations)  # write.py copies only real rows


@pytest.mark.parametrize(
    "config",
    [
        {},  # linear_sum_assignment
        {"stability": "weak"},  # CP-SAT
    ],
)
def test_more_workers_than_seats_leaves_exactly_the_excess_unassigned(config: dict[str, object]) -> None:
    workers = [f"w{i}" for i in range(7)]
    ranks = {w: {"x": 1 + i % 2, "y": 2 - i % 2} for i, w in enumerate(workers)}
    inp = make_input(ranks, {"x": 2, "y": 1, "z": 0}, config={**ALLOW, **config})
    out = solve_checked(inp)
    assert out.status == "COMPLETED", out.error
    assert out.metadata["status"] == "OPTIMAL"
    assert out.metadata["n_unassigned"] == 7 - 3 and len(out.payload.allocations) == 3
    assert set(_why(out.metadata).values()) == {report.SEATS_TAKEN}
    assert out.metadata["rank_histogram"] == {"1": 3}  # the unassigned are not in it


def test_more_workers_than_seats_on_the_flow_path() -> None:
    workers = [f"w{i}" for i in range(12)]
    ranks = {w: {"x": 1, "y": 2} for w in workers}
    out = solve_checked(make_input(ranks, {"x": 7, "y": 1}, must=["y"], config=ALLOW))
    assert out.status == "COMPLETED" and out.metadata["method"] == "min_cost_flow"
    assert out.metadata["n_unassigned"] == 4


def test_a_worker_whose_every_placement_costs_more_than_the_penalty_is_left_out() -> None:
    """SPEC §4.1: left unassigned at the penalty when every placement costs more; placed when
    a placement costs no more than the penalty (then leaving them out counts first)."""
    config = {**ALLOW, "preferencer_weight": 0}
    over = solve_checked(make_input({"a": {"x": 1}}, {"x": 1}, config={**config, "unassigned_penalty": 0.5}))
    assert placed(over) == {} and over.metadata["n_unassigned"] == 1
    assert over.metadata["unassigned"][0]["why"] == "every eligible placement costs more than unassigned_penalty"
    assert over.metadata["objective"] == pytest.approx(0.5)
    within = solve_checked(make_input({"a": {"x": 1}}, {"x": 1}, config={**config, "unassigned_penalty": 1}))
    assert placed(within) == {"a": "x"} and within.metadata["n_unassigned"] == 0
    # Two workers for one seat: one is left out either way; a on x (cost 1) is cheaper than b
    # on x (cost 2), so b is the one left out, at the penalty.
    ranks = {"a": {"x": 1}, "b": {"y": 1, "x": 2}}
    pair = solve_checked(make_input(ranks, {"x": 1, "y": 0}, config={**config, "unassigned_penalty": 1.5}))
    assert placed(pair) == {"a": "x"} and [u["worker_mapping"] for u in pair.metadata["unassigned"]] == ["b"]


def test_supervisor_caps_are_named_as_the_reason() -> None:
    ranks = {"a": {"x": 1}, "b": {"x": 1}}
    sup = Preferencer("s", "S", max_job_lines=None, max_workers=1)
    rules = [Eligibility("y", excluded_workers=frozenset({"a", "b"}))]
    inp = make_input(
        ranks, {"x": 2, "y": 1}, preferencers=[sup], line_preferencers=[("x", "s")], eligibility=rules, config=ALLOW
    )
    out = solve_checked(inp)
    assert out.status == "COMPLETED" and out.metadata["n_unassigned"] == 1
    assert list(_why(out.metadata).values()) == [report.CAPS]


def test_stability_counts_an_unassigned_worker_as_worse_off_than_on_any_line() -> None:
    """a is the line's favourite: leaving a out and seating b would be a blocking pair."""
    sup = Preferencer("s", "S", None, None)
    inp = make_input(
        {"a": {"x": 1}, "b": {"x": 1}},
        {"x": 1},
        preferencers=[sup],
        line_preferencers=[("x", "s")],
        sup_ranks={"s": {"a": 1, "b": 2}},
        config={**ALLOW, "stability": "weak", "preferencer_weight": 0},
    )
    out = solve_checked(inp)
    assert placed(out) == {"a": "x"}
    assert _why(out.metadata) == {"b": report.SEATS_TAKEN}
    # The checker refuses the unstable one.
    bad = check_allocation(inp, [Allocation("b", "x", 1.0, 1.0)])
    assert any("blocking pair: worker a" in v for v in bad.violations)


def test_the_checker_accepts_missing_workers_only_with_the_flag_and_adds_the_penalty() -> None:
    ranks = {"a": {"x": 1}, "b": {"x": 1}}
    rows = [Allocation("a", "x", 1.0, 1.0)]
    without = check_allocation(make_input(ranks, {"x": 1}, config={"preferencer_weight": 0}), rows)
    assert "worker b is not allocated" in without.violations
    with_flag = check_allocation(
        make_input(ranks, {"x": 1}, config={**ALLOW, "preferencer_weight": 0, "unassigned_penalty": 5}), rows
    )
    assert with_flag.ok and with_flag.objective == pytest.approx(6.0)


def test_the_count_weight_keeps_integer_costs_exact() -> None:
    rng = np.random.default_rng(3)
    workers = [f"w{i:03d}" for i in range(150)]
    lines = {f"l{j:03d}": 1 for j in range(100)}
    ranks = {w: {ln: float(r) for ln, r in zip(lines, rng.permutation(100) + 1, strict=True)} for w in workers}
    problem = build_problem(make_input(ranks, lines, config={**ALLOW, "preference_power": 2}))
    n_nodes = problem.n_workers + problem.n_lines + 2
    assert int(np.abs(problem.cost_int).max()) * n_nodes <= MAX_SAFE
    assert problem.count_weight > 0 and problem.unassigned_line == 100
    out = solve_checked(make_input(ranks, lines, config={**ALLOW, "preference_power": 2}))
    assert out.metadata["n_unassigned"] == 50
    assert out.metadata["rounding_error_bound"] == pytest.approx(2 * 150 / problem.scale)


def test_rank_statistics_count_placements_on_unranked_lines() -> None:
    """a ranked only x and sits on y: y counts at a's budget, (2 + 1 + 1)/2 = 2."""
    ranks = {"a": {"x": 1}, "b": {"x": 1, "y": 2}}
    sup = Preferencer("s", "S", None, None)
    inp = make_input(
        ranks, {"x": 1, "y": 1}, preferencers=[sup], line_preferencers=[("x", "s")], sup_ranks={"s": {"b": 1, "a": 2}}
    )
    out = solve_checked(inp)
    assert placed(out) == {"a": "y", "b": "x"}
    assert out.metadata["rank_histogram"] == {"1": 1, "unranked": 1}
    assert out.metadata["worst_rank"] == 2.0 and out.metadata["mean_rank"] == 1.5
    assert "unassigned" not in out.metadata  # only reported with allow_unassigned


def test_result_workbook_has_a_row_for_each_unassigned_worker(tmp_path: Path) -> None:
    inp = make_input({"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 2}}, {"x": 1}, config=ALLOW)
    out = solve_checked(inp)
    path = tmp_path / "result.xlsx"
    write_result(path, inp, out)
    rows = list(openpyxl.load_workbook(path)["allocations"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in rows] == ["a", "b", "c"]  # one row per worker, input order
    left = [r for r in rows if r[2] is None]
    assert len(left) == 2 and all(r[3] == "unassigned" and r[4] is None for r in left)
    assert all(r[5] == pytest.approx(out.metadata["unassigned_penalty"]) for r in left)
