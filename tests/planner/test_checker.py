"""The independent checker on hand-made lines: each fault is caught, a good line passes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daemon.checks.planner import check_lines
from daemon.planner.result import GeneratedLine, Rotation
from tests.planner.factory import pos, run

INP = run(
    [pos("a"), pos("b"), pos("c"), pos("d"), pos("e", cohorts=("PGY2",)), pos("n", is_nights=True)], cohort="PGY1"
)


def _line(
    ids: list[str],
    leave: list[tuple[int, int]] | None = None,
    starts: tuple[int, ...] = (1, 14, 27, 40),
    name: str = "Line 001",
) -> GeneratedLine:
    clinical = [Rotation("CLINICAL", s, 13, pid, t) for t, (s, pid) in enumerate(zip(starts, ids, strict=True))]
    away = [Rotation("LEAVE", s, n) for s, n in (leave if leave is not None else [(2, 5)])]
    return GeneratedLine(name, 1, tuple(clinical + away))


def test_a_good_line_passes() -> None:
    assert check_lines(INP, [_line(["a", "b", "c", "d"], [(2, 2), (20, 3)])]) == []


@pytest.mark.parametrize(
    ("line", "fault"),
    [
        (_line(["a", "b", "c"], starts=(1, 14, 27)), "one clinical rotation is needed"),
        (_line(["a", "b", "c", "d"], starts=(1, 14, 27, 41)), "starts week 41"),
        (_line(["a", "b", "c", "zzz"]), "unknown position 'zzz'"),
        (_line(["a", "b", "c", "e"]), "e is not open to cohort PGY1"),
        (_line(["a", "b", "a", "d"]), "position a held in terms [0, 2]"),
        (_line(["a", "b", "c", "d"], [(2, 4)]), "4 weeks of leave, not 5"),
        (_line(["a", "b", "c", "d"], [(2, 1), (20, 2), (40, 2)]), "one block, or 2+3 / 3+2"),
        (_line(["a", "b", "c", "d"], [(2, 1), (20, 4)]), "one block, or 2+3 / 3+2"),
        (_line(["a", "b", "c", "d"], [(2, 2), (16, 3)]), "only 12 weeks between"),
        (_line(["a", "b", "c", "d"], [(11, 5)]), "leave weeks 11-15 are not inside one term"),
    ],
)
def test_faults_are_caught(line: GeneratedLine, fault: str) -> None:
    assert any(fault in v for v in check_lines(INP, [line])), check_lines(INP, [line])


def test_leave_rotations_name_no_position() -> None:
    line = _line(["a", "b", "c", "d"], [])
    bad = replace(line, rotations=(*line.rotations, Rotation("LEAVE", 2, 5, "a", 0)))
    assert any("names a position" in v for v in check_lines(INP, [bad]))


def test_capacity_is_checked_across_lines() -> None:
    lines = [_line(["a", "b", "c", "d"], name="Line 001"), _line(["a", "c", "b", "d"], name="Line 002")]
    assert "a: 2 lines in term 0, capacity 1" in check_lines(INP, lines)


def test_rules_come_from_the_run() -> None:
    line = _line(["a", "b", "c", "n"])
    assert check_lines(INP, [line]) == []
    assert any("NO_NIGHTS" in v for v in check_lines(replace(INP, constraints=("NO_NIGHTS",)), [line]))
    assert check_lines(replace(INP, constraints=("NO_SUCH",)), [line]) == ["unknown constraint names: NO_SUCH"]
