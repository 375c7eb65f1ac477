"""Hard constraints, strategy, diagnosis and result metadata of ``solve`` (SPEC §4, §8)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from daemon.allocator.data import AllocatorInput, Eligibility, JobLine, Preferencer
from daemon.allocator.model import search_workers
from daemon.allocator.solve import solve
from daemon.solving import BadInput, SolveContext, SolveOutcome
from tests.allocator.alloc_factory import holder, make_input, placed, solve_checked

F = frozenset
ALL_WANT_A = {
    "w1": {"a": 1, "b": 2, "c": 3},
    "w2": {"a": 1, "b": 2, "c": 3},
    "w3": {"a": 1, "b": 2, "c": 3},
}


def _loads(out: SolveOutcome) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in placed(out).values():
        counts[line] = counts.get(line, 0) + 1
    return counts


def test_everyone_placed_once_within_capacity() -> None:
    out = solve_checked(make_input(ALL_WANT_A, {"a": 2, "b": 1, "c": 1}))
    assert out.status == "COMPLETED"
    assert _loads(out) == {"a": 2, "b": 1}
    assert out.metadata["method"] == "linear_sum_assignment"
    assert out.metadata["status"] == "OPTIMAL" and out.metadata["gap"] == 0.0


def test_must_have_line_gets_a_worker() -> None:
    lines = {"a": 3, "b": 3, "c": 1}
    assert "c" not in _loads(solve_checked(make_input(ALL_WANT_A, lines)))
    assert _loads(solve_checked(make_input(ALL_WANT_A, lines, must=["c"])))["c"] == 1


def test_taken_capacity_is_subtracted() -> None:
    out = solve_checked(make_input(ALL_WANT_A, {"a": 3, "b": 3, "c": 3}, taken={"a": 2}))
    assert _loads(out)["a"] == 1


def test_must_have_line_filled_in_an_earlier_round_needs_no_one() -> None:
    inp = make_input(ALL_WANT_A, {"a": 3, "b": 3, "c": 3}, must=["c"], taken={"c": 1})
    assert "c" not in _loads(solve_checked(inp))


def _supervised(cap_lines: int | None = None, cap_workers: int | None = None, **kw: Any) -> AllocatorInput:
    sup = Preferencer("s", "Dr S", max_job_lines=cap_lines, max_workers=cap_workers)
    return make_input(
        ALL_WANT_A,
        {"a": 2, "b": 2, "c": 3},
        preferencers=[sup],
        line_preferencers=[("a", "s"), ("b", "s")],
        **kw,
    )


def test_max_workers_cap_by_flow() -> None:
    out = solve_checked(_supervised(cap_workers=1))
    loads = _loads(out)
    assert loads.get("a", 0) + loads.get("b", 0) == 1
    assert out.metadata["method"] == "min_cost_flow"


def test_max_workers_counts_earlier_rounds() -> None:
    out = solve_checked(_supervised(cap_workers=3, taken={"b": 1}))
    loads = _loads(out)
    assert loads.get("a", 0) + loads.get("b", 0) == 2


def test_max_job_lines_cap_uses_cp_sat() -> None:
    out = solve_checked(_supervised(cap_lines=1))
    loads = _loads(out)
    assert loads == {"a": 2, "c": 1}
    assert out.metadata["method"] == "cp_sat" and out.metadata["status"] == "OPTIMAL"


def test_overlapping_worker_caps_use_cp_sat() -> None:
    sups = [Preferencer("s", "S", max_workers=1), Preferencer("t", "T", max_workers=1)]
    inp = make_input(
        ALL_WANT_A,
        {"a": 2, "b": 2, "c": 3},
        preferencers=sups,
        line_preferencers=[("a", "s"), ("a", "t"), ("b", "t")],
    )
    out = solve_checked(inp)
    assert out.metadata["method"] == "cp_sat"
    loads = _loads(out)
    assert loads.get("a", 0) + loads.get("b", 0) == 1


def test_non_binding_caps_are_dropped() -> None:
    # Caps that cannot bind leave a pure assignment: the fast exact path solves it.
    out = solve_checked(_supervised(cap_lines=2, cap_workers=4))
    assert out.metadata["method"] == "linear_sum_assignment"


# Line a's supervisor prefers w1, but giving a to w2 is cheaper (w2's fallback is worse).
CONTEST = {"w1": {"a": 1, "b": 2, "c": 3}, "w2": {"a": 1, "c": 2, "b": 3}}


def _contest(stability: str) -> AllocatorInput:
    return make_input(
        CONTEST,
        {"a": 1, "b": 1, "c": 0},
        config={"preferencer_weight": 0, "stability": stability},
        preferencers=[Preferencer("s", "S")],
        line_preferencers=[("a", "s")],
        sup_ranks={"s": {"w1": 1, "w2": 2}},
    )


def test_weak_stability_removes_the_blocking_pair() -> None:
    from daemon.checks.allocation import check_allocation

    unstable = solve_checked(_contest("none"))
    assert placed(unstable)["w2"] == "a"
    # The same allocation, judged under stability, has the blocking pair (w1, a).
    violations = check_allocation(_contest("weak"), unstable.payload.allocations).violations
    assert violations == ("blocking pair: worker w1 and job line a",)
    stable = solve_checked(_contest("weak"))
    assert placed(stable)["w1"] == "a"
    assert stable.metadata["objective"] > unstable.metadata["objective"]


def test_weak_stability_spare_seat_blocks() -> None:
    # Line a's supervisor dislikes w1, so cost puts w1 on b although a has a free seat.
    inp = make_input(
        {"w1": {"a": 1, "b": 2}, "w2": {"b": 1, "a": 2}},
        {"a": 2, "b": 2},
        config={"preferencer_weight": 0.9, "stability": "weak"},
        preferencers=[Preferencer("s", "S")],
        line_preferencers=[("a", "s")],
        sup_ranks={"s": {"w2": 1, "w1": 2}},
    )
    assert placed(solve_checked(inp))["w1"] == "a"


def test_tied_line_preferences_do_not_block() -> None:
    # No supervisor: line a ranks both equally, so w1 does not block w2's seat on a.
    inp = make_input(CONTEST, {"a": 1, "b": 1, "c": 0}, config={"preferencer_weight": 0, "stability": "weak"})
    assert holder(inp, "a") == "w2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "eligibility": [
                    Eligibility("a", excluded_workers=F({"w2"})),
                    Eligibility("b", excluded_workers=F({"w2"})),
                ]
            },
            "no eligible job line with seats left: w2",
        ),
        ({"lines": {"a": 1, "b": 1, "c": 0}}, "total capacity is 2 seat(s) for 3 workers"),
        (
            {"lines": {"a": 1, "b": 1, "c": 1, "d": 1}, "must": ["a", "b", "c", "d"]},
            "4 must-have job lines but only 3 workers",
        ),
        (
            {"eligibility": [Eligibility("b", included_workers=F({"w3"}))]},
            "these 2 worker(s) are eligible only for job lines with 1 seat(s)",
        ),
        (
            {
                "lines": {"a": 1, "b": 1, "c": 3},
                "must": ["a", "b"],
                "eligibility": [
                    Eligibility("a", included_workers=F({"w1"})),
                    Eligibility("b", included_workers=F({"w1"})),
                ],
            },
            "2 must-have job lines can only be filled by 1 distinct worker(s)",
        ),
        (
            {
                "must": ["a", "b"],
                "preferencers": [Preferencer("s", "S", max_workers=1)],
                "line_preferencers": [("a", "s"), ("b", "s")],
            },
            "preferencer 'S' (s) has 2 must-have lines but max_workers leaves 1",
        ),
    ],
)
def test_infeasible_runs_are_explained(kwargs: dict[str, Any], message: str) -> None:
    lines = kwargs.pop("lines", {"a": 1, "b": 2, "c": 0})
    out = solve(make_input(ALL_WANT_A, lines, **kwargs), SolveContext())
    assert out.status == "INFEASIBLE"
    assert out.error is not None and message in out.error, out.error
    assert out.metadata["diagnosis"]


def test_unstable_only_is_explained() -> None:
    inp = make_input(
        {"w1": {"a": 1, "m": 2}, "w2": {"a": 1, "m": 2}},
        {"a": 2, "m": 1},
        must=["m"],
        config={"stability": "weak"},
    )
    out = solve(inp, SolveContext())
    assert out.status == "INFEASIBLE"
    assert out.error is not None and "weakly stable" in out.error


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"worker_ids": ()}, "no workers"),
        ({"line_ids": (), "lines": ()}, "no job lines"),
        ({"worker_ids": ("w1", "w1", "w2", "w3")}, "duplicate worker ids: w1"),
        (
            {"lines": (JobLine("a", "A", -1), JobLine("b", "B", 1), JobLine("c", "C", 1))},
            "negative max_n_workers: 'A' (a)",
        ),
        ({"taken_capacity": {"a": -2}}, "negative capacity taken"),
        ({"line_preferencers": (("a", "ghost"),)}, "unknown preferencers"),
        ({"preferencers": (Preferencer("s", "S", max_workers=-1),)}, "'S' (s)"),
        ({"config": {"colour": "red"}}, "'colour'"),
    ],
)
def test_bad_input_names_the_rows(change: dict[str, Any], message: str) -> None:
    inp = make_input(ALL_WANT_A, {"a": 1, "b": 1, "c": 1})
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        solve(type(inp)(**{**inp.__dict__, **change}), SolveContext())


def test_metadata_is_complete_and_json() -> None:
    out = solve_checked(make_input(ALL_WANT_A, {"a": 1, "b": 1, "c": 1}))
    meta = json.loads(json.dumps(out.metadata))
    for key in (
        "status",
        "method",
        "objective",
        "best_bound",
        "gap",
        "solve_seconds",
        "rank_histogram",
        "mean_rank",
        "worst_rank",
        "rounding_error_bound",
    ):
        assert key in meta
    assert meta["rank_histogram"] == {"1": 1, "2": 1, "3": 1}
    assert meta["mean_rank"] == 2.0 and meta["worst_rank"] == 3.0
    assert [a.worker for a in out.payload.allocations] == ["w1", "w2", "w3"]


def test_cp_sat_reports_progress() -> None:
    seen: list[dict[str, Any]] = []
    out = solve_checked(_supervised(cap_lines=1), SolveContext(seen.append))
    assert any("best_objective" in p and "best_bound" in p for p in seen)
    assert out.metadata["solutions"] >= 1


def test_stop_before_cp_sat_fails_cleanly() -> None:
    stop = threading.Event()
    stop.set()
    out = solve(_supervised(cap_lines=1), SolveContext(stop_event=stop))
    assert out.status == "FAILED" and out.error is not None and "stopped" in out.error


class _StopAfter(SolveContext):
    """A stop request that arrives after the solve has polled ``polls`` times."""

    def __init__(self, polls: int) -> None:
        super().__init__()
        self.polls_left = polls

    def stop_requested(self) -> bool:
        self.polls_left -= 1
        if self.polls_left < 0:
            self.request_stop()
        return super().stop_requested()


@pytest.mark.parametrize(
    "inp",
    [
        make_input(ALL_WANT_A, {"a": 1, "b": 1, "c": 1}),  # linear_sum_assignment
        make_input(ALL_WANT_A, {"a": 1, "b": 1, "c": 1}, must=["c"]),  # min-cost flow
        _supervised(cap_lines=1),  # CP-SAT
    ],
    ids=["assignment", "flow", "cp_sat"],
)
def test_preset_stop_fails_every_path_at_once(inp: AllocatorInput) -> None:
    stop = threading.Event()
    stop.set()
    out = solve(inp, SolveContext(stop_event=stop))
    assert out.status == "FAILED" and out.error is not None and "stopped" in out.error
    assert out.metadata["status"] == "STOPPED"
    assert out.metadata["stage"] == "after building the problem"


def test_stop_is_heard_between_every_stage() -> None:
    stages = []
    for polls in range(3):
        out = solve(_supervised(cap_lines=1), _StopAfter(polls))
        assert out.status == "FAILED" and out.error is not None and "stopped" in out.error
        stages.append(out.metadata["stage"])
    # After building; after the flow; after the starting solution, before CP-SAT's search.
    assert stages == ["after building the problem", "after the min-cost flow", "before the search began"]
    assert solve_checked(_supervised(cap_lines=1), _StopAfter(3)).status == "COMPLETED"


def test_cp_sat_uses_the_daemons_threads_unless_the_config_says() -> None:
    assert solve_checked(_supervised(cap_lines=1), SolveContext(threads=3)).metadata["cp_sat_workers"] == 3
    assert solve_checked(_supervised(cap_lines=1)).metadata["cp_sat_workers"] == 2  # SolveContext's default
    configured = _supervised(cap_lines=1, config={"num_workers": 1})
    assert solve_checked(configured, SolveContext(threads=3)).metadata["cp_sat_workers"] == 1


def test_threads_never_zero() -> None:
    # CP-SAT reads num_workers=0 as "every core": a daemon set to 0 threads still gets one.
    assert search_workers(None, SolveContext(threads=0)) == 1
    assert search_workers(4, SolveContext(threads=0)) == 4
