"""How well the written lines read (issue 12): figures computed from the lines as written.

Pure functions of the run (``PlannerInput``) and the lines (``GeneratedLine`` or anything
shaped like it): like the checker, they share no code with the model or the goals, so the
figures measure what the goals achieved rather than restate what they aimed at.

- pairwise distance: over all pairs of lines, the terms in which the two hold different posts
  (Hamming distance); the fewest and the mean;
- parent specialties per line (distinct), the most terms of one parent specialty on a line,
  and rural terms per line: each as a histogram {value: lines};
- leave by week: lines away in each week of the year, and how many lines are away in week 1
  (orientation) and work only half or less of a term of 10 weeks or more.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

from daemon.checks.planner import LineLike
from daemon.planner.data import PlannerInput, Position

LONG_TERM_WEEKS = 10  # a term this long that loses half its weeks to leave reads badly


def _key(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def held_by_term(line: LineLike, n_terms: int) -> tuple[str | None, ...]:
    """The post a line holds in each term (None where it holds none)."""
    held: list[str | None] = [None] * n_terms
    for r in line.rotations:
        if r.kind == "CLINICAL" and r.term_index is not None and 0 <= r.term_index < n_terms:
            held[r.term_index] = r.position_id
    return tuple(held)


def pairwise_distances(grid: Sequence[Sequence[str | None]]) -> list[int]:
    """For each pair of lines, the terms in which they hold different posts."""
    return [sum(x != y for x, y in zip(a, b, strict=True)) for a, b in itertools.combinations(grid, 2)]


def _histogram(values: Sequence[int]) -> dict[str, int]:
    # String keys: result_metadata is JSON.
    return {str(v): n for v, n in sorted(Counter(values).items())}


def specialties(positions: Sequence[Position | None]) -> Counter[str]:
    """Terms per parent specialty (a post with none recorded counts for none)."""
    return Counter(_key(p.parent_specialty) for p in positions if p is not None and _key(p.parent_specialty))


def leave_by_week(inp: PlannerInput, lines: Sequence[LineLike]) -> list[int]:
    """Lines away in each week of the year: element 0 is week 1."""
    year = sum(inp.term_structure)
    away = [0] * year
    for line in lines:
        for r in line.rotations:
            if r.kind == "LEAVE":
                for week in range(r.start_week, min(year, r.start_week + r.length_weeks - 1) + 1):
                    away[week - 1] += 1
    return away


def half_term_lines(inp: PlannerInput, lines: Sequence[LineLike]) -> int:
    """Lines away for half or more of some term of 10 weeks or more."""
    bounds, week = [], 1
    for length in inp.term_structure:
        bounds.append((week, week + length - 1))
        week += length
    count = 0
    for line in lines:
        lost = [0] * len(bounds)
        for r in line.rotations:
            if r.kind != "LEAVE":
                continue
            for w in range(r.start_week, r.start_week + r.length_weeks):
                for t, (a, b) in enumerate(bounds):
                    lost[t] += a <= w <= b
        terms = inp.term_structure
        count += any(terms[t] >= LONG_TERM_WEEKS and 2 * lost[t] >= terms[t] for t in range(len(terms)) if lost[t])
    return count


def figures(inp: PlannerInput, lines: Sequence[LineLike]) -> dict[str, Any]:
    """``result_metadata.quality``: every figure above."""
    n_terms = len(inp.term_structure)
    by_id = {p.id: p for p in inp.positions}
    grid = [held_by_term(line, n_terms) for line in lines]
    distances = pairwise_distances(grid)
    held = [[by_id.get(pid) if pid is not None else None for pid in row] for row in grid]
    per_line = [specialties(row) for row in held]
    away = leave_by_week(inp, lines)
    return {
        "lines": len(lines),
        "min_pairwise_distance": min(distances, default=None),
        "mean_pairwise_distance": round(sum(distances) / len(distances), 3) if distances else None,
        "pairs_differing_in_one_term": sum(d == 1 for d in distances),
        "specialties_per_line": _histogram([len(c) for c in per_line]),
        "most_terms_of_one_specialty": _histogram([max(c.values(), default=0) for c in per_line]),
        "rural_terms_per_line": _histogram([sum(p is not None and p.is_rural for p in row) for row in held]),
        "leave_by_week": away,
        "lines_on_leave_in_week_1": away[0] if away else 0,
        "lines_working_half_a_long_term": half_term_lines(inp, lines),
    }
