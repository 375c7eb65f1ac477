"""Diagnosis of INFEASIBLE and short runs: a minimal set of rules in conflict, named as the
administrator knows them; the data at fault in plain words; the smallest change, measured.

Minimality and the measured fixes are checked here independently of the search: every rule
set is re-solved on a model built without the diagnosis' switches, and every seat fix is
applied to the positions and solved again (lines checked by the independent checker)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from ortools.sat.python import cp_model

from daemon.planner.data import PlannerInput, Position
from daemon.planner.model import build_model
from daemon.planner.problem import Problem, build_problem
from daemon.planner.remedy import least_extra_seats
from daemon.planner.rules import Rule
from daemon.planner.search import hint_lines
from tests.planner.factory import VIC_TERMS, filler, lines_of, pos, run, solve_checked


def feasible(problem: Problem, rules: tuple[Rule, ...], n: int) -> bool:
    """``n`` lines under exactly ``rules`` (plus the always-on ones), on a plain model."""
    plan = build_model(replace(problem, rules=rules), n, optional_lines=False)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 20
    status = solver.solve(plan.model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.INFEASIBLE)
    return status != cp_model.INFEASIBLE


def named(problem: Problem, conflict: dict[str, Any]) -> tuple[Rule, ...]:
    """The rules of ``problem`` a diagnosis names (constraint + rule inside it)."""
    wanted = [(r["constraint"], r["rule"]) for r in conflict["rules"]]
    found = tuple(r for r in problem.rules if (r.source, r.describe()) in wanted)
    assert len(found) == len(wanted), (wanted, [r.title for r in problem.rules])
    return found


def assert_irreducible(inp: PlannerInput, conflict: dict[str, Any]) -> None:
    problem = build_problem(inp)
    rules = named(problem, conflict)
    n = conflict["lines_tested"]
    assert not feasible(problem, rules, n), "the rules named are no conflict"
    for r in rules:
        assert feasible(problem, tuple(x for x in rules if x is not r), n), f"{r.title} is not needed"


def with_seats(inp: PlannerInput, seat_fix: dict[str, Any]) -> PlannerInput:
    n = len(inp.term_structure)
    extra: dict[str, list[int]] = {}
    for s in seat_fix["seats"]:
        extra.setdefault(s["position"], [0] * n)[s["term_index"]] += s["seats"]

    def grown(p: Position) -> Position:
        if p.id not in extra:
            return p
        base = p.capacity_by_term or (p.capacity,) * n
        return replace(p, capacity_by_term=tuple(a + b for a, b in zip(base, extra[p.id], strict=True)))

    return replace(inp, positions=tuple(grown(p) for p in inp.positions))


def vic_ed_and_surgery_in_term_5_only(n: int = 1) -> PlannerInput:
    positions = [
        pos("med", "Medicine", capacity=n),
        pos("sur", "Surgery", capacity_by_term=(0, 0, 0, 0, n)),
        pos("ed", "Emergency Medicine", capacity_by_term=(0, 0, 0, 0, n)),
        *(pos(f"g{k}", capacity=n) for k in range(4)),
    ]
    return run(positions, n=n, term_structure=VIC_TERMS, constraints=("VIC_PGY1",), allow_partial_filling=False)


def test_two_rules_in_conflict_are_named_with_the_data_and_measured_fixes() -> None:
    inp = vic_ed_and_surgery_in_term_5_only()
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE"
    conflict = out.metadata["conflict"]
    assert {r["rule"] for r in conflict["rules"]} == {
        "a Surgery term on every line",
        "an Emergency Medicine term on every line",
    }
    assert conflict["minimal"] == "proven"
    assert_irreducible(inp, conflict)
    assert "Surgery posts and Emergency Medicine posts are both open only in term 5 (1 and 1 seats)" in conflict["data"]
    # Measured: without either rule the line builds; one more seat of either in another term.
    assert [r["without_it"] for r in conflict["rules"]] == ["builds", "builds"]
    fix = conflict["seat_fix"]
    assert fix["fewest"] and sum(s["seats"] for s in fix["seats"]) == 1
    assert fix["seats"][0]["position"] in ("sur", "ed")
    assert len(lines_of(solve_checked(replace(with_seats(inp, fix), allow_partial_filling=False)))) == 1
    # last_error carries all three, the rules as the administrator knows them.
    error = out.error or ""
    assert "rules in conflict for 1 line (a minimal set" in error
    assert "VIC_PGY1: a Surgery term on every line" in error
    assert "without VIC_PGY1: a Surgery term on every line, 1 line build" in error
    assert "with one more seat in " in error and "1 line build (proven the fewest extra seats)" in error
    assert out.metadata["diagnosis"][-1].startswith("with one more seat")


def team_based_only_in_terms_1_2() -> PlannerInput:
    team = [pos(f"team{k}", capacity_by_term=(1, 1, 0, 0)) for k in range(2)]
    ward = [pos(f"ward{k}", is_team_based=False, capacity=3) for k in range(4)]
    return run(team + ward, n=3, constraints=("AMC_PGY1",))


def test_a_short_run_completes_and_says_which_rule_and_what_would_fix_it() -> None:
    inp = team_based_only_in_terms_1_2()
    out = solve_checked(inp)
    assert len(lines_of(out)) == 2
    meta = out.metadata
    conflict = meta["conflict"]
    assert [(r["constraint"], r["rule"]) for r in conflict["rules"]] == [
        ("AMC_PGY1", "at least 50% of weeks in team-based terms")
    ]
    assert_irreducible(inp, conflict)
    assert "team-based posts are open only in terms 1-2 (4 seats)" in conflict["data"]
    assert conflict["rules"][0]["without_it"] == "builds"
    # Each line needs two team-based terms: 3 lines need 6 such seats, there are 4.
    fix = conflict["seat_fix"]
    assert fix["fewest"] and sum(s["seats"] for s in fix["seats"]) == 2
    assert {s["position"] for s in fix["seats"]} <= {"team0", "team1"}
    assert len(lines_of(solve_checked(with_seats(inp, fix)))) == 3
    assert (out.error or "").startswith("built 2 of the 3 lines asked: ")
    assert "3 lines build (1 more than this run)" in (out.error or "")
    assert meta["diagnosis"][: len(meta["fewer_lines_because"])] == meta["fewer_lines_because"]


def test_a_barring_rule_is_named_when_its_positions_are_missed() -> None:
    # NO_NIGHTS leaves three positions for four terms: the seat counts alone cannot say why.
    inp = run([pos("nights", is_nights=True), pos("a"), pos("b"), pos("c")], constraints=("NO_NIGHTS",))
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE"
    conflict = out.metadata["conflict"]
    assert [r["constraint"] for r in conflict["rules"]] == ["NO_NIGHTS"]
    assert conflict["rules"][0]["without_it"] == "builds"
    assert (
        "barring nights/relief posts takes away 1 seat in each of terms 1-4 (4 seats over the year)" in conflict["data"]
    )


def test_when_no_single_rule_is_enough_the_next_conflict_and_a_combined_fix_are_measured() -> None:
    # Four posts for four terms: every line holds both rural and both service posts.
    positions = [pos("r0", is_rural=True), pos("r1", is_rural=True)]
    positions += [pos("s0", is_service_term=True), pos("s1", is_service_term=True)]
    inp = run(positions, constraints=("MAX_ONE_RURAL", "MAX_ONE_SERVICE"), allow_partial_filling=False)
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE"
    conflict = out.metadata["conflict"]
    first = [r["constraint"] for r in conflict["rules"]]
    assert first in (["MAX_ONE_RURAL"], ["MAX_ONE_SERVICE"])
    assert conflict["rules"][0]["without_it"] == "still short"
    other = {"MAX_ONE_RURAL", "MAX_ONE_SERVICE"} - set(first)
    assert [[t.split(":")[0] for t in c] for c in conflict["other_conflicts"]] == [sorted(other)]
    assert conflict["without_together"]["result"] == "builds"
    assert "1 line still cannot all be built (at most 0 build): another conflict remains" in (out.error or "")


def test_a_shortage_of_seats_alone_blames_no_rule() -> None:
    inp = run([pos(f"p{k}") for k in range(4)], n=5, allow_partial_filling=False)
    conflict = solve_checked(inp).metadata["conflict"]
    assert conflict["outcome"] == "seats" and conflict["rules"] == []
    assert "term 1 has only 4 seats for 5 lines" in conflict["data"]
    fix = conflict["seat_fix"]
    assert fix["fewest"] and sum(s["seats"] for s in fix["seats"]) == 4  # one more in each term
    assert len(lines_of(solve_checked(with_seats(inp, fix)))) == 5


def test_fillers_do_not_change_the_verdict() -> None:
    # An excludable position the rules do not need stays out of the conflict and the fix.
    inp = vic_ed_and_surgery_in_term_5_only()
    inp = replace(inp, positions=(*inp.positions, filler("spare", capacity=1)))
    conflict = solve_checked(inp).metadata["conflict"]
    assert len(conflict["rules"]) == 2 and conflict["minimal"] == "proven"


def test_the_counts_bound_the_extra_seats_from_below() -> None:
    # Lets a seat fix be proven the fewest when CP-SAT's own bound does not get there.
    assert least_extra_seats(build_problem(team_based_only_in_terms_1_2()), 3) == 2  # 2 team terms a line
    assert least_extra_seats(build_problem(run([pos(f"p{k}") for k in range(4)], n=5)), 5) == 4  # a seat a term
    assert least_extra_seats(build_problem(vic_ed_and_surgery_in_term_5_only(2)), 2) == 0
    # One service term a line: 2 lines hold 6 other terms, and one other post offers 4.
    capped = run([pos("a"), *(pos(f"s{k}", is_service_term=True) for k in range(3))], constraints=("MAX_ONE_SERVICE",))
    assert least_extra_seats(build_problem(capped), 2) == 2


def test_the_run_s_own_lines_start_a_measurement_of_more_lines() -> None:
    # A model of optional lines takes fewer lines as a complete hint, the rest left empty.
    problem = build_problem(team_based_only_in_terms_1_2())
    found = ((0, 1, 2, 3), (1, 0, 3, 2))
    plan = build_model(problem, 3, optional_lines=True)
    assert hint_lines(plan, found, 5.0)
    hint = plan.model.proto.solution_hint
    hinted = dict(zip(hint.vars, hint.values, strict=True))
    assert [hinted[line.built_var.index] for line in plan.lines if line.built_var is not None] == [1, 1, 0]
    with pytest.raises(ValueError, match="2 lines cannot hint a model of 3"):
        hint_lines(build_model(problem, 3, optional_lines=False), found, 5.0)
