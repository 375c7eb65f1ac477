"""An operational failure of the command line is one line on stderr naming the fix, with an exit
code of its own (issue 13): 2 bad usage or configuration, 3 database unreachable or login refused,
4 schema not at head. ``--debug`` shows the traceback too. Each command runs as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from daemon import migrate
from daemon.db import ROOT
from tests import pg

NOWHERE = "postgresql://rcd@127.0.0.1:1/db"  # nothing listens on port 1
RUN_ID = "00000000-0000-0000-0000-000000000001"
# Revisions are numbered 0001, 0002...: the newest file is head.
HEAD, OLDER = (p.name[:4] for p in sorted((ROOT / "migrations" / "versions").glob("0*.py"), reverse=True)[:2])


def receptord(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")}
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, "RECEPTORD_LOG_FORMAT": "console", **env},
        check=False,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The only line the failed command wrote, with no traceback."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return lines[0]


@pytest.fixture
def empty_url(pg_server: pg.Server) -> Iterator[str]:
    url = pg_server.create_database(migrated=False)
    yield url
    pg_server.drop_database(url)


def test_an_unreachable_database_is_exit_3_in_one_line() -> None:
    for command in ("status", "migrate"):
        proc = receptord(command, DATABASE_URL=NOWHERE)
        assert proc.returncode == 3, proc.stderr
        line = one_line(proc)
        assert line.startswith("receptord: cannot connect to the database: ")
        assert 'connection to server at "127.0.0.1", port 1 failed: Connection refused' in line
        assert "check that the server is running" in line


def test_debug_shows_the_traceback() -> None:
    proc = receptord("--debug", "status", DATABASE_URL=NOWHERE)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("receptord: cannot connect to the database")


def test_a_missing_database_url_is_exit_2() -> None:
    proc = receptord("status")
    assert proc.returncode == 2
    assert one_line(proc) == "receptord: set DATABASE_URL or pass --database-url"


def test_help_is_plain_text() -> None:
    proc = receptord("--help")
    assert proc.returncode == 0
    assert "``" not in proc.stdout
    assert "--debug" in proc.stdout


@pytest.mark.parametrize(
    "command",
    [["run"], ["status"], ["explain", "--allocator-run-id", RUN_ID], ["plan", "--planner-run-id", RUN_ID]],
)
def test_a_database_without_the_schema_is_exit_4(empty_url: str, command: list[str]) -> None:
    proc = receptord(*command, DATABASE_URL=empty_url)
    assert proc.returncode == 4, proc.stderr
    assert one_line(proc) == "receptord: the database has no receptord schema: run `receptord migrate`"


def test_an_older_schema_is_exit_4_naming_both_revisions(db_url: str) -> None:
    assert receptord("migrate", "--downgrade", "--revision", OLDER, DATABASE_URL=db_url).returncode == 0
    for command in ("run", "status"):
        proc = receptord(command, DATABASE_URL=db_url)
        assert proc.returncode == 4, proc.stderr
        assert one_line(proc) == (
            f"receptord: the database schema is at revision {OLDER}, this receptord needs {HEAD}: "
            "run `receptord migrate`"
        )
    assert receptord("migrate", DATABASE_URL=db_url).returncode == 0
    assert receptord("status", DATABASE_URL=db_url).returncode == 0


def test_the_daemon_login_can_read_the_schema_revision(db_url: str) -> None:
    """`run` checks the schema as the least-privilege daemon login it runs as in production."""
    assert migrate.schema_problem(pg.as_daemon(db_url)) is None


def test_a_wrong_password_is_exit_3_without_the_password(pg_server: pg.Server) -> None:
    params = conninfo_to_dict(pg_server.admin_url)
    params["password"] = "Wr0ngPassw0rd"
    params.pop("passfile", None)
    wrong = make_conninfo("", **params)
    try:
        psycopg.connect(wrong).close()
    except psycopg.OperationalError:
        pass
    else:
        pytest.skip("this server lets the test's role in without checking a password (trust or peer)")
    proc = receptord("status", DATABASE_URL=wrong)
    assert proc.returncode == 3, proc.stderr
    line = one_line(proc)
    assert "password authentication failed" in line
    assert "check the user and password" in line
    assert "Wr0ngPassw0rd" not in proc.stdout + proc.stderr
