"""Offline and export commands: solve a workbook with no database, and write any run in the
database to the same workbook format so a production run can be replayed offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.allocator import xlsx_reader as allocator_reader
from daemon.allocator import xlsx_result as allocator_result
from daemon.allocator import xlsx_writer as allocator_writer
from daemon.allocator.load import load as load_allocator
from daemon.allocator.solve import solve as solve_allocator
from daemon.allocator.stored import read_result, tag_names
from daemon.db import connect, sql_text
from daemon.planner import xlsx_reader as planner_reader
from daemon.planner import xlsx_result as planner_result
from daemon.planner import xlsx_writer as planner_writer
from daemon.planner.load import load as load_planner
from daemon.planner.result import GeneratedLine, Rotation
from daemon.planner.solve import solve as solve_planner
from daemon.solving import BadInput, SolveContext, SolveOutcome
from daemon.text import bounded, printable


def allocate_workbook(source: Path, output: Path | None, threads: int) -> int:
    """`receptord allocate --parse-xlsx IN [--output OUT]`."""

    def write(path: Path, inp: Any, outcome: SolveOutcome) -> None:
        allocator_result.write_result(path, inp, outcome, names=allocator_reader.read_names(source))

    return _solve_workbook(
        source, output, threads, read=allocator_reader.read_workbook, solve=solve_allocator, write=write
    )


def plan_workbook(source: Path, output: Path | None, threads: int) -> int:
    """`receptord plan --parse-xlsx IN [--output OUT]`."""
    return _solve_workbook(
        source,
        output,
        threads,
        read=planner_reader.read_workbook,
        solve=solve_planner,
        write=planner_result.write_result,
    )


def _solve_workbook(
    source: Path,
    output: Path | None,
    threads: int,
    *,
    read: Callable[[Path], Any],
    solve: Callable[[Any, SolveContext], SolveOutcome],
    write: Callable[[Path, Any, SolveOutcome], None],
) -> int:
    try:
        inp = read(source)
        outcome = solve(inp, SolveContext(threads=threads))
    except BadInput as e:
        print(f"{printable(str(source))}: {_shown(str(e))}")
        return 2
    _print_outcome(outcome)
    if output is not None:
        write(output, inp, outcome)
        print(f"written to {output}")
    return 0 if outcome.status == "COMPLETED" else 1


def export_allocator_run(url: str, run_id: str, output: Path) -> int:
    """`receptord export --allocator-run-id ID --output OUT`: the run's input, and its result
    when it has one, in the workbook `allocate --parse-xlsx` reads."""
    with connect(url) as conn:
        try:
            inp = load_allocator(conn, run_id)
        except BadInput as e:
            print(f"cannot export allocator run {printable(run_id)}: {_shown(str(e))}")
            return 2
        names = {
            str(i): n for i, n in conn.execute(sql_text("allocator/names"), {"allocation_run": inp.allocation_run_id})
        }
        row = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
        assert row is not None
        _, status, _, error, metadata = row
        if status == "COMPLETED":
            # The result as the solver returned it: allocations, explanations, seat values.
            result = read_result(conn, run_id)
            outcome = SolveOutcome("COMPLETED", metadata or {}, None, result)
            allocator_result.write_result(output, inp, outcome, names=names, tag_names=tag_names(conn, result))
        else:
            allocator_writer.write_input(output, inp, names=names)
    print(f"allocator run {printable(run_id)} ({status}{': ' + _shown(error) if error else ''}) written to {output}")
    return 0


def export_planner_run(url: str, run_id: str, output: Path) -> int:
    """`receptord export --planner-run-id ID --output OUT`: the run's input, with the lines it
    wrote when it has completed, in the workbook `plan --parse-xlsx` reads."""
    with connect(url) as conn:
        try:
            inp = load_planner(conn, run_id)
        except BadInput as e:
            print(f"cannot export planner run {printable(run_id)}: {_shown(str(e))}")
            return 2
        row = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
        assert row is not None
        _, status, _, error, metadata = row
        if status == "COMPLETED":
            lines: dict[int, tuple[str, str | None, list[Rotation]]] = {}
            for name, order, pathway, kind, start, length, position, term in conn.execute(
                sql_text("planner/lines_of_run"), {"run": run_id}
            ):
                rotation = Rotation(kind, start, length, None if position is None else str(position), term)
                lines.setdefault(order, (name, pathway, []))[2].append(rotation)
            payload = tuple(
                GeneratedLine(name, order, tuple(rs), pathway) for order, (name, pathway, rs) in sorted(lines.items())
            )
            planner_result.write_result(output, inp, SolveOutcome("COMPLETED", metadata or {}, None, payload))
        else:
            planner_writer.write_input(output, inp)
    print(f"planner run {printable(run_id)} ({status}{': ' + _shown(error) if error else ''}) written to {output}")
    return 0


def _print_outcome(outcome: SolveOutcome) -> None:
    meta = outcome.metadata
    print(f"{outcome.status}" + (f": {_shown(outcome.error)}" if outcome.error else ""))
    keys = (
        "status", "method", "objective", "best_bound", "gap", "mean_rank", "worst_rank", "rank_histogram",
        "lines_requested", "lines_built", "unfilled_required_seats", "dropped_positions",
    )  # fmt: skip
    for key in keys:
        if key in meta:
            print(f"  {key}: {_shown(str(meta[key]))}")


def _shown(message: str) -> str:
    """A message quoting the workbook's or the run's text, as printed to the terminal: control
    characters escaped, and bounded like a run's last_error."""
    return bounded(printable(message))
