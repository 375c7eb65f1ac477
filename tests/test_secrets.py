"""The database password never reaches a log line or a terminal (issue 9).

A password with a stray ``%`` makes libpq reject the URI, and libpq's error message then quotes
the password: psycopg_pool logged it on every reconnection attempt, and ``status``/``migrate``
printed it in their tracebacks. Each command runs as a real process against a port nothing
listens on, and everything it writes to stdout and stderr is read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "TopSecret%zz"
URL = f"postgresql://rcd:{PASSWORD}@127.0.0.1:1/db"
PS_WARNING = "--database-url carries a password"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")}
    return {**env, **extra}


def assert_no_password(output: str) -> None:
    assert "TopSecret" not in output, output[-5000:]
    assert "topsecret" not in output.lower(), output[-5000:]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_the_daemon_never_logs_the_password(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "daemon.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daemon.cli", "run", "--database-url", URL, "--log-format", fmt],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
        try:
            # psycopg_pool retries about once a second, logging libpq's message each time.
            deadline = time.monotonic() + 30
            while out.read_text().count("error connecting") < 3 and time.monotonic() < deadline:
                assert proc.poll() is None, out.read_text()
                time.sleep(0.2)
        finally:
            # The daemon waits a minute for its first connection, SIGTERM or not; nothing to drain.
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    output = out.read_text()
    assert output.count("error connecting in 'receptord'") >= 3, output  # psycopg_pool's own lines
    assert "invalid percent-encoded token" in output, output
    assert_no_password(output)
    assert PS_WARNING in output


@pytest.mark.parametrize("command", ["status", "migrate"])
@pytest.mark.parametrize("fmt", ["json", "console"])
def test_status_and_migrate_never_print_the_password(command: str, fmt: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "daemon.cli", command, "--database-url", URL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(RECEPTORD_LOG_FORMAT=fmt),
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # a URL libpq cannot parse is bad configuration
    assert "invalid percent-encoded token" in output, output  # the error itself is still told
    assert_no_password(output)
    assert PS_WARNING in proc.stderr


def test_no_ps_warning_when_the_password_comes_from_the_environment() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(DATABASE_URL=URL, RECEPTORD_LOG_FORMAT="json"),
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # a URL libpq cannot parse is bad configuration
    assert "invalid percent-encoded token" in output, output
    assert_no_password(output)
    assert PS_WARNING not in output


@pytest.mark.parametrize(
    ("url", "text", "hidden"),
    [
        (URL, 'invalid percent-encoded token: "TopSecret%zz"', ["TopSecret%zz"]),
        ("postgresql://u:p%40ss-word@h/db", "auth failed for p@ss-word (p%40ss-word, p%2540ss-word)", ["p@ss", "p%40"]),
        ("postgresql://u:s3cr%2Fet@h/db", "s3cr/et s3cr%2Fet s3cr%2fet", ["s3cr"]),
        ("postgresql://u@h/db?sslmode=require&password=qu3ry-pw", "bad qu3ry-pw", ["qu3ry"]),
        ("host=h user=u password='my \\'pw\\' x'", "failed: my 'pw' x; 'my \\'pw\\' x'", ["'pw'", "\\'pw"]),
        ("host=h user=u password=kv-pw dbname=x", "password=kv-pw", ["kv-pw"]),
        ("postgresql://u:p@ss@h/db", "p@ss", ["p@ss"]),
    ],
)
def test_scrub_removes_every_form_of_the_password(url: str, text: str, hidden: list[str]) -> None:
    from daemon.db import scrub

    scrubbed = scrub(text, url)
    for fragment in hidden:
        assert fragment not in scrubbed, scrubbed
    assert "***" in scrubbed


def test_scrub_leaves_text_alone_without_a_password() -> None:
    from daemon.db import password_forms, scrub

    assert password_forms("postgresql://u@h/db") == []
    assert password_forms("") == []
    assert scrub("connection to h failed", "postgresql://u@h/db") == "connection to h failed"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_every_log_value_and_exception_is_scrubbed(fmt: str) -> None:
    """The log's one choke point: structlog and stdlib loggers, values, messages, exceptions."""
    script = f"""
import logging
from daemon import log
log.configure({fmt!r}, "info", database_url={URL!r})
log.get("t").info("value", error="token: TopSecret%zz", nested={{"a": ["TopSecret%zz"]}})
logging.getLogger("psycopg.pool").warning("error connecting in 'x': %s", "TopSecret%zz")
try:
    raise ValueError("bad TopSecret%zz")
except ValueError:
    log.get("t").exception("boom")
    logging.getLogger("other").exception("boom")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("***") >= 5, proc.stderr  # the password was there, each time
    assert_no_password(proc.stdout + proc.stderr)


def test_a_password_under_a_percent_encoded_keyword_is_scrubbed() -> None:
    """libpq decodes query keys too: pass%77ord= is password=, and its error quotes the value."""
    from daemon.db import scrub

    url = "postgresql://u@h/db?pass%77ord=hunt%zzer2"
    message = 'invalid percent-encoded token: "hunt%zzer2"'
    assert "hunt%zzer2" not in scrub(message, url)
