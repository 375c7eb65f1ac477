"""Settings that would make a daemon useless or harmful are refused at start, in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from daemon.cli import parser
from daemon.settings import Settings
from tests.daemons import ROOT


def test_defaults_are_valid() -> None:
    assert Settings(database_url="postgresql:///x").problems() == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"solver_processes": 0}, "RECEPTORD_SOLVER_PROCESSES must be at least 1"),
        ({"solver_threads": 0}, "RECEPTORD_SOLVER_THREADS must be at least 1"),
        ({"lease_seconds": 0.0}, "RECEPTORD_LEASE_SECONDS must be positive"),
        ({"heartbeat_seconds": -1.0}, "RECEPTORD_HEARTBEAT_SECONDS must be positive"),
        ({"poll_seconds": 0.0}, "RECEPTORD_POLL_SECONDS must be positive"),
        ({"drain_seconds": -1.0}, "RECEPTORD_DRAIN_SECONDS must not be negative"),
        ({"solve_grace_seconds": float("nan")}, "RECEPTORD_SOLVE_GRACE_SECONDS must not be negative"),
        ({"heartbeat_seconds": 30.0}, "RECEPTORD_LEASE_SECONDS=30 must be at least 3 x RECEPTORD_HEARTBEAT_SECONDS=30"),
        ({"heartbeat_seconds": 10.1}, "must be at least 3 x"),
        ({"log_format": "xml"}, "RECEPTORD_LOG_FORMAT must be one of"),
        ({"log_level": "loud"}, "RECEPTORD_LOG_LEVEL must be one of"),
    ],
)
def test_each_bad_setting_is_named(overrides: dict[str, object], named: str) -> None:
    problems = Settings(database_url="postgresql:///x").with_overrides(**overrides).problems()
    assert len(problems) == 1 and named in problems[0], problems


def test_the_old_name_of_solver_processes_still_works_unless_the_new_one_is_set() -> None:
    assert Settings.from_env({"RECEPTORD_POOL_SIZE": "3"}).solver_processes == 3
    both = {"RECEPTORD_POOL_SIZE": "3", "RECEPTORD_SOLVER_PROCESSES": "4"}
    assert Settings.from_env(both).solver_processes == 4
    assert Settings.from_env({}).solver_processes == Settings().solver_processes
    for flag in ("--solver-processes", "--pool-size"):
        assert parser().parse_args(["run", flag, "5"]).solver_processes == 5


def test_the_daemon_refuses_to_start_with_one_line_per_problem() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "run", "--database-url", "postgresql:///x", "--solver-processes", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "receptord: RECEPTORD_SOLVER_PROCESSES must be at least 1, got 0\n"


@pytest.mark.parametrize(
    ("value", "named"), [("lots", "a whole number of pairs, got 'lots'"), ("-1", "not be negative")]
)
def test_a_bad_dense_path_threshold_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    # Read by the solver process from its environment: unchecked, every large allocator run
    # would fail on it instead.
    monkeypatch.setenv("RECEPTORD_DENSE_MAX_PAIRS", value)
    problems = Settings(database_url="postgresql:///x").problems()
    assert len(problems) == 1 and "RECEPTORD_DENSE_MAX_PAIRS must" in problems[0] and named in problems[0]
