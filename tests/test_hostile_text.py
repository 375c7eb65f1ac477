"""Hostile text in run rows (issue 9): terminal escapes in constraint and position names, and
config keys by the megabyte or by the hundred thousand, never reach the DBA's terminal raw nor
make megabyte-sized last_error values, run_events rows or log lines.

Real daemon, real runs: whatever a run's author wrote is echoed only escaped and bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from daemon.planner.hospitals import vic_hospital
from daemon.synthetic import seed_allocation, seed_positions
from tests.daemons import DaemonProcess, enqueue, wait_final
from tests.pg import with_database

Conn = psycopg.Connection[Any]
ROOT = Path(__file__).resolve().parent.parent
CLEAR_SCREEN = "\x1b[2J\x1b[H"
# What a run's last_error may be at most, and a log line (both with room to spare).
LAST_ERROR_MAX = 2100
LOG_LINE_MAX = 20_000
EVENT_MAX = 4000


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[Conn, DaemonProcess]]:
    d = DaemonProcess(db_url, log_dir=tmp_path)
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn, d
    assert d.stop() == 0, d.log()[-3000:]


def plan(conn: Conn, allocation_run: str, constraints: list[str]) -> str:
    row = conn.execute(
        "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, max_seconds) "
        "VALUES (%s, 4, %s, 20) RETURNING id",
        (allocation_run, constraints),
    ).fetchone()
    assert row is not None
    return str(row[0])


def last_error(conn: Conn, run_id: str) -> str:
    row = conn.execute("SELECT last_error FROM receptord_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None and row[0] is not None
    return str(row[0])


def event_details(conn: Conn, run_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT detail::text FROM run_events WHERE run_id = %s ORDER BY id", (run_id,))]


def status_output(db_url: str) -> str:
    env = {**os.environ, "DATABASE_URL": db_url, "RECEPTORD_LOG_FORMAT": "console"}
    proc = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def assert_no_control_characters(text: str) -> None:
    bad = sorted({c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0})
    assert bad == [], f"control characters {bad!r} in:\n{text[-3000:]!r}"


def test_escapes_in_constraint_and_position_names_are_never_echoed_raw(
    served: tuple[Conn, DaemonProcess], db_url: str
) -> None:
    conn, d = served
    allocation_run = seed_positions(conn, vic_hospital(), name="hostile constraint", seed=11)
    by_constraint = plan(conn, allocation_run, [CLEAR_SCREEN])
    positions = list(vic_hospital())
    positions[0] = replace(positions[0], name=f"Ward{CLEAR_SCREEN}\x9b31m\x7f", capacity_by_term=(1,))
    by_position = plan(conn, seed_positions(conn, positions, name="hostile position", seed=12), ["UNRESTRICTED"])

    for run_id, words in [
        (by_constraint, ["unknown constraint name(s): \\x1b[2J\\x1b[H"]),
        (by_position, ["one entry per term (5): Ward\\x1b[2J\\x1b[H\\x9b31m\\x7f"]),
    ]:
        assert wait_final(conn, run_id, timeout=60) == "FAILED", d.log()[-3000:]
        error = last_error(conn, run_id)
        assert_no_control_characters(error)
        for word in words:
            assert word in error, error
        for detail in event_details(conn, run_id):
            assert "\\u001b" not in detail and "\x1b" not in detail, detail

    # Whatever the views hold (here a last_error written behind the daemon's back) is printed
    # escaped by `receptord status`.
    conn.execute(
        "UPDATE allocation_planner_runs SET last_error = %s WHERE id = %s",
        (f"raw {CLEAR_SCREEN}\x1b]0;owned\x07 title", by_position),
    )
    printed = status_output(db_url)
    assert "\\x1b[2J\\x1b[H" in printed, printed
    assert "raw \\x1b[2J\\x1b[H\\x1b]0;owned\\x07 title" in printed, printed
    assert_no_control_characters(printed)


def test_unknown_config_keys_by_the_hundred_thousand_or_megabyte_make_small_messages(
    served: tuple[Conn, DaemonProcess],
) -> None:
    conn, d = served
    h = seed_allocation(conn, workers=3, lines=2, capacity=2, seed=uuid.uuid4().int)
    many = {f"key_{i:06d}": i for i in range(200_000)}
    by_count = enqueue(conn, h.allocation_run, config=Jsonb(many))
    huge_key = "k" * 10_000_000
    by_size = enqueue(conn, h.allocation_run, config=Jsonb({huge_key: 1}))

    assert wait_final(conn, by_count, timeout=120) == "FAILED", d.log()[-3000:]
    error = last_error(conn, by_count)
    assert len(error) <= LAST_ERROR_MAX, len(error)
    assert error.startswith(
        "unknown config key(s): 'key_000000', 'key_000001', 'key_000002', 'key_000003', 'key_000004' "
        "and 199,995 more; valid keys are "
    ), error

    assert wait_final(conn, by_size, timeout=120) == "FAILED", d.log()[-3000:]
    error = last_error(conn, by_size)
    assert len(error) <= LAST_ERROR_MAX, len(error)
    assert error.startswith("unknown config key(s): 'kkkk"), error[:200]
    assert "more characters)'; valid keys are " in error, error

    for run_id in (by_count, by_size):
        sizes = [len(detail) for detail in event_details(conn, run_id)]
        assert sizes and max(sizes) <= EVENT_MAX, sizes

    lines = d.log().splitlines()
    longest = max(lines, key=len)
    assert len(longest) <= LOG_LINE_MAX, (len(longest), longest[:500])
    for line in lines:
        json.loads(line)  # every line still whole JSON after its values were bounded


def test_a_last_error_is_bounded_whatever_writes_it(served: tuple[Conn, DaemonProcess]) -> None:
    """The bound sits where the daemon writes last_error: a huge, hostile value of any key
    (here a wrong type) cannot bypass it."""
    conn, d = served
    h = seed_allocation(conn, workers=3, lines=2, capacity=2, seed=uuid.uuid4().int)
    run_id = enqueue(conn, h.allocation_run, config=Jsonb({"rank_notation": CLEAR_SCREEN + "x" * 3_000_000}))
    assert wait_final(conn, run_id, timeout=120) == "FAILED", d.log()[-3000:]
    error = last_error(conn, run_id)
    assert len(error) <= LAST_ERROR_MAX, len(error)
    assert error.startswith("config key 'rank_notation' must be one of"), error[:300]
    assert error.endswith(" more characters)"), error[-300:]
    assert_no_control_characters(error)
    assert max(len(line) for line in d.log().splitlines()) <= LOG_LINE_MAX


def test_printable_bounded_and_listing() -> None:
    from daemon.text import bounded, listing, printable

    assert printable("a b\tc\nd\x1b[2J\x7f\x9b\u202e e\u2028f") == "a b\\tc\\nd\\x1b[2J\\x7f\\x9b\\u202e e\\u2028f"
    assert printable("Ünïcode and spaces stay") == "Ünïcode and spaces stay"
    assert bounded("short", 10) == "short"
    cut = bounded("x" * 10_000_000, 2000)
    assert len(cut) <= 2000 and cut.endswith(" more characters)"), cut[-60:]
    assert listing(["a", "b"]) == "a, b"
    assert listing([str(i) for i in range(8)], first=3) == "0, 1, 2 and 5 more"
    long = listing(["y" * 1000], show=repr)
    assert len(long) <= 82 and long.startswith("'yyy"), long


def test_config_and_constraint_listings_name_a_few() -> None:
    from daemon.allocator.config import parse_config
    from daemon.planner.rules.registry import resolve
    from daemon.solving import BadInput

    with pytest.raises(BadInput) as config_error:
        parse_config({f"bad_{i}": i for i in range(1000)} | {"z" * 100_000: 1})
    message = str(config_error.value)
    assert "'bad_0', 'bad_1', 'bad_10', 'bad_100', 'bad_101' and 996 more" in message, message[:500]
    assert len(message) < 1000
    with pytest.raises(BadInput) as rules_error:
        resolve([f"NOPE_{i}" for i in range(50_000)], "UNRESTRICTED", "PGY1")
    message = str(rules_error.value)
    assert "NOPE_0, NOPE_1, NOPE_2, NOPE_3, NOPE_4 and 49,995 more; valid names: " in message, message[:500]
    assert len(message) < 1000


@pytest.mark.parametrize("command", ["status", "allocate"])
def test_console_output_of_failing_commands_has_no_raw_control_characters(command: str, db_url: str) -> None:
    """Tracebacks and argument errors quote server messages and user input: a database name
    the server echoes in its FATAL message, a run id."""
    args = (
        ["status", "--database-url", with_database(db_url, "nope\x1b[31m")]
        if command == "status"
        else ["allocate", "--allocator-run-id", "\x1b]0;PWNED\x07\x1b[2J"]
    )
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "RECEPTORD_LOG_FORMAT": "console"},
    )
    assert done.returncode != 0
    assert "nope" in done.stderr or "PWNED" in done.stderr, done.stderr  # the hostile text is shown ...
    assert "\x1b" not in done.stdout + done.stderr, done.stderr  # ... escaped
