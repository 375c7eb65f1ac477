"""Poison runs (SPEC §8): every kind of bad input ends FAILED or INFEASIBLE with a message that
names the rows at fault, while the same daemon goes on serving healthy runs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from daemon.allocator.config import parse_config
from daemon.solving import MAX_NUM_WORKERS, BadInput
from daemon.synthetic import Hospital, seed_allocation
from tests.daemons import DaemonProcess, enqueue, wait_final

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def served(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DaemonProcess]]:
    """One database and one daemon for the whole module: it must survive every poison run."""
    url = pg_server.create_database()
    d = DaemonProcess(url, log_dir=tmp_path_factory.mktemp("poison"))
    yield url, d
    assert d.stop() == 0, d.log()
    pg_server.drop_database(url)


@pytest.fixture
def conn(served: tuple[str, DaemonProcess]) -> Iterator[Conn]:
    with psycopg.connect(served[0], autocommit=True) as c:
        yield c


def log_events(daemon: DaemonProcess) -> list[dict[str, Any]]:
    """The daemon's log: one JSON object a line (--log-format json). Any other line, such as a
    traceback the interpreter printed for an uncaught exception, fails the test."""
    text = daemon.log()
    complete = text[: text.rfind("\n") + 1]  # the child may be writing the last line
    events = []
    for n, line in enumerate(complete.splitlines(), 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"daemon log line {n} is not JSON: {line!r}") from None
        assert isinstance(event, dict), line
        events.append(event)
    return events


def assert_clean_rejections(events: list[dict[str, Any]], run_ids: list[str]) -> None:
    """Bad input is a BadInput with a message, not a crash: the daemon logs no error, and no
    exception, while it rejects it (the runner logs one for anything the solver raises)."""
    errors = [e for e in events if e.get("level") in ("error", "critical") or "exception" in e]
    assert errors == [], errors
    seen = {e.get("run_id") for e in events}
    missing = [r for r in run_ids if r not in seen]
    assert missing == [], f"no log event names runs {missing}: the log is not what this test reads"


def final_error(conn: Conn, run_id: str) -> tuple[str, str | None]:
    status = wait_final(conn, run_id)
    row = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return status, row[0]


def assert_no_allocations(conn: Conn, run_id: str) -> None:
    assert conn.execute("SELECT count(*) FROM allocator_py_allocations WHERE run_id = %s", (run_id,)).fetchone() == (0,)


def assert_serves_healthy_runs(conn: Conn) -> None:
    healthy = seed_allocation(conn, workers=3, lines=2, capacity=2, seed=uuid.uuid4().int)
    run_id = enqueue(conn, healthy.allocation_run)
    assert final_error(conn, run_id) == ("COMPLETED", None)


def hospital(conn: Conn, **kw: Any) -> Hospital:
    # One database serves the whole module: every hospital needs ids of its own.
    return seed_allocation(conn, **{"workers": 4, "lines": 3, "capacity": 2, "seed": uuid.uuid4().int, **kw})


# A case enqueues one bad run; it returns the run id, the one status it must end in (INFEASIBLE
# for a proven impossibility, FAILED for bad data) and the parts of last_error that name the
# fault (the key, the rows) for an administrator to fix.
Case = Callable[[Conn], tuple[str, str, list[str]]]


def unknown_allocation_run(conn: Conn) -> tuple[str, str, list[str]]:
    missing = str(uuid.uuid4())
    run = enqueue(conn, missing)
    return run, "FAILED", [f"allocation run {missing} does not exist (allocator_py_runs.allocation_run_id)"]


def no_workers(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    conn.execute("DELETE FROM allocation_run_worker_mappings WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), "FAILED", ["the run has no workers (check included_worker_mappings)"]


def no_lines(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    conn.execute("DELETE FROM job_lines WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), "FAILED", ["the run has no job lines (check included_job_lines)"]


def worker_with_no_eligible_line(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    outcast = h.workers[0]
    for line in h.lines:
        conn.execute(
            "INSERT INTO job_line_eligibility (job_line, excluded_worker_mapping_ids) VALUES (%s, %s)",
            (line, [outcast]),
        )
    return enqueue(conn, h.allocation_run), "INFEASIBLE", [f"have no eligible job line with seats left: {outcast}"]


def capacity_below_workers(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn, workers=7, lines=3, capacity=2)
    return enqueue(conn, h.allocation_run), "INFEASIBLE", ["total capacity is 6 seat(s) for 7 workers"]


def too_many_must_fill_lines(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn, workers=2, lines=3, capacity=2)
    conn.execute("UPDATE job_lines SET must_have_workers = true WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), "INFEASIBLE", ["3 must-have job lines but only 2 workers"]


def ties_when_disallowed(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    conn.execute("UPDATE preference_worker_job_lines SET rank = 1 WHERE worker_mapping = %s", (h.workers[1],))
    run = enqueue(conn, h.allocation_run, config=Jsonb({"allow_worker_preference_ties": False}))
    return run, "FAILED", ["tied worker preferences while allow_worker_preference_ties is false", f"({h.workers[1]}, "]


def preference_outside_the_run(conn: Conn) -> tuple[str, str, list[str]]:
    h, other = hospital(conn), hospital(conn)
    conn.execute(
        "INSERT INTO preference_worker_job_lines (worker_mapping, job_line, rank) VALUES (%s, %s, 9)",
        (h.workers[0], other.lines[0]),
    )
    return (
        enqueue(conn, h.allocation_run),
        "FAILED",
        [
            "rows that belong to another allocation run: ",
            f"preference of worker mapping {h.workers[0]} for job line {other.lines[0]} "
            f"of allocation run {other.allocation_run}",
        ],
    )


def unknown_config_key(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    return (
        enqueue(conn, h.allocation_run, config=Jsonb({"preferencer_wieght": 0.5})),
        "FAILED",
        ["unknown config key(s): 'preferencer_wieght'; valid keys are "],
    )


def wrong_config_type(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    run = enqueue(conn, h.allocation_run, config=Jsonb({"max_seconds": "soon"}))
    return run, "FAILED", ["config key 'max_seconds' must be a number, got 'soon'"]


def config_not_an_object(conn: Conn) -> tuple[str, str, list[str]]:
    h = hospital(conn)
    return enqueue(conn, h.allocation_run, config=Jsonb([1, 2])), "FAILED", ["config must be a JSON object, not list"]


def more_search_workers_than_cp_sat_takes(conn: Conn) -> tuple[str, str, list[str]]:
    # CP-SAT (line caps, and the fallback for stability) calls so many workers an invalid model:
    # a key error, not a crash.
    h = hospital(conn)
    run = enqueue(conn, h.allocation_run, config=Jsonb({"stability": "weak", "num_workers": 100_000}))
    return run, "FAILED", [f"config key 'num_workers' must be within [1, {MAX_NUM_WORKERS}], got 100000"]


def included_id_outside_the_run(conn: Conn) -> tuple[str, str, list[str]]:
    h, stray = hospital(conn), str(uuid.uuid4())
    run = enqueue(conn, h.allocation_run, included_job_lines=[stray])
    return run, "FAILED", [f"included ids that are not part of allocation run {h.allocation_run}: job line {stray}"]


CASES: list[Case] = [
    unknown_allocation_run,
    no_workers,
    no_lines,
    worker_with_no_eligible_line,
    capacity_below_workers,
    too_many_must_fill_lines,
    ties_when_disallowed,
    preference_outside_the_run,
    unknown_config_key,
    wrong_config_type,
    config_not_an_object,
    more_search_workers_than_cp_sat_takes,
    included_id_outside_the_run,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input_fails_the_run_with_a_specific_message(
    conn: Conn, served: tuple[str, DaemonProcess], case: Case
) -> None:
    before = len(log_events(served[1]))
    run_id, expected_status, parts = case(conn)
    status, error = final_error(conn, run_id)
    assert status == expected_status, (status, error)
    assert error is not None
    for part in parts:
        assert part in error, f"{part!r} not in {error!r}"
    assert_no_allocations(conn, run_id)
    # ... the daemon rejected it without crashing, and still serves healthy runs.
    assert_serves_healthy_runs(conn)
    assert_clean_rejections(log_events(served[1])[before:], [run_id])


# Any JSON PostgreSQL can store: jsonb has no \u0000, and UTF-8 no lone surrogates.
storable_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(storable_text, inner, max_size=3),
    max_leaves=6,
)
config_keys = st.sampled_from(
    ["preferencer_weight", "preference_power", "max_seconds", "rng_seed", "allow_worker_preference_ties",
     "rank_notation", "stability", "num_workers", "bogus"]
)  # fmt: skip


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "config": st.dictionaries(config_keys, json_values, max_size=3) | json_values,
                "is_exclusive": st.booleans(),
                "priority": st.integers(-5, 5),
                "stray_line": st.booleans(),
                "known_run": st.booleans(),
            }
        ),
        min_size=5,
        max_size=10,
    )
)
def test_fuzzed_run_rows_all_end_final_and_the_daemon_survives(
    conn: Conn, served: tuple[str, DaemonProcess], rows: list[dict[str, Any]]
) -> None:
    before = len(log_events(served[1]))
    h = hospital(conn)
    runs = []
    for row in rows:
        allocation_run = h.allocation_run if row["known_run"] else str(uuid.uuid4())
        stray = str(uuid.uuid4()) if row["stray_line"] else None
        run_id = enqueue(
            conn,
            allocation_run,
            config=Jsonb(row["config"]),
            is_exclusive=row["is_exclusive"],
            priority=row["priority"],
            included_job_lines=[stray] if stray else None,
        )
        runs.append((run_id, allocation_run, stray, row))
    for run_id, allocation_run, stray, row in runs:
        status, error = final_error(conn, run_id)
        # The config as the daemon reads it back from jsonb.
        stored = conn.execute("SELECT config FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
        assert stored is not None
        config = stored[0]
        got = (status, error)
        if not row["known_run"]:
            expected = f"allocation run {allocation_run} does not exist (allocator_py_runs.allocation_run_id)"
            assert got == ("FAILED", expected)
        elif not isinstance(config, dict):
            assert got == ("FAILED", f"config must be a JSON object, not {type(config).__name__}")
        elif stray:
            expected = f"included ids that are not part of allocation run {allocation_run}: job line {stray}"
            assert got == ("FAILED", expected)
        else:
            try:
                parse_config(config)
            except BadInput as e:
                # The run fails with the validator's message, and that message names a key of the row.
                assert got == ("FAILED", str(e))
                assert any(repr(key) in str(e) for key in config), (config, str(e))
                continue
            # A valid config: solved, unless one of these clean verdicts applies.
            allowed = ["costs too large to solve exactly", "no solution found within max_seconds"]
            if row["is_exclusive"]:
                allowed.append("the run has no workers")  # an earlier exclusive round took them all
            assert status == "COMPLETED" or (
                status == "FAILED" and error is not None and error.startswith(tuple(allowed))
            ), (config, row, got)
    assert_serves_healthy_runs(conn)
    assert_clean_rejections(log_events(served[1])[before:], [r[0] for r in runs])
