"""Poison values (SPEC §8, issue 9): numbers beyond double precision, NULL entries and 2-D
arrays, unbounded time limits and eligibility naming another run's workers. Each ends FAILED
at its first attempt, with a message naming the column and the row, not as three attempts of
"internal error in the daemon".

The database refuses the arrays and time limits since migration 0008 (``test_schema``), so the
daemon here serves a database without its checks: rows written before 0008 still reach a
daemon, and it must reject them cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.db import sql_text
from daemon.synthetic import Hospital, seed_allocation, seed_positions
from tests.daemons import DaemonProcess, attempts, enqueue, wait_final
from tests.planner.factory import pos
from tests.test_poison import assert_clean_rejections, assert_serves_healthy_runs, log_events

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def served(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DaemonProcess]]:
    url = pg_server.create_database()
    with psycopg.connect(url, autocommit=True) as c:  # no 0008 checks: only the daemon stands in the way
        c.execute(sql_text("schema/0008_input_checks.down"))
    d = DaemonProcess(url, log_dir=tmp_path_factory.mktemp("poison_inputs"))
    yield url, d
    assert d.stop() == 0, d.log()
    pg_server.drop_database(url)


@pytest.fixture
def conn(served: tuple[str, DaemonProcess]) -> Iterator[Conn]:
    with psycopg.connect(served[0], autocommit=True) as c:
        yield c


def hospital(conn: Conn, **kw: Any) -> Hospital:
    return seed_allocation(conn, **{"workers": 4, "lines": 3, "capacity": 2, "seed": uuid.uuid4().int, **kw})


def one(conn: Conn, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


# A case enqueues one bad run and returns its id and the one message it must end FAILED with.
Case = Callable[[Conn], tuple[str, str]]

BEYOND_FLOAT8 = "numbers a double-precision float cannot hold (magnitudes from 2.2e-308 to 1.8e308): "


def shown(value: str) -> str:
    """A value as the message prints it: 1e400 as 1e+400."""
    return value if "e-" in value else value.replace("e", "e+")


def worker_rank(value: str) -> Case:
    def case(conn: Conn) -> tuple[str, str]:
        h = hospital(conn)
        w, j = h.workers[1], h.lines[2]
        conn.execute(
            f"UPDATE preference_worker_job_lines SET rank = {value} WHERE worker_mapping = %s AND job_line = %s", (w, j)
        )
        return enqueue(conn, h.allocation_run), (
            f"{BEYOND_FLOAT8}preference_worker_job_lines.rank = {shown(value)} (worker mapping {w}, job line {j})"
        )

    case.__name__ = f"worker_rank_{value}"
    return case


def supervisor_rank(value: str) -> Case:
    def case(conn: Conn) -> tuple[str, str]:
        h = hospital(conn, supervisors=2)
        w = h.workers[0]
        p = one(
            conn, "SELECT id FROM allocation_run_preferencers WHERE allocation_run = %s ORDER BY name", h.allocation_run
        )
        conn.execute(
            f"UPDATE preference_preferencer_workers SET rank = {value} WHERE preferencer = %s AND worker_mapping = %s",
            (p, w),
        )
        return enqueue(conn, h.allocation_run), (
            f"{BEYOND_FLOAT8}preference_preferencer_workers.rank = {shown(value)} (preferencer {p}, worker mapping {w})"
        )

    case.__name__ = f"supervisor_rank_{value}"
    return case


def weighting(value: str, line: bool) -> Case:
    def case(conn: Conn) -> tuple[str, str]:
        h = hospital(conn, supervisors=1)
        w, j = h.workers[2], h.lines[0] if line else None
        p = one(conn, "SELECT id FROM allocation_run_preferencers WHERE allocation_run = %s", h.allocation_run)
        weighting_id = one(
            conn,
            "INSERT INTO allocation_run_preferencer_weightings (preferencer, worker_mapping, job_line, weight) "
            f"VALUES (%s, %s, %s, {value}) RETURNING id",
            p,
            w,
            j,
        )
        return enqueue(conn, h.allocation_run), (
            f"{BEYOND_FLOAT8}allocation_run_preferencer_weightings.weight = {shown(value)} (weighting {weighting_id}: "
            f"preferencer {p}, worker mapping {w}, {f'job line {j}' if j else 'every job line'})"
        )

    case.__name__ = f"weighting_{value}_{'line' if line else 'every_line'}"
    return case


def many_ranks_beyond_float8(conn: Conn) -> tuple[str, str]:
    h = hospital(conn, workers=6, lines=3)
    conn.execute("UPDATE preference_worker_job_lines SET rank = 1e999 WHERE worker_mapping = ANY(%s)", (h.workers,))
    rows = conn.execute(
        "SELECT worker_mapping, job_line FROM preference_worker_job_lines WHERE worker_mapping = ANY(%s) "
        "ORDER BY worker_mapping, job_line LIMIT 10",
        (h.workers,),
    ).fetchall()
    listed = ", ".join(f"preference_worker_job_lines.rank = 1e+999 (worker mapping {w}, job line {j})" for w, j in rows)
    return enqueue(conn, h.allocation_run), f"{BEYOND_FLOAT8}{listed} and 8 more"


def config_weight_beyond_float8(conn: Conn) -> tuple[str, str]:
    # JSON has no limit: jsonb keeps 1e400 exact, Python reads it back as a 401-digit int.
    h = hospital(conn)
    run = enqueue(conn, h.allocation_run, config=Jsonb({"preferencer_weight": 10**400}))
    return run, "config key 'preferencer_weight' must be a finite number, got 1e+400"


def config_seconds_beyond_python_ints(conn: Conn) -> tuple[str, str]:
    # 1e5000 is more digits than Python converts to an int by default (4,300).
    h = hospital(conn)
    run = one(
        conn,
        """INSERT INTO allocator_py_runs (allocation_run_id, config) VALUES (%s, '{"max_seconds": 1e5000}')
           RETURNING id""",
        h.allocation_run,
    )
    return str(run), "config key 'max_seconds' must be a finite number, got inf"


def eligibility_naming_another_runs_workers(column: str, count: int) -> Case:
    def case(conn: Conn) -> tuple[str, str]:
        h, other = hospital(conn), hospital(conn, workers=count)
        line = h.lines[1]
        name = one(conn, "SELECT name FROM job_lines WHERE id = %s", line)
        conn.execute(
            f"INSERT INTO job_line_eligibility (job_line, {column}) VALUES (%s, %s)",
            (line, [h.workers[0], *other.workers]),
        )
        foreign = sorted(other.workers, key=uuid.UUID)
        more = f" and {count - 3} more" if count > 3 else ""
        return enqueue(conn, h.allocation_run), (
            f"rows that belong to another allocation run: job line {line} ({name}) names worker mappings of "
            f"another allocation run in {column}: {', '.join(foreign[:3])}{more}"
        )

    case.__name__ = f"{column}_naming_{count}_workers_of_another_run"
    return case


def preference_for_another_runs_line(*, also: str) -> Case:
    """A worker's preference for a job line of another allocation run: the load counts these in
    its one pass over the preferences, so the report must not depend on what else is wrong or
    who is included. ``also``: "beyond_float8" (a rank the cast refuses, in a row of the run),
    "eligibility" (another kind of foreign row, listed after it), "not_included" (the worker is
    left out of the run by included_worker_mappings)."""

    def case(conn: Conn) -> tuple[str, str]:
        h, other = hospital(conn), hospital(conn)
        w, j = h.workers[0], other.lines[0]
        conn.execute(
            "INSERT INTO preference_worker_job_lines (worker_mapping, job_line, rank) VALUES (%s, %s, 9)", (w, j)
        )
        expected = f"preference of worker mapping {w} for job line {j} of allocation run {other.allocation_run}"
        included = None
        if also == "beyond_float8":
            conn.execute(
                "UPDATE preference_worker_job_lines SET rank = 1e400 WHERE worker_mapping = %s AND job_line = %s",
                (h.workers[1], h.lines[0]),
            )
        elif also == "eligibility":
            line = h.lines[1]
            conn.execute(
                "INSERT INTO job_line_eligibility (job_line, excluded_worker_mapping_ids) VALUES (%s, %s)",
                (line, [other.workers[0]]),
            )
            name = one(conn, "SELECT name FROM job_lines WHERE id = %s", line)
            expected += (
                f"; job line {line} ({name}) names worker mappings of another allocation run in "
                f"excluded_worker_mapping_ids: {other.workers[0]}"
            )
        else:
            included = [h.workers[1]]
        run = one(
            conn,
            "INSERT INTO allocator_py_runs (allocation_run_id, included_worker_mappings) VALUES (%s, %s) RETURNING id",
            h.allocation_run,
            included,
        )
        return str(run), f"rows that belong to another allocation run: {expected}"

    case.__name__ = f"preference_for_another_runs_line_and_{also}"
    return case


ALLOCATOR_CASES: list[Case] = [
    worker_rank("1e400"),
    worker_rank("1e-400"),
    supervisor_rank("1e400"),
    supervisor_rank("1e-400"),
    weighting("1e400", line=True),
    weighting("-1e-400", line=False),
    many_ranks_beyond_float8,
    config_weight_beyond_float8,
    config_seconds_beyond_python_ints,
    eligibility_naming_another_runs_workers("included_worker_mapping_ids", 1),
    eligibility_naming_another_runs_workers("excluded_worker_mapping_ids", 5),
    preference_for_another_runs_line(also="beyond_float8"),
    preference_for_another_runs_line(also="eligibility"),
    preference_for_another_runs_line(also="not_included"),
]


@pytest.mark.parametrize("case", ALLOCATOR_CASES, ids=[c.__name__ for c in ALLOCATOR_CASES])
def test_allocator_run_fails_at_once_naming_the_rows(conn: Conn, served: tuple[str, DaemonProcess], case: Case) -> None:
    before = len(log_events(served[1]))
    run_id, expected = case(conn)
    assert wait_final(conn, run_id) == "FAILED"
    assert one(conn, "SELECT last_error FROM allocator_py_runs WHERE id = %s", run_id) == expected
    assert attempts(conn, run_id) == 1
    assert one(conn, "SELECT count(*) FROM allocator_py_allocations WHERE run_id = %s", run_id) == 0
    assert_serves_healthy_runs(conn)
    assert_clean_rejections(log_events(served[1])[before:], [run_id])


# (table, column, SQL value, expected last_error): {run} is the planner run; {position} and {id}
# the position given the value.
PLANNER_CASES: list[tuple[str, str, str, str]] = [
    (
        "run",
        "term_structure",
        "'{26,NULL,26}'",
        "allocation_planner_runs.term_structure of run {run}: NULL entries are not allowed, got {{26,NULL,26}}",
    ),
    (
        "run",
        "term_structure",
        "'{{26,26}}'",
        "allocation_planner_runs.term_structure of run {run}: must be a one-dimensional array, got {{{{26,26}}}}",
    ),
    (
        "run",
        "constraints",
        "'{NULL}'",
        "allocation_planner_runs.constraints of run {run}: NULL entries are not allowed, got {{NULL}}",
    ),
    (
        "run",
        "max_seconds",
        "'Infinity'",
        "allocation_planner_runs.max_seconds of run {run}: must be a finite number of seconds, at most 86400, "
        "got Infinity",
    ),
    (
        "run",
        "max_seconds",
        "'NaN'",
        "allocation_planner_runs.max_seconds of run {run}: must be a finite number of seconds, at most 86400, got NaN",
    ),
    (  # a row from before 0008's bound: a deadline a million years away is no deadline
        "run",
        "max_seconds",
        "1e12",
        "allocation_planner_runs.max_seconds of run {run}: must be a finite number of seconds, at most 86400, "
        "got 1000000000000.0",
    ),
    (
        "position",
        "capacity_by_term",
        "'{1,NULL,1,1}'",
        "positions.capacity_by_term: NULL entries are not allowed: {position} ({id}) {{1,NULL,1,1}}",
    ),
    (
        "position",
        "capacity_by_term",
        "'{{1,1},{1,1}}'",
        "positions.capacity_by_term: must be a one-dimensional array: {position} ({id}) {{{{1,1}},{{1,1}}}}",
    ),
    ("position", "cohorts", "'{NULL}'", "positions.cohorts: NULL entries are not allowed: {position} ({id}) {{NULL}}"),
    ("position", "tags", "'{x,NULL}'", "positions.tags: NULL entries are not allowed: {position} ({id}) {{x,NULL}}"),
]


@pytest.mark.parametrize("case", PLANNER_CASES, ids=[f"{c[1]}={c[2][1:-1]}" for c in PLANNER_CASES])
def test_planner_run_fails_at_once_naming_the_column_and_row(
    conn: Conn, served: tuple[str, DaemonProcess], case: tuple[str, str, str, str]
) -> None:
    table, column, value, expected = case
    before = len(log_events(served[1]))
    allocation_run = seed_positions(conn, [pos(f"p{k}") for k in range(4)], name="poison", seed=uuid.uuid4().int)
    position_id = one(conn, "SELECT id FROM positions WHERE allocation_run = %s AND name = 'p2'", allocation_run)
    if table == "position":
        conn.execute(f"UPDATE positions SET {column} = {value} WHERE id = %s", (position_id,))
    # A run that solves but for the one value.
    run_row = {"allocation_run": "%s", "n_job_lines": "1", "term_structure": "'{13,13,13,13}'", "max_seconds": "10"}
    if table == "run":
        run_row[column] = value
    insert = f"INSERT INTO allocation_planner_runs ({', '.join(run_row)}) VALUES ({', '.join(run_row.values())})"
    run_id = str(one(conn, insert + " RETURNING id", allocation_run))
    assert wait_final(conn, run_id) == "FAILED"
    error = one(conn, "SELECT last_error FROM allocation_planner_runs WHERE id = %s", run_id)
    assert error == expected.format(run=run_id, position="p2", id=position_id)
    assert attempts(conn, run_id) == 1
    assert one(conn, "SELECT count(*) FROM job_lines WHERE allocation_run = %s", allocation_run) == 0
    assert_serves_healthy_runs(conn)
    assert_clean_rejections(log_events(served[1])[before:], [run_id])
