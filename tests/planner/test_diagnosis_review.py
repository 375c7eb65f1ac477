"""Diagnosis defects found in review: the barring rule named, hostile names bounded, the cohort,
the clock, the seat fix trimmed, posts (not seats) short, the article of a specialty."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ortools.sat.python import cp_model

from daemon.planner.conflict import with_barred
from daemon.planner.explain import DIAGNOSIS_LIMIT, SENTENCE_LIMIT, joined, said
from daemon.planner.problem import build_problem
from daemon.planner.remedy import seat_model, trim_seats
from daemon.planner.xlsx_result import write_result
from daemon.solving import SolveContext
from tests.planner.factory import VIC_TERMS, lines_of, pos, run, solve_checked
from tests.planner.test_diagnosis import feasible


def test_a_barring_rule_whose_seats_limit_the_lines_is_named_first() -> None:
    # Five usable seats a term, three more in nights posts; one service term a line would
    # allow six lines with the nights posts back: NO_NIGHTS is what holds the run to five.
    positions = [pos(f"w{k}", capacity=1) for k in range(5)]
    positions += [pos(f"night{k}", is_nights=True, capacity=1) for k in range(3)]
    inp = run(positions, n=8, constraints=("NO_NIGHTS", "MAX_ONE_SERVICE"), allow_partial_filling=True)
    out = solve_checked(inp)
    conflict = out.metadata["conflict"]
    assert [r["constraint"] for r in conflict["rules"]] == ["NO_NIGHTS"]
    # Checked on a plain model, the nights posts back: 8 lines fail with the rule, build without.
    problem = with_barred(build_problem(inp))
    assert problem.rules[0].source == "NO_NIGHTS"
    assert not feasible(problem, problem.rules[:1], 8) and feasible(problem, (), 8)
    assert (
        "barring nights/relief posts takes away 3 seats in each of terms 1-4 (12 seats over the year); "
        "without them only 5 seats in each of terms 1-4 remain for 8 lines" in conflict["data"]
    )
    assert [[t.split(":")[0] for t in c] for c in conflict["other_conflicts"]] == [["MAX_ONE_SERVICE"]]
    assert conflict["without_together"]["result"] == "builds"


def test_the_barring_rule_caps_the_lines_by_the_seats_it_leaves() -> None:
    positions = [pos("a", capacity=2), pos("b", capacity=1), pos("n", is_nights=True, capacity_by_term=(1, 0, 2, 0))]
    problem = build_problem(run(positions, n=4, constraints=("NO_NIGHTS",)))
    (rule,) = problem.rules
    (short,) = rule.shortfalls(problem)
    assert short.max_lines == 3
    assert (
        "NO_NIGHTS bars nights/relief posts (term 1: 1, term 2: 0, term 3: 2, term 4: 0 seats barred)" in short.reason
    )


def test_hostile_position_names_are_printable_and_bounded_in_every_sentence(tmp_path: Path) -> None:
    # Five one-seat ED posts, open in term 5 only, each named 8,000 characters with escapes.
    def evil(k: int) -> str:
        return f"ED{k}\x1b[31m\n\u202e" + "E" * 8000

    positions = [
        pos("med", "Medicine", capacity=10),
        pos("sur", "Surgery", capacity=10),
        *(
            replace(pos(f"ed{k}", "Emergency Medicine", capacity_by_term=(0, 0, 0, 0, 1)), name=evil(k))
            for k in range(5)
        ),
        *(pos(f"g{k}", capacity=10) for k in range(4)),
    ]
    inp = run(positions, n=10, term_structure=VIC_TERMS, constraints=("VIC_PGY1",), allow_partial_filling=True)
    out = solve_checked(inp)
    assert len(lines_of(out)) == 5
    sentences = out.metadata["diagnosis"]
    seat = [s for s in sentences if s.startswith("with ")]
    # Each name cut where it is quoted, so the sentence says all of what it has to say.
    assert seat and "ED0\\x1b[31m\\n\\u202eEEE" in seat[0]
    assert seat[0].count("more characters)") == 5 and "all 10 lines build" in seat[0]
    for s in [*sentences, *out.metadata["conflict"]["data"], out.error or ""]:
        assert not any(c in s for c in "\x1b\n\u202e"), s[:200]
    assert all(len(s) <= SENTENCE_LIMIT for s in sentences)
    assert len(out.error or "") <= DIAGNOSIS_LIMIT
    write_result(tmp_path / "result.xlsx", inp, out)  # every cell fits


def test_a_diagnosis_longer_than_its_limit_is_cut_saying_so() -> None:
    sentences = said(["x" * 5000, "ok\x1b"])
    assert len(sentences[0]) <= SENTENCE_LIMIT and sentences[1] == "ok\\x1b"
    error = joined("head: ", ["y" * 900] * 20)
    assert len(error) <= DIAGNOSIS_LIMIT and error.endswith("more characters)")


def test_the_counting_reason_says_an_emergency_medicine_term() -> None:
    positions = [pos("med", "Medicine"), pos("sur", "Surgery"), pos("ed", "Emergency Medicine")]
    positions += [pos(f"g{k}") for k in range(2)]
    problem = build_problem(run(positions, n=2, term_structure=VIC_TERMS, constraints=("VIC_PGY1",)))
    reasons = [s.reason for r in problem.rules for s in r.shortfalls(problem)]
    assert any(r.startswith("VIC_PGY1 requires an Emergency Medicine term on every line") for r in reasons)
    assert any(r.startswith("VIC_PGY1 requires a Surgery term on every line") for r in reasons)


def test_the_data_at_fault_counts_seats_open_to_the_cohort_and_names_those_closed() -> None:
    positions = [pos(f"open{k}", capacity=2, cohorts=("PGY1", "PGY2")) for k in range(3)]
    positions += [pos(f"pgy2only{k}", capacity=2, cohorts=("PGY2",)) for k in range(3)]
    out = solve_checked(run(positions, n=8, cohort="PGY1", allow_partial_filling=True))
    data = out.metadata["conflict"]["data"]
    assert "term 1 has only 6 seats open to cohort PGY1 for 8 lines" in data
    assert "positions closed to cohort PGY1 (pgy2only0, pgy2only1, pgy2only2) hold 6 seats in each of terms 1-4" in data
    # Three posts for four terms: posts are short too, and no seat fix is offered.
    assert (
        "only 3 positions are open to cohort PGY1 and a line holds a position once, but every line needs 4 terms "
        "in them (more seats cannot help)" in data
    )


def test_cohort_any_counts_every_seat_without_naming_a_cohort() -> None:
    out = solve_checked(run([pos(f"p{k}") for k in range(4)], n=5, allow_partial_filling=False))
    assert "term 1 has only 4 seats for 5 lines" in out.metadata["conflict"]["data"]


def test_when_posts_not_seats_are_short_the_data_says_so() -> None:
    # 50% of a 10/10/10/10/12 year is three terms; only two team-based posts, each held once.
    positions = [pos(f"team{k}", capacity=3) for k in range(2)]
    positions += [pos(f"ward{k}", is_team_based=False, capacity=3) for k in range(4)]
    out = solve_checked(run(positions, n=2, term_structure=VIC_TERMS, constraints=("AMC_PGY1",)))
    conflict = out.metadata["conflict"]
    assert [r["constraint"] for r in conflict["rules"]] == ["AMC_PGY1"]
    assert conflict["data"] == [
        "only 2 team-based posts are open and a line holds a position once, but every line needs 3 terms in them "
        "(more seats cannot help)"
    ]
    assert conflict["seat_fix"] is None


def test_a_diagnosis_too_big_for_the_time_left_is_skipped_not_overrun() -> None:
    # 4,000 one-seat posts, 10 lines: the diagnosis' model takes seconds to build, the run has one.
    n = 10
    positions = [
        pos("ed0", "Emergency Medicine", capacity_by_term=(0, 0, 0, 0, n // 2)),
        pos("sur", "Surgery", capacity=n),
        pos("med", "Medicine", capacity=n),
        *(pos(f"g{k}", f"S{k}", capacity=1, is_team_based=k % 2 == 0) for k in range(4000)),
    ]
    inp = run(
        positions,
        n=n,
        term_structure=VIC_TERMS,
        constraints=("VIC_PGY1",),
        max_seconds=1.0,
        allow_partial_filling=False,
    )
    out = solve_checked(inp)
    assert out.status == "INFEASIBLE"
    assert out.metadata["conflict"]["outcome"] == "unknown"
    assert any(s.startswith("the rules in conflict were not searched for") for s in out.metadata["diagnosis"])


def test_a_seat_fix_found_when_time_ran_out_is_trimmed_seat_by_seat() -> None:
    # Four one-seat posts, five lines: one more seat a term (4) is the fewest. Start from a
    # wasteful fix, three extra seats in p0 in term 1, as a solve cut short could return.
    problem = build_problem(run([pos(f"p{k}") for k in range(4)], n=5))
    plan, extra, least = seat_model(problem, 5)
    assert least == 4
    domain = plan.model.proto.variables[extra[0, 0].index].domain
    domain[0] = domain[1] = 3
    solver = cp_model.CpSolver()
    assert solver.solve(plan.model) == cp_model.OPTIMAL
    wasteful = {cell: solver.value(v) for cell, v in extra.items()}
    assert sum(wasteful.values()) == 6
    ctx = SolveContext()
    solution = list(solver.response_proto.solution)
    kept = trim_seats(
        plan.model, extra, wasteful, solution, problem=problem, ctx=ctx, deadline=time.perf_counter() + 20
    )
    assert sum(kept.values()) == 4 and all(sum(v for (t, _), v in kept.items() if t == term) == 1 for term in range(4))
    # Out of time, nothing is dropped.
    assert trim_seats(plan.model, extra, wasteful, solution, problem=problem, ctx=ctx, deadline=0.0) == wasteful


def test_a_specialty_name_in_the_data_at_fault_is_printable_and_cut() -> None:
    # One specialty holds most of the year's seats: the share cap's data names it.
    hostile = "Surg\x1b[2J\u202e" + "y" * 5000
    positions = [pos(f"s{k}", hostile, capacity=2) for k in range(4)] + [pos("m", "Medicine")]
    problem = build_problem(run(positions, constraints=("AMC_PGY1",)))
    facts = [r.fact for rule in problem.rules for r in rule.reads(problem) if r.role == "share"]
    assert facts and all("\x1b" not in f and "\u202e" not in f for f in facts)
    assert facts[0].startswith("Surg\\x1b[2J\\u202eyyy") and len(facts[0]) < 200
