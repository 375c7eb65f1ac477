"""Leave semantics: one block or 2+3 / 3+2 at least 13 weeks apart, each inside one term, none
in week 1 unless the run allows it; no long term half worked where a placement avoids it;
about 70% in the first half of the year, spread so units are not emptied at once."""

from __future__ import annotations

from dataclasses import replace

from daemon.checks.planner import check_lines
from daemon.planner.leave import LeaveBlock, halves_a_long_term, leave_patterns, plan_leave
from tests.planner.factory import VIC_TERMS, lines_of, pos, run, solve_checked


def test_blocks_lie_inside_one_term() -> None:
    patterns = leave_patterns((10, 42), 5, week_one=True)
    singles = [p for p in patterns if len(p) == 1]
    assert singles[0] == (LeaveBlock(1, 5),)
    assert (LeaveBlock(7, 5),) not in patterns  # weeks 7-11 would cross into term 2
    assert all(b.start_week + b.length_weeks - 1 <= 52 for p in patterns for b in p)


def test_splits_are_2_3_or_3_2_with_13_weeks_between() -> None:
    splits = [p for p in leave_patterns(VIC_TERMS, 5) if len(p) == 2]
    assert {tuple(b.length_weeks for b in p) for p in splits} == {(2, 3), (3, 2)}
    gaps = [second.start_week - (first.start_week + first.length_weeks) for first, second in splits]
    assert min(gaps) == 13


def test_only_five_weeks_split() -> None:
    assert all(len(p) == 1 for p in leave_patterns(VIC_TERMS, 4))


def test_no_leave_and_leave_that_does_not_fit() -> None:
    assert leave_patterns(VIC_TERMS, 0) == ((),)
    assert leave_patterns(VIC_TERMS, 13) == ()


def test_plan_puts_about_70_percent_in_the_first_half() -> None:
    lines = [(k % 7, (k + 1) % 7, (k + 2) % 7, (k + 3) % 7, (k + 4) % 7) for k in range(100)]
    plan = plan_leave(VIC_TERMS, leave_patterns(VIC_TERMS, 5), lines)
    weeks = [w for p in plan for b in p for w in b.weeks]
    assert abs(sum(w <= 26 for w in weeks) / len(weeks) - 0.7) < 0.05  # "about 70%"
    assert plan == plan_leave(VIC_TERMS, leave_patterns(VIC_TERMS, 5), lines)  # deterministic


def test_colleagues_in_a_unit_take_leave_at_different_times() -> None:
    lines = [(0, 1, 2, 3, 4)] * 6  # six lines in one unit every term
    plan = plan_leave(VIC_TERMS, leave_patterns(VIC_TERMS, 5), lines)
    weeks = [w for p in plan for b in p for w in b.weeks]
    assert len(weeks) == len(set(weeks))


def test_lines_carry_leave_rotations_that_overlap_their_terms() -> None:
    out = solve_checked(run([pos(f"p{k}", capacity=3) for k in range(5)], n=3))
    meta = out.metadata["soft_goals"]["leave"]
    assert meta["target_first_half_share"] == 0.7
    for line in lines_of(out):
        assert sum(r.length_weeks for r in line.leave) == 5
        assert sum(r.length_weeks for r in line.clinical) == 52
        assert all(r.position_id is None and r.term_index is None for r in line.leave)


def test_no_leave_in_week_one_unless_the_run_allows_it() -> None:
    assert all(b.start_week > 1 for p in leave_patterns(VIC_TERMS, 5) for b in p)
    assert any(b.start_week == 1 for p in leave_patterns(VIC_TERMS, 5, week_one=True) for b in p)
    inp = run([pos(f"p{k}", capacity=3) for k in range(4)], n=3)
    out = solve_checked(inp)
    assert out.metadata["quality"]["lines_on_leave_in_week_1"] == 0
    # The checker holds any line to it: the same line with its leave moved to week 1.
    line = lines_of(out)[0]
    early = replace(line, rotations=tuple(replace(r, start_week=1) if r.kind == "LEAVE" else r for r in line.rotations))
    assert any("week 1" in v for v in check_lines(inp, [early]))
    assert not [v for v in check_lines(replace(inp, constraints=("ALLOW_WEEK1_LEAVE",)), [early]) if "week 1" in v]


def test_leave_halves_no_long_term_where_a_placement_avoids_it() -> None:
    # Five weeks of a 10-week term leave half of it worked; the 12-week term or a 2+3 split
    # avoid that, so no line takes it, however the profile would like week 2.
    lines = [(k % 7, (k + 1) % 7, (k + 2) % 7, (k + 3) % 7, (k + 4) % 7) for k in range(100)]
    plan = plan_leave(VIC_TERMS, leave_patterns(VIC_TERMS, 5), lines)
    assert not any(halves_a_long_term(VIC_TERMS, p) for p in plan)
    out = solve_checked(run([pos(f"p{k}", capacity=3) for k in range(5)], n=3, term_structure=VIC_TERMS))
    assert out.metadata["quality"]["lines_working_half_a_long_term"] == 0
