"""Small planner runs for tests: positions, inputs, and a solve whose lines are always checked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from daemon.checks.planner import check_lines
from daemon.planner.data import PlannerInput, Position
from daemon.planner.result import GeneratedLine
from daemon.planner.solve import solve
from daemon.solving import SolveContext, SolveOutcome

FOUR_TERMS = (13, 13, 13, 13)
VIC_TERMS = (10, 10, 10, 10, 12)


def pos(pid: str, specialty: str | None = None, **fields: Any) -> Position:
    """A team-based position covering every category, its own specialty unless given."""
    defaults: dict[str, Any] = {"experience_categories": ("A", "B", "C", "D")}
    return Position(id=pid, name=pid, parent_specialty=specialty or pid, **{**defaults, **fields})


def filler(pid: str, specialty: str | None = None, **fields: Any) -> Position:
    """An excludable position: lines may use it, demand does not need it."""
    return pos(pid, specialty, excludable=True, **fields)


def run(positions: list[Position], n: int = 1, **fields: Any) -> PlannerInput:
    base: dict[str, Any] = {"term_structure": FOUR_TERMS, "max_seconds": 10.0}
    return PlannerInput(
        run_id="run",
        allocation_run_id="alloc",
        n_job_lines=n,
        positions=tuple(positions),
        **{**base, **fields},
    )


def solve_checked(inp: PlannerInput) -> SolveOutcome:
    """Solve, failing the test on a modelling bug.

    ``solve`` runs the independent checker on its own lines and, rather than return a
    non-compliant line, ends FAILED with status CHECK_FAILED ("internal error: ..."). Checking
    the lines of a COMPLETED run again here could never fail; what can slip through is that
    FAILED, read by a test as just another way of not building lines.
    """
    out = solve(inp, SolveContext())
    assert out.metadata.get("status") != "CHECK_FAILED", out.error
    assert not (out.error or "").startswith("internal error"), out.error
    return out


def lines_of(out: SolveOutcome) -> tuple[GeneratedLine, ...]:
    assert out.status == "COMPLETED", out.error
    lines: tuple[GeneratedLine, ...] = out.payload
    return lines


def held(line: GeneratedLine) -> list[str]:
    """Position ids of a line, in term order."""
    return [r.position_id or "" for r in sorted(line.clinical, key=lambda r: r.term_index or 0)]


def rejected_without(
    inp: PlannerInput, rule: tuple[str, ...], base: tuple[str, ...] = ()
) -> tuple[SolveOutcome, list[str]]:
    """Solve under ``base + rule`` and under ``base`` alone; returns the constrained outcome
    and what the checker, under the rule, says of the lines found without it."""
    constrained = solve_checked(replace(inp, constraints=base + rule))
    free = lines_of(solve_checked(replace(inp, constraints=base or ("UNRESTRICTED",))))
    return constrained, check_lines(replace(inp, constraints=base + rule), free)


def count_held(inp: PlannerInput, line: GeneratedLine, flag: str) -> int:
    """Terms of ``line`` in positions whose boolean field ``flag`` is set."""
    by_id = {p.id: p for p in inp.positions}
    return sum(bool(getattr(by_id[pid], flag)) for pid in held(line))
