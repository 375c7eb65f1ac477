"""Annual leave: where each line's ``leave_weeks`` go.

Semantics (the decision; SPEC §5 leaves it open):

- The year is the 52 weeks of the terms. Leave overlaps them: a line holds its position for the
  whole term (its CLINICAL rotation spans the term) and is away for the LEAVE weeks inside it.
  Clinical weeks = 52 - leave_weeks, whatever the placement.
- Leave is one block of ``leave_weeks``, or, for the usual 5 weeks, 2+3 or 3+2 with at least 13
  weeks between the blocks (the weeks strictly between them).
- Each block lies inside one term: leave is approved by the unit the line is in, and a block
  across a changeover would cut two terms short.
- No leave in week 1, orientation, unless the run names ALLOW_WEEK1_LEAVE (issue 12).

No rule reads the placement (percentage caps count term weeks, SPEC §5), so leave is planned
after the positions, exactly and cheaply, instead of inside the CP-SAT model. Goals: about 70%
of all leave weeks in the first half of the year, the rest spread evenly, and lines that share a
position in a term are away at different times so a unit is not emptied at once — all below
one goal first: no line away for half or more of a term of 10 weeks or more where a placement
avoids it (a split, or a longer term: 5 weeks of a 10-week term leave half of it worked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SPLITS = ((2, 3), (3, 2))  # the split shapes allowed for 5 weeks of leave
SPLIT_TOTAL = 5
MIN_WEEKS_BETWEEN = 13
FIRST_HALF_SHARE = 0.7
# A week away alongside a colleague from the same unit costs as much as one line of
# imbalance in the year-wide profile.
SAME_UNIT_COST = 1.0
LONG_TERM_WEEKS = 10  # a term this long should not lose half its weeks to leave
WEEK_ONE_OPTION = "ALLOW_WEEK1_LEAVE"  # a constraints name: leave may start in week 1


@dataclass(frozen=True)
class LeaveBlock:
    start_week: int  # week of the year, from 1
    length_weeks: int

    @property
    def weeks(self) -> range:
        return range(self.start_week, self.start_week + self.length_weeks)


LeavePattern = tuple[LeaveBlock, ...]


def term_starts(terms: Sequence[int]) -> list[int]:
    starts, week = [], 1
    for length in terms:
        starts.append(week)
        week += length
    return starts


def _blocks(terms: Sequence[int], length: int) -> list[LeaveBlock]:
    return [
        LeaveBlock(start, length)
        for first, weeks in zip(term_starts(terms), terms, strict=True)
        for start in range(first, first + weeks - length + 1)
    ]


def leave_patterns(terms: Sequence[int], leave_weeks: int, *, week_one: bool = False) -> tuple[LeavePattern, ...]:
    """Every allowed placement, single blocks first (none in week 1 unless ``week_one``).
    Empty when the leave cannot fit."""
    if leave_weeks == 0:
        return ((),)
    singles = [(b,) for b in _blocks(terms, leave_weeks) if week_one or b.start_week > 1]
    if leave_weeks != SPLIT_TOTAL:
        return tuple(singles)
    splits = [
        (a, b)
        for first, second in SPLITS
        for a in _blocks(terms, first)
        if week_one or a.start_week > 1
        for b in _blocks(terms, second)
        if b.start_week - (a.start_week + a.length_weeks) >= MIN_WEEKS_BETWEEN
    ]
    return (*singles, *splits)


def halves_a_long_term(terms: Sequence[int], pattern: LeavePattern) -> bool:
    """Whether ``pattern`` takes half or more of some term of LONG_TERM_WEEKS or more."""
    lost = [0] * len(terms)
    starts = term_starts(terms)
    for block in pattern:
        t = max(k for k, first in enumerate(starts) if first <= block.start_week)
        lost[t] += block.length_weeks
    return any(weeks >= LONG_TERM_WEEKS and 2 * n >= weeks for n, weeks in zip(lost, terms, strict=True))


def plan_leave(
    terms: Sequence[int],
    patterns: Sequence[LeavePattern],
    lines: Sequence[Sequence[int]],
) -> list[LeavePattern]:
    """One pattern per line (``lines[i][t]`` = the position index line i holds in term t).

    Greedy and deterministic: each line in turn takes the placement whose weeks are the most
    below the target profile and the least shared with its units' colleagues, among those that
    leave no long term half worked if there are any.
    """
    year = sum(terms)
    if not patterns[0] or not lines:
        return [patterns[0]] * len(lines)
    half = year // 2
    total = len(lines) * sum(b.length_weeks for b in patterns[0])
    target = np.empty(year)
    target[:half] = FIRST_HALF_SHARE * total / half
    target[half:] = (1 - FIRST_HALF_SHARE) * total / (year - half)
    cover = np.zeros((len(patterns), year))
    for k, pattern in enumerate(patterns):
        for block in pattern:
            cover[k, block.start_week - 1 : block.start_week - 1 + block.length_weeks] = 1
    term_of_week = np.repeat(np.arange(len(terms)), terms)
    n_positions = 1 + max(max(line) for line in lines)
    load = np.zeros(year)
    unit_load = np.zeros((n_positions, year))
    week_index = np.arange(year)
    # More than any profile cost (at most every line on leave every week, twice over).
    halving = np.array([halves_a_long_term(terms, p) for p in patterns]) * (2 * len(lines) * year + 1)
    chosen = []
    for line in lines:
        unit_of_week = np.asarray(line)[term_of_week]
        cost = load + 1 - target + SAME_UNIT_COST * unit_load[unit_of_week, week_index]
        k = int(np.argmin(cover @ cost + halving))  # argmin takes the first of equals: deterministic
        chosen.append(patterns[k])
        load += cover[k]
        unit_load[unit_of_week, week_index] += cover[k]
    return chosen
