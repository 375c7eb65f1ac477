"""Poison runs (SPEC §8): every kind of bad input ends FAILED or INFEASIBLE with a message that
names the rows at fault, while the same daemon goes on serving healthy runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from daemon.synthetic import Hospital, seed_allocation
from tests.daemons import FINAL, DaemonProcess, enqueue, wait_final, wait_for

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


def run_and_check(conn: Conn, served: tuple[str, DaemonProcess], run_id: str, statuses: set[str], *words: str) -> str:
    status = wait_final(conn, run_id)
    row = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    error = str(row[0])
    assert status in statuses, (status, error, served[1].log()[-2000:])
    for word in words:
        assert word.lower() in error.lower(), f"{word!r} not in {error!r}"
    assert conn.execute("SELECT count(*) FROM allocator_py_allocations WHERE run_id = %s", (run_id,)).fetchone() == (0,)
    # ... and the daemon still serves healthy runs.
    healthy = seed_allocation(conn, workers=3, lines=2, capacity=2, seed=uuid.uuid4().int)
    assert wait_final(conn, enqueue(conn, healthy.allocation_run)) == "COMPLETED"
    return error


def hospital(conn: Conn, **kw: Any) -> Hospital:
    # One database serves the whole module: every hospital needs ids of its own.
    return seed_allocation(conn, **{"workers": 4, "lines": 3, "capacity": 2, "seed": uuid.uuid4().int, **kw})


Case = Callable[[Conn], tuple[str, set[str], list[str]]]


def unknown_allocation_run(conn: Conn) -> tuple[str, set[str], list[str]]:
    missing = str(uuid.uuid4())
    return enqueue(conn, missing), {"FAILED"}, [missing, "does not exist"]


def no_workers(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    conn.execute("DELETE FROM allocation_run_worker_mappings WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), {"FAILED"}, ["no workers"]


def no_lines(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    conn.execute("DELETE FROM job_lines WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), {"FAILED"}, ["no job lines"]


def worker_with_no_eligible_line(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    outcast = h.workers[0]
    for line in h.lines:
        conn.execute(
            "INSERT INTO job_line_eligibility (job_line, excluded_worker_mapping_ids) VALUES (%s, %s)",
            (line, [outcast]),
        )
    return enqueue(conn, h.allocation_run), {"FAILED", "INFEASIBLE"}, [outcast]


def capacity_below_workers(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn, workers=7, lines=3, capacity=2)
    return enqueue(conn, h.allocation_run), {"FAILED", "INFEASIBLE"}, ["6 seat", "7 workers"]


def too_many_must_fill_lines(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn, workers=2, lines=3, capacity=2)
    conn.execute("UPDATE job_lines SET must_have_workers = true WHERE allocation_run = %s", (h.allocation_run,))
    return enqueue(conn, h.allocation_run), {"FAILED", "INFEASIBLE"}, ["3 must-have", "2 workers"]


def ties_when_disallowed(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    conn.execute("UPDATE preference_worker_job_lines SET rank = 1 WHERE worker_mapping = %s", (h.workers[1],))
    run = enqueue(conn, h.allocation_run, config=Jsonb({"allow_worker_preference_ties": False}))
    return run, {"FAILED"}, ["tied", h.workers[1]]


def preference_outside_the_run(conn: Conn) -> tuple[str, set[str], list[str]]:
    h, other = hospital(conn), hospital(conn)
    conn.execute(
        "INSERT INTO preference_worker_job_lines (worker_mapping, job_line, rank) VALUES (%s, %s, 9)",
        (h.workers[0], other.lines[0]),
    )
    return enqueue(conn, h.allocation_run), {"FAILED"}, [h.workers[0], other.lines[0], "another allocation run"]


def unknown_config_key(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    return (
        enqueue(conn, h.allocation_run, config=Jsonb({"preferencer_wieght": 0.5})),
        {"FAILED"},
        ["preferencer_wieght"],
    )


def wrong_config_type(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    return enqueue(conn, h.allocation_run, config=Jsonb({"max_seconds": "soon"})), {"FAILED"}, ["max_seconds"]


def config_not_an_object(conn: Conn) -> tuple[str, set[str], list[str]]:
    h = hospital(conn)
    return enqueue(conn, h.allocation_run, config=Jsonb([1, 2])), {"FAILED"}, ["config"]


def included_id_outside_the_run(conn: Conn) -> tuple[str, set[str], list[str]]:
    h, stray = hospital(conn), str(uuid.uuid4())
    return enqueue(conn, h.allocation_run, included_job_lines=[stray]), {"FAILED"}, [stray]


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
    included_id_outside_the_run,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input_fails_the_run_with_a_specific_message(
    conn: Conn, served: tuple[str, DaemonProcess], case: Case
) -> None:
    run_id, statuses, words = case(conn)
    run_and_check(conn, served, run_id, statuses, *words)


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
    h = hospital(conn)
    ids = [
        enqueue(
            conn,
            h.allocation_run if row["known_run"] else str(uuid.uuid4()),
            config=Jsonb(row["config"]),
            is_exclusive=row["is_exclusive"],
            priority=row["priority"],
            included_job_lines=[str(uuid.uuid4())] if row["stray_line"] else None,
        )
        for row in rows
    ]
    for run_id in ids:
        status = wait_final(conn, run_id)
        assert status in FINAL
        if status != "COMPLETED":
            error = conn.execute("SELECT last_error FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
            assert error is not None and error[0] and "internal error" not in error[0], error
    wait_for(lambda: "Traceback" not in served[1].log(), 1, "no crash in the daemon")
