"""A validated planner run: the input checked (BadInput naming the rows at fault), the rules
resolved, the positions the model may use and their seats per term."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from daemon.planner import pathways
from daemon.planner.data import PlannerInput, Position
from daemon.planner.leave import WEEK_ONE_OPTION, LeavePattern, leave_patterns, term_starts
from daemon.planner.rules import Rule, resolve
from daemon.planner.rules.predicates import Predicate
from daemon.planner.rules.six_month_terms import most_pairs, pair_starts
from daemon.solving import MAX_NUM_WORKERS, MAX_SECONDS, BadInput

YEAR_WEEKS = 52
CATEGORIES = ("A", "B", "C", "D")
MAX_LISTED = 10  # rows named in one message before "and N more"


@dataclass(frozen=True)
class Problem:
    inp: PlannerInput
    rule_names: tuple[str, ...]
    rules: tuple[Rule, ...]
    positions: tuple[Position, ...]  # open to the cohort, not barred by a rule, some seat
    seats: tuple[tuple[int, ...], ...]  # seats[i][t]: capacity of positions[i] in term t
    barred: tuple[Position, ...]  # open to the cohort but barred by a rule: left unfilled
    closed: tuple[Position, ...]  # not open to the run's cohort
    leave_patterns: tuple[LeavePattern, ...]

    @property
    def terms(self) -> tuple[int, ...]:
        return self.inp.term_structure

    @property
    def n_terms(self) -> int:
        return len(self.inp.term_structure)

    @property
    def year_weeks(self) -> int:
        return sum(self.inp.term_structure)

    @cached_property
    def term_starts(self) -> tuple[int, ...]:
        return tuple(term_starts(self.terms))

    @cached_property
    def six_month_starts(self) -> tuple[int, ...]:
        """Terms t where a line may hold one post in t and t+1 as a 6-month term: none unless
        a rule allows 6-month terms, then the pairs of terms within 24-28 weeks."""
        return pair_starts(self.terms) if any(r.six_month_terms for r in self.rules) else ()

    @cached_property
    def most_six_month_terms(self) -> int:
        """The most 6-month terms one line can hold."""
        return most_pairs(self.terms) if self.six_month_starts else 0

    def term_seats(self, t: int, where: Predicate | None = None) -> int:
        return sum(s[t] for p, s in zip(self.positions, self.seats, strict=True) if where is None or where(p))

    def year_seats(self, where: Predicate) -> int:
        return sum(sum(s) for p, s in zip(self.positions, self.seats, strict=True) if where(p))


def seats_of(position: Position, n_terms: int) -> tuple[int, ...]:
    if position.capacity_by_term is None:
        return (position.capacity,) * n_terms
    return position.capacity_by_term


def open_to(position: Position, cohort: str) -> bool:
    """Cohort ANY plans lines for no particular cohort: every position is open to it."""
    if position.cohorts is None or cohort.upper() == "ANY":
        return True
    return cohort.upper() in (c.upper() for c in position.cohorts)


def _named(rows: list[str]) -> str:
    more = len(rows) - MAX_LISTED
    return ", ".join(rows[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _run_errors(inp: PlannerInput) -> list[str]:
    errors = []
    if inp.n_job_lines < 1:
        errors.append(f"n_job_lines must be at least 1, got {inp.n_job_lines}")
    terms = inp.term_structure
    if not all(_whole(w) for w in terms):
        errors.append(f"term_structure must be whole numbers of weeks, got {terms}")
    elif not terms or any(w < 1 for w in terms):
        errors.append(f"term_structure needs one or more terms of at least one week, got {terms}")
    elif sum(terms) != YEAR_WEEKS:
        errors.append(
            f"term_structure {'+'.join(map(str, terms))} = {sum(terms)} weeks; the terms must "
            f"add up to the {YEAR_WEEKS}-week year"
        )
    if inp.leave_weeks < 0:
        errors.append(f"leave_weeks must not be negative, got {inp.leave_weeks}")
    if not math.isfinite(inp.max_seconds):
        errors.append(f"max_seconds must be a finite number, got {inp.max_seconds}")
    elif not 0 < inp.max_seconds <= MAX_SECONDS:
        errors.append(f"max_seconds must be within (0, {MAX_SECONDS:g}] seconds, got {inp.max_seconds:g}")
    if not all(isinstance(c, str) for c in inp.constraints):
        errors.append(f"constraints must be names, got {inp.constraints}")
    if inp.num_workers is not None and not 1 <= inp.num_workers <= MAX_NUM_WORKERS:
        errors.append(f"num_workers must be within [1, {MAX_NUM_WORKERS}], got {inp.num_workers}")
    bad_affinity = [f"{a}/{b} ({w})" for a, b, w in inp.specialty_affinity if not -100 <= w <= 100]
    if bad_affinity:
        errors.append(f"specialty_affinity weights must lie in -100..100: {_named(bad_affinity)}")
    return errors


def _position_errors(inp: PlannerInput) -> list[str]:
    if not inp.positions:
        return ["the allocation run has no positions"]
    errors = []
    dupes = sorted(i for i, n in Counter(p.id for p in inp.positions).items() if n > 1)
    if dupes:
        errors.append(f"duplicate position ids: {_named(dupes)}")
    not_whole = [
        f"{p.name} {p.capacity_by_term}" for p in inp.positions if not all(map(_whole, p.capacity_by_term or ()))
    ]
    if not_whole:
        errors.append(f"capacity_by_term must be whole numbers: {_named(not_whole)}")
    not_names = [
        f"{p.name} {column} {value}"
        for p in inp.positions
        for column, value in (("cohorts", p.cohorts), ("tags", p.tags))
        if not all(isinstance(v, str) for v in value or ())
    ]
    if not_names:
        errors.append(f"cohorts and tags must be names: {_named(not_names)}")
    positions = [p for p in inp.positions if all(map(_whole, p.capacity_by_term or ()))]
    n = len(inp.term_structure)
    wrong_length = [p.name for p in positions if p.capacity_by_term is not None and len(p.capacity_by_term) != n]
    if wrong_length:
        errors.append(f"capacity_by_term must have one entry per term ({n}): {_named(wrong_length)}")
    negative = [p.name for p in positions if p.capacity < 0 or any(c < 0 for c in p.capacity_by_term or ())]
    if negative:
        errors.append(f"negative capacity: {_named(negative)}")
    odd = [f"{p.name} ({c})" for p in inp.positions for c in p.experience_categories if c not in CATEGORIES]
    if odd:
        errors.append(f"experience categories must be A, B, C or D: {_named(odd)}")
    return errors


def build_problem(inp: PlannerInput) -> Problem:
    """Check and prepare one run. Raises BadInput with every fault found, rows named."""
    errors = _run_errors(inp) + _position_errors(inp) + pathways.errors(inp)
    if errors:
        raise BadInput("; ".join(errors))
    ruleset = resolve(inp.constraints, inp.state, inp.cohort)
    week_one = WEEK_ONE_OPTION in ruleset.names
    patterns = leave_patterns(inp.term_structure, inp.leave_weeks, week_one=week_one)
    if not patterns:
        raise BadInput(
            f"{inp.leave_weeks} weeks of leave cannot fit: each block must lie inside one term "
            f"({'/'.join(map(str, inp.term_structure))} weeks)"
            + ("" if week_one else f" and start after week 1, orientation ({WEEK_ONE_OPTION} allows it)")
        )
    n = len(inp.term_structure)
    opened = [p for p in inp.positions if open_to(p, inp.cohort)]
    if not opened:
        raise BadInput(f"no position is open to cohort {inp.cohort}")
    barred = [p for p in opened if any(r.excludes(p) for r in ruleset.rules)]
    barred_ids = {p.id for p in barred}
    opened_ids = {p.id for p in opened}
    usable = [p for p in opened if p.id not in barred_ids and any(seats_of(p, n))]
    problem = Problem(
        inp=inp,
        rule_names=ruleset.names,
        rules=ruleset.rules,
        positions=tuple(usable),
        seats=tuple(seats_of(p, n) for p in usable),
        barred=tuple(barred),
        closed=tuple(p for p in inp.positions if p.id not in opened_ids),
        leave_patterns=patterns,
    )
    rule_errors = [e for r in ruleset.rules for e in r.check_input(problem)] + pathways.unmeetable(problem)
    if rule_errors:
        raise BadInput("; ".join(dict.fromkeys(rule_errors)))
    return problem
