"""Load an allocator run from PostgreSQL into a plain ``AllocatorInput``.

Set-based SQL from ``sql/allocator/``; the large preference tables come as binary columns
(see ``db.fetch_columns``). Data problems that SQL sees best (unknown ids, rows of another allocation
run, numbers a float8 cannot hold) are reported here; everything else is validated by the model,
for both loaders alike.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg

from daemon.allocator.config import parse_config
from daemon.allocator.data import (
    AllocatorInput,
    Eligibility,
    JobLine,
    Preferencer,
    RankTable,
    Weighting,
)
from daemon.db import fetch_columns, sql_text, uuid_positions
from daemon.solving import BadInput

# The most digits int() converts (Python's default limit, 4,300; 0 means no limit).
_INT_DIGITS = sys.get_int_max_str_digits() or sys.maxsize


# The columns of a rank query (see ``db.fetch_columns``): who and what as uuids, the rank.
_RANK_COLUMNS = ["S16", "S16", ">f8"]


def ranks(
    conn: psycopg.Connection[Any], name: str, params: dict[str, Any], who: Sequence[str], what: Sequence[str]
) -> RankTable:
    """A (who, what, rank) table from ``sql/<name>.sql``, as indexes into ``who``/``what``.

    The query filters on the id arrays and sends raw uuids: no join for the planner to get
    wrong on a freshly imported run whose statistics are not gathered yet (measured: a join
    on ``unnest(...) WITH ORDINALITY`` took 9 s instead of 2 s for 2.25 M rows before ANALYZE).
    """
    return _rank_table(fetch_columns(conn, sql_text(name), params, _RANK_COLUMNS), who, what)


def _rank_table(columns: list[Any], who: Sequence[str], what: Sequence[str]) -> RankTable:
    who_uuid, what_uuid, rank = columns[: len(_RANK_COLUMNS)]
    return RankTable(uuid_positions(who_uuid, who), uuid_positions(what_uuid, what), rank.astype(np.float64))


def _json_int(digits: str) -> int | float:
    """A JSON integer of the config. jsonb keeps any number exactly (1e5000 is a 5,001-digit
    integer to it); past the digits Python converts to an int, it is an infinite float, which
    the config check then rejects naming its key."""
    return int(digits) if len(digits.lstrip("-")) <= _INT_DIGITS else float(digits)


def load(conn: psycopg.Connection[Any], run_id: str) -> AllocatorInput:
    with conn.transaction():  # one snapshot-consistent read (and the temp table's lifetime)
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _load(conn, run_id)


def _load(conn: psycopg.Connection[Any], run_id: str) -> AllocatorInput:
    row = conn.execute(sql_text("allocator/run"), {"run": run_id}).fetchone()
    if row is None:
        raise BadInput(f"allocator run {run_id} does not exist")
    allocation_run, inc_lines, inc_workers, exclusive, config_text, exists = row
    config = json.loads(config_text, parse_int=_json_int)
    allocation_run = str(allocation_run)
    if not exists:
        raise BadInput(f"allocation run {allocation_run} does not exist (allocator_py_runs.allocation_run_id)")
    if not isinstance(config, dict):
        raise BadInput(f"config must be a JSON object, not {type(config).__name__}")
    base = {"allocation_run": allocation_run, "run": run_id}

    unknown = conn.execute(
        sql_text("allocator/unknown_included"),
        {**base, "included_workers": inc_workers or [], "included_lines": inc_lines or []},
    ).fetchall()
    if unknown:
        listed = ", ".join(f"{what} {x}" for what, x in unknown[:20])
        raise BadInput(f"included ids that are not part of allocation run {allocation_run}: {listed}")
    id_arrays = conn.execute(sql_text("allocator/run_ids"), base).fetchone()
    assert id_arrays is not None  # one row of three arrays, always
    scope = {**base, **dict(zip(("run_workers", "run_lines", "run_preferencers"), id_arrays, strict=True))}
    # The workers' preferences that name another run's job lines are counted by the pass that
    # reads the preferences (worker_prefs.sql), below.
    _check_foreign(conn, scope, preferences=False)

    # Earlier rounds' allocations, as a temp table dropped at commit: in an exclusive round
    # the worker and line queries both subtract them.
    conn.execute(
        sql_text("allocator/earlier_rounds"),
        {**base, "exclusive": exclusive},
    )
    worker_ids = tuple(
        str(r[0])
        for r in conn.execute(sql_text("allocator/workers"), {**base, "included": inc_workers, "exclusive": exclusive})
    )
    if exclusive and not worker_ids:
        held = conn.execute(sql_text("allocator/earlier_round_workers")).fetchone()
        if held and held[0]:
            _check_foreign(conn, scope, preferences=True)  # reported first, as always
            # The row's own config is the user's to mend whatever the rounds did: its error comes
            # first, not a verdict that depends on whether an earlier round has finished yet.
            parse_config(config)
            raise BadInput(
                f"every worker of this round is already allocated by earlier rounds of the allocation run "
                f"({held[0]} workers): there is no one left to allocate"
            )
    lines: list[JobLine] = []
    taken: dict[str, int] = {}
    for lid, name, cap, must, order, n_taken in conn.execute(
        sql_text("allocator/lines"), {**base, "included": inc_lines}
    ):
        lines.append(JobLine(str(lid), name, int(cap), bool(must), int(order)))
        if n_taken:
            taken[str(lid)] = int(n_taken)
    line_ids = tuple(line.id for line in lines)
    ids = {**scope, "workers": list(worker_ids), "lines": list(line_ids)}

    preferencers = tuple(
        Preferencer(str(i), n, mj, mw) for i, n, mj, mw in conn.execute(sql_text("allocator/preferencers"), base)
    )
    preferencer_ids = [p.id for p in preferencers]
    # Earlier rounds on the supervisors' lines outside this run (inside it: ``taken``).
    sup_workers: dict[str, int] = {}
    sup_lines: dict[str, int] = {}
    for pid, n_workers, n_lines in conn.execute(sql_text("allocator/preferencer_rounds"), ids):
        sup_workers[str(pid)] = int(n_workers)
        sup_lines[str(pid)] = int(n_lines)
    # Every worker mapping and job line of the allocation run: no preference row of theirs
    # needs testing against the run's own (see worker_prefs.sql).
    whole_run = set(worker_ids) == set(map(str, scope["run_workers"])) and set(line_ids) == set(
        map(str, scope["run_lines"])
    )
    try:
        # A savepoint: a rank or weight that float8 cannot hold aborts only this, and the rows
        # at fault are then named from the same snapshot.
        with conn.transaction():
            *columns, n_foreign = fetch_columns(
                conn, sql_text("allocator/worker_prefs"), {**ids, "whole_run": whole_run}, _RANK_COLUMNS
            )
            if n_foreign:
                _check_foreign(conn, scope, preferences=True)
            worker_prefs = _rank_table(columns, worker_ids, line_ids)
            preferencer_prefs = ranks(
                conn,
                "allocator/preferencer_prefs",
                {**ids, "preferencers": preferencer_ids},
                preferencer_ids,
                worker_ids,
            )
            weightings = tuple(
                Weighting(str(p), str(w), None if j is None else str(j), float(wt))
                for p, w, j, wt in conn.execute(sql_text("allocator/weightings"), ids)
            )
    except psycopg.errors.NumericValueOutOfRange as e:
        # The cast may fail before the count above: rows of another run are reported first.
        _check_foreign(conn, scope, preferences=True)
        raise _beyond_float8(conn, {**ids, "preferencers": preferencer_ids}, e) from None
    return AllocatorInput(
        run_id=run_id,
        allocation_run_id=allocation_run,
        config=config,
        worker_ids=worker_ids,
        line_ids=line_ids,
        lines=tuple(lines),
        worker_tags={
            str(w): frozenset(str(t) for t in tags) for w, tags in conn.execute(sql_text("allocator/worker_tags"), ids)
        },
        worker_prefs=worker_prefs,
        preferencers=preferencers,
        line_preferencers=tuple(
            (str(j), str(p)) for j, p in conn.execute(sql_text("allocator/line_preferencers"), ids)
        ),
        preferencer_prefs=preferencer_prefs,
        weightings=weightings,
        eligibility=tuple(
            Eligibility(
                str(j),
                frozenset(map(str, iw)),
                frozenset(map(str, ew)),
                frozenset(map(str, it)),
                frozenset(map(str, et)),
            )
            for j, iw, ew, it, et in conn.execute(sql_text("allocator/eligibility"), ids)
        ),
        taken_capacity=taken,
        preferencer_taken_workers=sup_workers,
        preferencer_used_lines=sup_lines,
    )


def _check_foreign(conn: psycopg.Connection[Any], scope: dict[str, Any], *, preferences: bool) -> None:
    """Refuse the run if rows tie it to another allocation run (SPEC §8), naming them.

    Without ``preferences`` the workers' preferences are not searched (worker_prefs.sql
    counts those in its own pass); but once any other row is found, the message lists them
    too, as one query over every kind of row always did.
    """
    query = sql_text("allocator/foreign_rows")
    found = conn.execute(query, {**scope, "preferences": preferences}).fetchall()
    if found and not preferences:
        found = conn.execute(query, {**scope, "preferences": True}).fetchall()
    if found:
        raise BadInput("rows that belong to another allocation run: " + "; ".join(r[0] for r in found))


def _beyond_float8(
    conn: psycopg.Connection[Any], params: dict[str, Any], error: psycopg.errors.NumericValueOutOfRange
) -> BadInput:
    """The ranks and weights that made the float8 cast fail (numeric takes 1e400), named."""
    rows = conn.execute(sql_text("allocator/beyond_float8"), params).fetchall()
    if not rows:  # not a value this query recognises: say what PostgreSQL said
        return BadInput(f"a rank or weight of the run does not fit a double-precision float: {error}")
    named = [f"{column} = {value.normalize():g} ({row})" for column, value, row, _ in rows]
    more = rows[0][3] - len(rows)
    return BadInput(
        "numbers a double-precision float cannot hold (magnitudes from 2.2e-308 to 1.8e308): "
        + ", ".join(named)
        + (f" and {more} more" if more else "")
    )
