"""``receptord explain --allocator-run-id ID [--worker-mapping ID]``: a COMPLETED allocator run's
explanations (issue 11) in plain sentences, per worker, then the lines where one more seat
would lower total dissatisfaction most.

The sentences are ``daemon.allocator.sentences``'s, the same as a result workbook's ``why``
sheet. Worker (and qualification tag) names are read when the connecting role may read them;
the daemon's own role may not, and then workers are shown by their worker mapping ids, which
is said once. Exit 0; 2, with one line, for a run that is not a COMPLETED allocator run with
explanations, or a worker mapping that is not one of the run's workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors

from daemon.allocator.config import parse_config
from daemon.allocator.problem import Allocation, AllocatorResult, SeatValue
from daemon.allocator.sentences import Names, amount, holders, placed, sentence
from daemon.allocator.stored import read_result, tag_names
from daemon.db import connect, sql_text
from daemon.solving import BadInput
from daemon.text import printable

SEAT_LINES = 10  # lines in the "value of a seat" table
NOT_READABLE = "(names are not readable by this role: workers are shown by their worker mapping ids)"


def main(url: str, run_id: str, worker: str | None = None) -> int:
    with connect(url, autocommit=True) as conn:
        status = conn.execute(sql_text("queue/run_status"), {"id": run_id}).fetchone()
        run = conn.execute(sql_text("allocator/run"), {"run": run_id}).fetchone()
        refused = _refusal(run_id, status, run)
        if refused:
            print(refused)
            return 2
        assert status is not None and run is not None
        metadata: dict[str, Any] = status[4]
        allocation_run = str(run[0])
        result = read_result(conn, run_id)
        unassigned = [str(u.get("worker_mapping")) for u in metadata.get("unassigned", ()) if isinstance(u, dict)]
        workers = _workers(result, unassigned)
        if worker is not None and worker not in workers:
            print(f"worker mapping {printable(worker)} is not a worker of allocator run {printable(run_id)}")
            return 2
        names, readable = _names(conn, allocation_run, result)
    exact = bool(metadata.get("explanations", {}).get("exact", True))
    print(f"Allocator run {printable(run_id)}: {printable(str(metadata.get('method', 'solved')))}, " + _basis(exact))
    if not readable:
        print(NOT_READABLE)
    print()
    print(report(result, names, workers, only=worker), end="")
    if worker is None:
        print()
        print(seat_table(result.seat_values, names), end="")
    return 0


def _refusal(run_id: str, status: Sequence[Any] | None, run: Sequence[Any] | None) -> str | None:
    """Why the run cannot be explained (one line), or None. ``status`` is its
    ``queue/run_status`` row, ``run`` its ``allocator/run`` row."""
    shown = printable(run_id)
    if status is None or status[0] != "allocator" or run is None:
        return f"no allocator run {shown}"
    if status[1] != "COMPLETED":
        return f"allocator run {shown} is {printable(str(status[1]))}: only a COMPLETED run has explanations"
    explained = (status[4] or {}).get("explanations")
    if isinstance(explained, dict) and "skipped" in explained:
        return f"allocator run {shown} has no explanations: {printable(str(explained['skipped']))}"
    if not isinstance(explained, dict):
        try:
            off = not parse_config(json.loads(run[4] or "{}")).explain
        except (BadInput, ValueError):
            off = False
        why = "its config sets explain to false" if off else "it completed before explanations were written"
        return f"allocator run {shown} has no explanations: {why}"
    return None


def _workers(result: AllocatorResult, unassigned: Sequence[str]) -> list[str]:
    """The run's workers in id order: those placed, those left unassigned, and any explained."""
    ids = {a.worker for a in result.allocations} | set(unassigned) | {e.worker for e in result.explanations}
    return sorted(ids)


