"""The planner's payload: generated job lines and their rotations (SPEC §3 ``rotations``).

A CLINICAL rotation spans its whole term; LEAVE rotations overlap the terms they fall in (see
``leave``). A 6-month term is two CLINICAL rotations in one position, consecutive terms. A line
reserved for a pathway carries its name (``job_lines.pathway``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from daemon.planner.leave import LeavePattern
from daemon.planner.problem import Problem


@dataclass(frozen=True)
class Rotation:
    kind: Literal["CLINICAL", "LEAVE"]
    start_week: int  # week of the year, from 1
    length_weeks: int
    position_id: str | None = None  # None for leave
    term_index: int | None = None  # from 0; None for leave


@dataclass(frozen=True)
class GeneratedLine:
    name: str  # "Line 001"
    sort_order: int  # from 1, the order of the names
    rotations: tuple[Rotation, ...]  # by start week, a term's rotation before leave inside it
    pathway: str | None = None  # the pathway the line is reserved for; None: the general pool

    @property
    def clinical(self) -> tuple[Rotation, ...]:
        return tuple(r for r in self.rotations if r.kind == "CLINICAL")

    @property
    def leave(self) -> tuple[Rotation, ...]:
        return tuple(r for r in self.rotations if r.kind == "LEAVE")


def build_lines(
    problem: Problem,
    lines: Sequence[Sequence[int]],
    leave: Sequence[LeavePattern],
    pathways: Sequence[str | None] | None = None,
) -> tuple[GeneratedLine, ...]:
    """``pathways``: each line's pathway name (None: no line is reserved)."""
    width = max(3, len(str(len(lines))))
    out = []
    names = [None] * len(lines) if pathways is None else pathways
    for n, (held, pattern, pathway) in enumerate(zip(lines, leave, names, strict=True), start=1):
        clinical = [
            Rotation("CLINICAL", problem.term_starts[t], problem.terms[t], problem.positions[i].id, t)
            for t, i in enumerate(held)
        ]
        away = [Rotation("LEAVE", b.start_week, b.length_weeks) for b in pattern]
        rotations = sorted(clinical + away, key=lambda r: (r.start_week, r.kind != "CLINICAL"))
        out.append(GeneratedLine(f"Line {n:0{width}d}", n, tuple(rotations), pathway))
    return tuple(out)