def _names(conn: psycopg.Connection[Any], allocation_run: str, result: AllocatorResult) -> tuple[Names, bool]:
    """Display names, and whether the worker names could be read."""
    lines = {str(i): n for i, n in conn.execute(sql_text("allocator/line_names"), {"allocation_run": allocation_run})}
    try:
        workers = {str(i): n for i, n in conn.execute(sql_text("allocator/names"), {"allocation_run": allocation_run})}
    except errors.InsufficientPrivilege:
        return Names(lines=lines), False
    return Names(workers, lines, tag_names(conn, result)), True


def report(result: AllocatorResult, names: Names, workers: Sequence[str], *, only: str | None = None) -> str:
    """Each worker with explanations (or ``only``): where they went, then one sentence a line."""
    got: dict[str, Allocation] = {a.worker: a for a in result.allocations}
    on_line = holders(result.allocations)
    by_worker: dict[str, list[str]] = {}
    for e in result.explanations:
        by_worker.setdefault(e.worker, []).append(sentence(e, names, on_line))
    out: list[str] = []
    # By name, so a reader finds a doctor (by id when names are not readable).
    shown = [only] if only is not None else sorted((w for w in workers if w in by_worker), key=names.worker)
    for w in shown:
        out.append(placed(w, got.get(w), names))
        rows = by_worker.get(w)
        if rows:
            out += [f"  - {s}" for s in rows]
        else:
            out.append("  Nothing to explain: they ranked no line better than theirs.")
        out.append("")
    if only is None:
        rest = len(workers) - len(shown)
        if not shown:
            out.append("Nothing to explain: every worker got the best line they ranked.")
        elif rest:
            others = "The other worker" if rest == 1 else f"The other {rest} workers"
            out.append(f"{others} got the best line they ranked.")
        if not shown or rest:
            out.append("")
    return "\n".join(out) + ("\n" if out and out[-1] != "" else "")


def seat_table(seats: Sequence[SeatValue], names: Names, *, lines: int = SEAT_LINES) -> str:
    """The lines where one more seat lowers total dissatisfaction most, as a plain table."""
    helping = sorted(
        (s for s in seats if s.one_more_seat_places > 0 or s.one_more_seat > 0),
        key=lambda s: (-s.one_more_seat_places, -s.one_more_seat, s.job_line),
    )
    if not helping:
        return "Value of a seat: one more seat on any line would not lower total dissatisfaction.\n"
    shown = helping[:lines]
    more, fewer = ("falls by", "rises by") if all(s.exact for s in shown) else ("falls by at most", "rises by at least")
    rows = [[names.line(s.job_line), _more(s), _fewer(s)] for s in shown]
    where = "the line" if len(rows) == 1 else f"the {len(rows)} lines"
    text = [f"Value of a seat ({where} where one more seat helps most):"]
    text += _columns(["job line", "one more seat", "one fewer seat"], rows)
    text.append(f"  Total dissatisfaction {more} the first figure with one more seat on the line,")
    text.append(f"  and {fewer} the second with one fewer (-: no seat to take away, or no allocation without it).")
    if any(s.one_more_seat_places or s.one_fewer_seat_leaves_out for s in shown):
        text.append("  (+N placed / N left out: workers left unassigned come first, then dissatisfaction.)")
    if len(helping) > lines:
        text.append(f"  One more seat helps on {len(helping) - lines} more lines.")
    return "\n".join(text) + "\n"


def _more(s: SeatValue) -> str:
    figure = amount(s.one_more_seat)
    return f"+{s.one_more_seat_places} placed, {figure}" if s.one_more_seat_places else figure


def _fewer(s: SeatValue) -> str:
    if s.one_fewer_seat is None:
        return "-"
    figure = amount(s.one_fewer_seat)
    return f"{s.one_fewer_seat_leaves_out} left out, {figure}" if s.one_fewer_seat_leaves_out else figure


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def fmt(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = "  ".join(v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True))
        return f"  {first}  {rest}".rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)]


def _basis(exact: bool) -> str:
    return "exact figures (from the optimum)." if exact else "figures are proven bounds (CP-SAT), not exact."
